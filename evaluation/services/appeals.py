"""Appeals: an agency contact appeals a published result within its window; the organizer
records a decision with reasons. Both steps are audited (Appeal is in audit.AUDITED)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import Appeal, AppealStatus, ResultsVersion, User, VersionStatus
from evaluation.models.base import utcnow
from evaluation.services.errors import ValidationFailed
from evaluation.services.persistence import commit_or_fail
from evaluation.services.results_freeze import FrozenView
from evaluation.services.results_versions import WorkflowRefused
from evaluation.spreadsheet_text import typed_text

MAX_TEXT = 2000


def appeals_of(db: Session, version: ResultsVersion) -> list[Appeal]:
    return list(db.exec(select(Appeal).where(Appeal.version_id == version.id)
                        .order_by(Appeal.filed_at)).all())


def agency_in_version(version: ResultsVersion, agency_id: int | None) -> bool:
    return agency_id is not None and FrozenView.load(version.results_json).agency(agency_id) \
        is not None


def appeal_open(version: ResultsVersion, now: datetime | None = None) -> bool:
    return (version.status == VersionStatus.PUBLISHED and version.appeal_until is not None
            and (now or utcnow()) <= version.appeal_until)


def _text(raw: str, field: str) -> str:
    text = typed_text(raw)
    if not text:
        raise ValidationFailed({field: _("请填写理由。")})
    if len(text) > MAX_TEXT:
        raise ValidationFailed({field: _("不能超过 %(n)s 个字。", n=MAX_TEXT)})
    return text


def file_appeal(db: Session, version: ResultsVersion, user: User, text: str,
                now: datetime | None = None) -> Appeal:
    """The contact's own agency only: callers 404 anyone else before getting here."""
    if not agency_in_version(version, user.agency_id):
        raise WorkflowRefused({"form": _("本单位不在该评议结果中。")})
    if not appeal_open(version, now):
        raise WorkflowRefused({"form": _("申诉期已结束或结果尚未公布，不能再提交申诉。")})
    text = _text(text, "text")
    taken = db.exec(select(Appeal).where(Appeal.version_id == version.id,
                                         Appeal.agency_id == user.agency_id)).first()
    if taken is not None:
        raise WorkflowRefused({"text": _("本单位已对该结果提交过申诉。")})
    appeal = Appeal(version_id=version.id, agency_id=user.agency_id, filed_by=user.id,
                    text=text, filed_at=now or utcnow())
    db.add(appeal)
    commit_or_fail(db)
    return appeal


def decide_appeal(db: Session, appeal: Appeal, user: User, status: str, decision: str,
                  now: datetime | None = None) -> Appeal:
    if appeal.status != AppealStatus.PENDING:
        raise WorkflowRefused({"form": _("该申诉已有处理结果。")})
    if status not in (AppealStatus.UPHELD.value, AppealStatus.REJECTED.value):
        raise ValidationFailed({"status": _("请选择处理结果。")})
    # Everything read before anything is set: a lazy load must not flush half a decision.
    text, decided_by = _text(decision, "decision"), user.id
    appeal.decision, appeal.status = text, AppealStatus(status)
    appeal.decided_by, appeal.decided_at = decided_by, now or utcnow()
    db.add(appeal)
    commit_or_fail(db)
    return appeal
