"""自查自评: drafts, submission before the deadline, review, versions and completeness.

Lifecycle of a Submission: draft → submitted → accepted, or → returned → (revised) →
submitted again. Every submit freezes a SubmissionVersion; nothing submitted is changed
afterwards except the organizer's decision on it. Marks are checked by scoring/'s rubric
rules (0..max, on the step), so a self-score is valid exactly when a judge's would be.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.audit import record
from evaluation.models import (
    Campaign,
    EvidenceFile,
    Indicator,
    ReviewComment,
    ReviewDecision,
    SelfScore,
    Stage,
    StageKind,
    StageStatus,
    StoredFile,
    Submission,
    SubmissionStatus,
    SubmissionVersion,
    User,
)
from evaluation.models.base import utcnow
from evaluation.services.errors import ValidationFailed
from evaluation.services.file_store import Upload, check_upload, store_upload
from evaluation.services.indicators import campaign_indicators, walk
from evaluation.services.persistence import commit_or_fail
from evaluation.spreadsheet_text import typed_text, without_controls
from scoring import rubric
from scoring.errors import ScoringError

CENT = Decimal("0.01")
MAX_EVIDENCE_FILES = 20
MAX_REPORT_CHARS = 50_000
MAX_EXPLANATION_CHARS = 500
# A returned report gets at least this long to be revised, even past the stage deadline.
RETURN_GRACE = timedelta(days=7)
EDITABLE = (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED)


@dataclass(frozen=True)
class ScoreInput:
    """What the form sent for one indicator: the raw text, parsed here."""

    points: str
    explanation: str = ""


def self_assessment_stage(session: Session, campaign_id: int) -> Stage | None:
    return session.exec(
        select(Stage).where(
            Stage.campaign_id == campaign_id, Stage.kind == StageKind.SELF_ASSESSMENT
        )
    ).first()


def find_submission(session: Session, campaign_id: int, agency_id: int) -> Submission:
    """The agency's submission, or an unsaved empty draft: looking writes nothing."""
    found = session.exec(
        select(Submission).where(
            Submission.campaign_id == campaign_id, Submission.agency_id == agency_id
        )
    ).first()
    return found or Submission(campaign_id=campaign_id, agency_id=agency_id)


def submission_for(session: Session, campaign_id: int, agency_id: int) -> Submission:
    """The agency's submission, created (as an empty draft) on first use."""
    found = find_submission(session, campaign_id, agency_id)
    if found.id is None:
        found = Submission(campaign_id=campaign_id, agency_id=agency_id)
        session.add(found)
        commit_or_fail(session)
    return found


def deadline_of(session: Session, submission: Submission) -> datetime | None:
    """The moment editing ends for this agency: the stage's close, or a later reopening."""
    stage = self_assessment_stage(session, submission.campaign_id)
    closes = stage.closes_at if stage else None
    if submission.reopened_until and (closes is None or submission.reopened_until > closes):
        return submission.reopened_until
    return closes


def closed_reason(session: Session, submission: Submission, now: datetime | None = None):
    """Why the agency may not edit now (a message), or None when it may."""
    now = now or utcnow()
    if submission.status not in EDITABLE:
        return _(
            "自评材料已提交（状态：%(status)s），不能再修改。", status=_(submission.status.label)
        )
    reopened = submission.reopened_until is not None and submission.reopened_until > now
    if reopened:
        return None
    stage = self_assessment_stage(session, submission.campaign_id)
    if stage is None:
        return _("本次评议没有自查自评阶段。")
    if stage.opens_at and now < stage.opens_at:
        return _("自查自评尚未开始。")
    if stage.status == StageStatus.CLOSED or (stage.closes_at and now >= stage.closes_at):
        return _("自查自评已于截止时间结束；如需补交，请联系评议办重新开放。")
    return None


def require_editable(session: Session, submission: Submission) -> None:
    reason = closed_reason(session, submission)
    if reason:
        raise ValidationFailed({"form": reason})


def leaf_indicators(indicators: list[Indicator]) -> list[Indicator]:
    parents = {node.parent_id for node in indicators}
    return [node for node, _depth in walk(indicators) if node.id not in parents]


def _as_rubric_node(indicator: Indicator) -> rubric.Indicator:
    return rubric.Indicator(
        code=indicator.code,
        name=indicator.name,
        max_points=indicator.max_points,
        kind=indicator.kind.value,
        step=indicator.step,
    )


