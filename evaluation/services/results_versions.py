"""Results versions: compose (draft) → certify (a second organizer) → publish → superseded.

A version freezes the policy, the raw marks and the results at composition; certifying and
publishing only change its status. A published version is replaced only by publishing a newer
certified version that names it and gives a reason; the old one stays readable, marked
superseded. Every step is audited (the table is in audit.AUDITED; each step also records an
explicit event naming what happened).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import Session, select

from evaluation.audit import record
from evaluation.models import Campaign, CampaignStatus, ResultsVersion, User, VersionStatus
from evaluation.models.base import utcnow
from evaluation.services.errors import ValidationFailed
from evaluation.services.persistence import commit_or_fail
from evaluation.services.results import compose
from evaluation.services.results_announcement import DEFAULT_APPEAL_DAYS, announcement_text
from evaluation.services.results_data import ComposedResults
from evaluation.services.results_freeze import FrozenView, dumps, freeze
from evaluation.services.results_marks import gather_marks, marks_to_csv
from evaluation.services.results_policy import load_policy, policy_to_json
from evaluation.spreadsheet_text import typed_text

MAX_REASON = 500
MAX_ANNOUNCEMENT = 20000
APPEAL_DAYS = range(1, 61)  # the publish form's rule: 1 to 60 days


class WorkflowRefused(ValidationFailed):
    """The step does not fit the version's state (HTTP 409)."""


class TwoPersonRule(ValidationFailed):
    """The certifier composed the version themself (HTTP 403)."""


def versions_of(db: Session, campaign: Campaign) -> list[ResultsVersion]:
    return list(db.exec(
        select(ResultsVersion).where(ResultsVersion.campaign_id == campaign.id)
        .order_by(ResultsVersion.number.desc())
    ).all())


def published_version(db: Session, campaign_id: int) -> ResultsVersion | None:
    return db.exec(select(ResultsVersion).where(
        ResultsVersion.campaign_id == campaign_id,
        ResultsVersion.status == VersionStatus.PUBLISHED,
    )).first()


def compose_version(db: Session, campaign: Campaign, user: User, *, reason: str = "",
                    now: datetime | None = None) -> ResultsVersion:
    """Compose and freeze a new draft. Once a result is public, a reason is required."""
    return compose_version_and_results(db, campaign, user, reason=reason, now=now)[0]


def compose_version_and_results(db: Session, campaign: Campaign, user: User, *,
                                reason: str = "", now: datetime | None = None,
                                ) -> tuple[ResultsVersion, ComposedResults]:
    """compose_version, and the results it froze: the new version's charts are drawn from
    them (report_jobs.prerender_charts) instead of composing them a second time."""
    reason = typed_text(reason)
    current = published_version(db, campaign.id)
    if current is not None and not reason:
        raise ValidationFailed({"reason": _("已有公布的结果：更正须说明理由。")})
    if len(reason) > MAX_REASON:
        raise ValidationFailed({"reason": _("理由不能超过 %(n)s 个字。", n=MAX_REASON)})
    policy = load_policy(db, campaign)
    marks = gather_marks(db, campaign, [spec.code for spec in policy.composition.stages])
    number = (db.exec(select(func.max(ResultsVersion.number))
                      .where(ResultsVersion.campaign_id == campaign.id)).one() or 0) + 1
    composed = compose(db, campaign, policy, marks=marks, revision=number, status="draft",
                       generated_at=now)
    frozen = freeze(composed)
    version = ResultsVersion(
        campaign_id=campaign.id,
        number=number,
        policy_json=policy_to_json(policy),
        policy_fingerprint=policy.fingerprint,
        results_json=dumps(frozen),
        raw_marks_csv=marks_to_csv(marks),
        audit_head=composed.audit_head,
        composed_by=user.id,
        composed_at=now or utcnow(),
        supersedes_id=current.id if current else None,
        supersede_reason=reason or None,
        announcement=announcement_text(FrozenView(frozen), starts=now or utcnow()),
    )
    db.add(version)
    db.flush()
    record(db, "results.compose", "results_version", version.id,
           {"campaign_id": campaign.id, "number": number,
            "policy_fingerprint": policy.fingerprint, "supersedes": version.supersedes_id})
    commit_or_fail(db)
    return version, composed


