"""Validation failures that name the field (or row, or node) and the rule broken."""

from __future__ import annotations


class ValidationFailed(ValueError):
    """`errors` maps a field name to its message; nothing was stored."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def commit_or_fail(session) -> None:
    """Commit, turning a constraint the database caught (e.g. a race) into a form error."""
    from flask_babel import gettext as _
    from sqlalchemy.exc import IntegrityError

    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        detail = str(exc.orig).splitlines()[0]
        raise ValidationFailed(
            {"form": _("数据与已有记录冲突，未保存：%(detail)s", detail=detail)}
        ) from exc