def check_points(indicator: Indicator, raw: str, field: str | None = None) -> Decimal:
    """A valid mark or ValidationFailed naming the indicator and the rule (from scoring/).

    Also the field inspectors' check (services/inspection_sheets.py): one rule for every mark.
    """
    try:
        return checked_mark(_as_rubric_node(indicator), raw.strip().replace("，", "."))
    except ScoringError as problem:
        raise ValidationFailed({field or f"score-{indicator.id}": str(problem)}) from None


def checked_mark(node, raw: str) -> Decimal:
    """scoring's check of a mark against its indicator, and the two decimals every stored
    mark keeps (the columns do: 7.255 would be stored as 7.26, a mark nobody gave).
    Self-assessment, inspection and peer review alike; raises ScoringError."""
    mark = rubric.check_mark(node, raw)
    if mark != mark.quantize(CENT):
        raise ScoringError(_("%(label)s的得分最多保留两位小数。", label=node.label))
    return mark


def validated_lines(
    leaves: list[Indicator],
    lines: dict[int, tuple[str, str]],
    *,
    points_field: str,
    text_field: str,
    max_text_chars: int,
    too_long: Callable[[Indicator], str],
) -> dict[int, tuple[Decimal | None, str]]:
    """Every (points, text) line checked: {indicator id: (mark or None if blank, text)}.

    All the errors at once, each under its form field (`{points_field}-{id}`,
    `{text_field}-{id}`) and naming its indicator. One rule for the agencies' self-scores
    and the field inspectors' sheets (services/inspection_sheets.py).
    """
    errors, clean = {}, {}
    by_id = {node.id: node for node in leaves}
    for indicator_id, (raw_points, raw_text) in lines.items():
        node = by_id.get(indicator_id)
        if node is None:
            errors[f"{points_field}-{indicator_id}"] = _(
                "指标 %(id)s 不是本次评议的末级指标。", id=indicator_id
            )
            continue
        text = typed_text(raw_text)
        if len(text) > max_text_chars:
            errors[f"{text_field}-{node.id}"] = too_long(node)
        if not raw_points.strip():
            clean[node.id] = (None, text)
            continue
        try:
            clean[node.id] = (check_points(node, raw_points, f"{points_field}-{node.id}"), text)
        except ValidationFailed as failure:
            errors.update(failure.errors)
    if errors:
        raise ValidationFailed(errors)
    return clean


def _validated_scores(
    leaves: list[Indicator], scores: dict[int, ScoreInput]
) -> dict[int, tuple[Decimal | None, str]]:
    return validated_lines(
        leaves,
        {key: (given.points, given.explanation) for key, given in scores.items()},
        points_field="score",
        text_field="explanation",
        max_text_chars=MAX_EXPLANATION_CHARS,
        too_long=lambda node: _(
            "指标 %(code)s「%(name)s」的说明不能超过 %(n)d 字。",
            code=node.code, name=node.name, n=MAX_EXPLANATION_CHARS,
        ),  # fmt: skip
    )


def _apply_draft(
    session: Session, submission: Submission, report_md: str, scores: dict[int, ScoreInput]
) -> None:
    require_editable(session, submission)
    report_md = without_controls(report_md)  # not a WTForms field (see typed_text)
    if len(report_md) > MAX_REPORT_CHARS:
        raise ValidationFailed({"report_md": _("履职报告不能超过 %(n)d 字。", n=MAX_REPORT_CHARS)})
    leaves = leaf_indicators(campaign_indicators(session, submission.campaign_id))
    clean = _validated_scores(leaves, scores)
    existing = {s.indicator_id: s for s in draft_scores(session, submission.id)}
    for indicator_id, (points, explanation) in clean.items():
        row = existing.get(indicator_id)
        if points is None:
            if row is not None:
                session.delete(row)
            continue
        row = row or SelfScore(submission_id=submission.id, indicator_id=indicator_id, points=0)
        row.points, row.explanation = points, explanation
        session.add(row)
    submission.report_md = report_md
    submission.updated_at = utcnow()
    session.add(submission)
    session.flush()


def save_draft(
    session: Session, submission: Submission, report_md: str, scores: dict[int, ScoreInput]
) -> None:
    """Store the report and the self-scores as they are (a draft may be incomplete)."""
    _apply_draft(session, submission, report_md, scores)
    commit_or_fail(session)