def certify(db: Session, version: ResultsVersion, user: User,
            now: datetime | None = None) -> ResultsVersion:
    if version.status != VersionStatus.DRAFT:
        raise WorkflowRefused({"form": _("只有草稿可以复核。")})
    if version.composed_by == user.id:
        raise TwoPersonRule({"form": _("复核须由合成人以外的另一位组织者进行（双人原则）。")})
    version.certified_by, version.certified_at = user.id, now or utcnow()
    version.status = VersionStatus.CERTIFIED
    db.add(version)
    db.flush()
    record(db, "results.certify", "results_version", version.id, {"number": version.number})
    commit_or_fail(db)
    return version


def edit_announcement(db: Session, version: ResultsVersion, text: str) -> ResultsVersion:
    if version.status not in (VersionStatus.DRAFT, VersionStatus.CERTIFIED):
        raise WorkflowRefused({"announcement": _("已公布的公示文本不能再修改。")})
    text = typed_text(text)
    if not text:
        raise ValidationFailed({"announcement": _("公示文本不能为空。")})
    if len(text) > MAX_ANNOUNCEMENT:
        raise ValidationFailed(
            {"announcement": _("公示文本不能超过 %(n)s 个字。", n=MAX_ANNOUNCEMENT)})
    version.announcement = text
    db.add(version)
    commit_or_fail(db)
    return version


def appeal_days_from(typed: str) -> int:
    """The appeal period as typed on the publish form; anything else (blank, -1, 61, "²")
    is refused with the allowed range, not as if nothing had been typed."""
    try:
        days = int(typed.strip())  # full-width digits too, as a Chinese input method types
    except ValueError:  # not a whole number (or thousands of digits)
        days = 0
    _check_appeal_days(days)
    return days


def _check_appeal_days(days: int) -> None:
    if days not in APPEAL_DAYS:
        raise ValidationFailed({"appeal_days": _("申诉期应为 1 到 60 天。")})


def publish(db: Session, version: ResultsVersion, user: User, *,
            appeal_days: int = DEFAULT_APPEAL_DAYS, now: datetime | None = None) -> ResultsVersion:
    """Make a certified version the public one; the one it supersedes stays, marked so."""
    if version.status != VersionStatus.CERTIFIED:
        raise WorkflowRefused({"form": _("只有复核通过的版本可以公布。")})
    _check_appeal_days(appeal_days)
    now = now or utcnow()
    current = published_version(db, version.campaign_id)
    if current is not None:
        if version.supersedes_id != current.id:
            raise WorkflowRefused(
                {"form": _("公布后结果已变化：请重新合成一个更正版本。")})
        current.status = VersionStatus.SUPERSEDED
        db.add(current)
        db.flush()  # free the one-published-version index before taking it
    view = FrozenView.load(version.results_json)
    if version.announcement == announcement_text(view, starts=version.composed_at):
        # Untouched since generated: give it the real publication date and appeal window.
        version.announcement = announcement_text(view, starts=now, appeal_days=appeal_days)
    version.status = VersionStatus.PUBLISHED
    version.published_at = now
    version.appeal_until = now + timedelta(days=appeal_days)
    db.add(version)
    campaign = db.get(Campaign, version.campaign_id)
    campaign.status = CampaignStatus.PUBLISHED
    db.add(campaign)
    db.flush()
    record(db, "results.publish", "results_version", version.id,
           {"number": version.number, "policy_fingerprint": version.policy_fingerprint,
            "supersedes": version.supersedes_id, "reason": version.supersede_reason,
            "published_by": user.id})
    commit_or_fail(db)
    return version
