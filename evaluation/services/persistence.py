"""Saving: commit or fail with a form error, name clashes within a scope, copying fields."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from evaluation.services.errors import ValidationFailed


def commit_or_fail(session) -> None:
    """Commit, turning a constraint the database caught (e.g. a race) into a form error."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        detail = str(exc.orig).splitlines()[0]
        raise ValidationFailed(
            {"form": _("数据与已有记录冲突，未保存：%(detail)s", detail=detail)}
        ) from exc


def is_taken(session, model, exclude_id: int | None = None, **equals) -> bool:
    """True when another row of `model` has these column values (a name within its scope)."""
    query = select(model).where(*(getattr(model, key) == value for key, value in equals.items()))
    return any(row.id != exclude_id for row in session.exec(query).all())


def save_fields(session, obj, fields):
    """Copy a fields dataclass onto `obj` and commit (constraint races become form errors)."""
    for key, value in fields.__dict__.items():
        setattr(obj, key, value)
    session.add(obj)
    commit_or_fail(session)
    return obj