def save_and_submit(
    session: Session,
    submission: Submission,
    report_md: str,
    scores: dict[int, ScoreInput],
    user: User,
) -> SubmissionVersion:
    """The form's 提交 button: the edits and the submission in one transaction, or neither."""
    try:
        _apply_draft(session, submission, report_md, scores)
        return submit(session, submission, user)
    except ValidationFailed:
        session.rollback()
        raise


def draft_scores(session: Session, submission_id: int) -> list[SelfScore]:
    return list(
        session.exec(select(SelfScore).where(SelfScore.submission_id == submission_id)).all()
    )


def evidence_files(session: Session, submission_id: int) -> list[tuple[EvidenceFile, StoredFile]]:
    return list(
        session.exec(
            select(EvidenceFile, StoredFile)
            .join(StoredFile, StoredFile.id == EvidenceFile.file_id)
            .where(EvidenceFile.submission_id == submission_id)
            .order_by(EvidenceFile.id)
        ).all()
    )


def add_evidence(
    session: Session, root: Path, submission: Submission, uploads: list[Upload], user: User
) -> list[StoredFile]:
    """All the files of one upload, or none: each is checked before any is kept."""
    require_editable(session, submission)
    for upload in uploads:
        check_upload(upload)
    if len(evidence_files(session, submission.id)) + len(uploads) > MAX_EVIDENCE_FILES:
        raise ValidationFailed(
            {
                "file": _(
                    "每个单位最多上传 %(n)d 个佐证文件，请先删除不需要的文件。",
                    n=MAX_EVIDENCE_FILES,
                )
            }
        )
    stored = []
    for upload in uploads:
        stored.append(store_upload(session, root, upload, user_id=user.id))
        session.add(EvidenceFile(submission_id=submission.id, file_id=stored[-1].id))
    submission.updated_at = utcnow()
    session.add(submission)
    commit_or_fail(session)
    return stored


def remove_evidence(session: Session, submission: Submission, evidence_id: int) -> None:
    require_editable(session, submission)
    row = session.get(EvidenceFile, evidence_id)
    if row is None or row.submission_id != submission.id:
        raise ValidationFailed({"file": _("没有这个佐证文件。")})
    session.delete(row)
    commit_or_fail(session)


def missing_leaves(leaves: list[Indicator], scored: set[int]) -> list[Indicator]:
    # Bonus and deduction items are optional: an agency may have nothing to claim.
    return [n for n in leaves if n.id not in scored and n.kind.value == "normal"]


def _snapshot(session: Session, submission: Submission, leaves: list[Indicator]) -> tuple[str, str]:
    scores = {s.indicator_id: s for s in draft_scores(session, submission.id)}
    score_rows = [
        {
            "indicator_id": node.id,
            "code": node.code,
            "name": node.name,
            "max_points": str(node.max_points),
            "points": str(scores[node.id].points) if node.id in scores else None,
            "explanation": scores[node.id].explanation if node.id in scores else "",
        }
        for node in leaves
    ]
    file_rows = [
        {"file_id": f.id, "name": f.original_name, "size_bytes": f.size_bytes, "sha256": f.sha256}
        for _row, f in evidence_files(session, submission.id)
    ]
    return json.dumps(score_rows, ensure_ascii=False), json.dumps(file_rows, ensure_ascii=False)


def submit(session: Session, submission: Submission, user: User) -> SubmissionVersion:
    """Freeze the draft as the next version, for the organizer to review."""
    require_editable(session, submission)
    errors = {}
    if not submission.report_md.strip():
        errors["report_md"] = _("履职报告不能为空。")
    leaves = leaf_indicators(campaign_indicators(session, submission.campaign_id))
    scored = {s.indicator_id for s in draft_scores(session, submission.id)}
    missing = missing_leaves(leaves, scored)
    if missing:
        errors["scores"] = _(
            "以下指标尚未自评：%(codes)s。",
            codes="、".join(f"{n.code}「{n.name}」" for n in missing),
        )
    if errors:
        raise ValidationFailed(errors)
    scores_json, files_json = _snapshot(session, submission, leaves)
    version = SubmissionVersion(
        submission_id=submission.id,
        number=submission.version_count + 1,
        report_md=submission.report_md,
        scores_json=scores_json,
        files_json=files_json,
        submitted_by=user.id,
    )
    submission.version_count = version.number
    submission.status = SubmissionStatus.SUBMITTED
    submission.reopened_until = None
    submission.updated_at = utcnow()
    session.add_all([version, submission])
    session.flush()
    record(
        session,
        "self_assessment_submitted",
        "submission",
        submission.id,
        {"agency_id": submission.agency_id, "version": version.number},
    )
    commit_or_fail(session)
    return version


def latest_version(session: Session, submission_id: int) -> SubmissionVersion | None:
    return session.exec(
        select(SubmissionVersion)
        .where(SubmissionVersion.submission_id == submission_id)
        .order_by(SubmissionVersion.number.desc())
    ).first()


def versions_of(session: Session, submission_id: int) -> list[SubmissionVersion]:
    return list(
        session.exec(
            select(SubmissionVersion)
            .where(SubmissionVersion.submission_id == submission_id)
            .order_by(SubmissionVersion.number)
        ).all()
    )


def review(
    session: Session,
    submission: Submission,
    reviewer: User,
    decision: ReviewDecision,
    note: str,
    comments: dict[int, str],
) -> SubmissionVersion:
    """Accept the latest version, or return it with comments per indicator."""
    if submission.status != SubmissionStatus.SUBMITTED:
        raise ValidationFailed({"form": _("只有已提交、待审核的材料可以审核。")})
    version = latest_version(session, submission.id)
    note = without_controls(note)  # not a WTForms field (see typed_text)
    comments = {k: text for k, v in comments.items() if (text := typed_text(v))}
    leaf_ids = {n.id for n in leaf_indicators(campaign_indicators(session, submission.campaign_id))}
    errors = {f"comment-{k}": _("指标不属于本次评议。") for k in comments if k not in leaf_ids}
    errors |= {
        f"comment-{k}": _("每条意见不能超过 1000 字。")
        for k, v in comments.items()
        if len(v) > 1000
    }
    if len(note) > 2000:
        errors["note"] = _("审核意见不能超过 2000 字。")
    if decision == ReviewDecision.RETURNED and not (comments or note.strip()):
        errors["note"] = _("退回修改时请至少填写一条意见（总体意见或某项指标的意见）。")
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    version.decision, version.review_note = decision, note.strip()
    version.reviewed_by, version.reviewed_at = reviewer.id, now
    for indicator_id, text in comments.items():
        session.add(ReviewComment(version_id=version.id, indicator_id=indicator_id, comment=text))
    if decision == ReviewDecision.ACCEPTED:
        submission.status = SubmissionStatus.ACCEPTED
    else:
        submission.status = SubmissionStatus.RETURNED
        deadline = deadline_of(session, submission)
        submission.reopened_until = max(filter(None, [deadline, now + RETURN_GRACE]))
    submission.updated_at = now
    session.add_all([version, submission])
    session.flush()
    record(
        session,
        f"self_assessment_{decision.value}",
        "submission",
        submission.id,
        {"agency_id": submission.agency_id, "version": version.number, "comments": len(comments)},
    )
    commit_or_fail(session)
    return version


def reopen(session: Session, submission: Submission, until: datetime) -> None:
    """Let an agency that missed the deadline edit and submit until `until` (organizer only)."""
    if submission.status not in EDITABLE:
        raise ValidationFailed(
            {"until": _("只有草稿或已退回的材料可以重新开放；已提交的请先审核。")}
        )
    if until <= utcnow():
        raise ValidationFailed({"until": _("重新开放的截止时间须晚于现在。")})
    submission.reopened_until = until
    session.add(submission)
    session.flush()
    record(
        session,
        "self_assessment_reopened",
        "submission",
        submission.id,
        {"agency_id": submission.agency_id, "until": until.isoformat()},
    )
    commit_or_fail(session)


def comments_by_indicator(session: Session, version_id: int) -> dict[int, str]:
    rows = session.exec(select(ReviewComment).where(ReviewComment.version_id == version_id)).all()
    return {row.indicator_id: row.comment for row in rows}


def campaign_leaves(session: Session, campaign: Campaign) -> list[Indicator]:
    return leaf_indicators(campaign_indicators(session, campaign.id))


def indicator_paths(session: Session, campaign_id: int) -> dict[int, str]:
    """Each leaf's ancestors' names, for headings like "组织领导 › 责任清单"."""
    indicators = campaign_indicators(session, campaign_id)
    by_id = {n.id: n for n in indicators}
    paths = {}
    for node in indicators:
        names, parent = [], by_id.get(node.parent_id) if node.parent_id else None
        while parent is not None:
            names.append(parent.name)
            parent = by_id.get(parent.parent_id) if parent.parent_id else None
        paths[node.id] = " › ".join(reversed(names))
    return paths
