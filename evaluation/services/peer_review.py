"""互评 peer review: the organizer's setup and draw, the agency contact's sheets.

An agency's contact marks the agencies assigned to it (every other agency of its group, or
a balanced random k drawn by `peer_draw`), never its own: the server checks the pair on
every request and the database refuses a self-pair (CHECK not_self). A sheet is a draft
until submitted; submitting writes the raw marks (`Score` rows, reviewer_id = the contact)
and its audit event in one transaction. After the stage's deadline nothing changes unless
the organizer reopens the reviewer's sheets (audited).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.audit import record
from evaluation.models import (
    CampaignAgency,
    Indicator,
    PeerAssignment,
    PeerMarking,
    PeerMode,
    PeerReviewSetup,
    PeerSheetStatus,
    Score,
    Stage,
    StageKind,
    StageStatus,
    User,
)
from evaluation.models.base import utcnow
from evaluation.services.errors import ValidationFailed
from evaluation.services.indicators import campaign_indicators
from evaluation.services.peer_draw import draw_assignments, new_seed
from evaluation.services.persistence import commit_or_fail
from evaluation.services.self_assessment import checked_mark, leaf_indicators
from scoring import rubric
from scoring.errors import ScoringError

TOTAL = "total"  # the key of a sheet's single total mark
CENT = Decimal("0.01")


class PeerRefused(ValidationFailed):
    """A pair the reviewer may not mark (itself, or not assigned): 403, nothing stored."""


@dataclass(frozen=True)
class SetupFields:
    mode: PeerMode
    sample_size: int | None
    marking: PeerMarking
    max_total: Decimal
    step: Decimal | None
    seed: str = ""


@dataclass(frozen=True)
class SheetLine:
    """One mark on a sheet: the total, or one leaf indicator."""

    key: str                    # TOTAL or the indicator id as text
    indicator_id: int | None
    node: rubric.Indicator      # for validation: max, step, and the name in messages
    required: bool


def peer_stage(db: Session, campaign_id: int) -> Stage | None:
    return db.exec(
        select(Stage).where(Stage.campaign_id == campaign_id, Stage.kind == StageKind.PEER_REVIEW)
    ).first()


def setup_of(db: Session, stage: Stage | None) -> PeerReviewSetup | None:
    if stage is None:
        return None
    return db.exec(select(PeerReviewSetup).where(PeerReviewSetup.stage_id == stage.id)).first()


def group_members(db: Session, campaign_id: int) -> dict[str, list[int]]:
    rows = db.exec(select(CampaignAgency).where(CampaignAgency.campaign_id == campaign_id)).all()
    groups: dict[str, list[int]] = {}
    for row in rows:
        groups.setdefault(row.group_name, []).append(row.agency_id)
    return groups


def assignments_of(db: Session, stage: Stage) -> list[PeerAssignment]:
    return list(db.exec(
        select(PeerAssignment).where(PeerAssignment.stage_id == stage.id)
        .order_by(PeerAssignment.reviewer_agency_id, PeerAssignment.target_agency_id)
    ).all())


def has_draft(sheet: PeerAssignment) -> bool:
    return sheet.status == PeerSheetStatus.DRAFT and sheet.draft_json not in ("", "{}")


def _started(sheet: PeerAssignment) -> bool:
    return sheet.status == PeerSheetStatus.SUBMITTED or has_draft(sheet)


def draw_locked(db: Session, stage: Stage) -> bool:
    """True once a reviewer has started: the setup and the draw are then final."""
    return any(_started(sheet) for sheet in assignments_of(db, stage))


# --- the organizer's setup -------------------------------------------------------------

def parse_setup(form) -> SetupFields:
    """The setup form's fields; ValidationFailed names each bad one."""
    errors: dict[str, str] = {}
    try:
        mode = PeerMode(form.get("mode", ""))
    except ValueError:
        errors["mode"], mode = _("请选择评议范围。"), PeerMode.ALL
    try:
        marking = PeerMarking(form.get("marking", ""))
    except ValueError:
        errors["marking"], marking = _("请选择打分方式。"), PeerMarking.TOTAL
    size = None
    if mode == PeerMode.SAMPLE:
        raw = (form.get("sample_size") or "").strip()
        if not raw.isdigit() or not 1 <= int(raw) <= 100:
            errors["sample_size"] = _("每个单位评议的单位数应为 1 到 100 之间的整数。")
        else:
            size = int(raw)
    max_total = _decimal(form.get("max_total") or "100", "max_total", errors)
    if "max_total" not in errors and not Decimal(0) < max_total <= Decimal(1000):
        errors["max_total"] = _("总分满分应在 0 到 1000 之间。")
    raw_step = (form.get("step") or "").strip()
    step = _decimal(raw_step, "step", errors) if raw_step else None
    if step is not None and "step" not in errors and "max_total" not in errors and (
            step <= 0 or step > max_total or max_total % step):
        errors["step"] = _("步长应大于 0 并能整除总分满分，例如 0.5。")
    seed = (form.get("seed") or "").strip()
    if len(seed) > 64:
        errors["seed"] = _("随机种子不能超过 64 个字符。")
    if errors:
        raise ValidationFailed(errors)
    return SetupFields(mode, size, marking, max_total, step, seed)


def _decimal(raw: str, key: str, errors: dict) -> Decimal:
    try:
        value = Decimal(raw.strip())
        if not value.is_finite():
            raise InvalidOperation
        return value
    except InvalidOperation:
        errors[key] = _("请输入数字，例如 100 或 0.5。")
        return Decimal(0)


def set_up(db: Session, stage: Stage, fields: SetupFields, user: User, *,
           now: datetime | None = None) -> PeerReviewSetup:
    """Store the setup and draw the assignments (again), with the seed and the pairs in the
    audit log. Refused once any reviewer has started: redrawing would discard their work."""
    existing = assignments_of(db, stage)
    if any(_started(sheet) for sheet in existing):
        raise ValidationFailed({"form": _("已有单位开始或提交互评，不能重新设置和分配。")})
    groups = group_members(db, stage.campaign_id)
    if not any(len(members) > 1 for members in groups.values()):
        raise ValidationFailed({"form": _("没有两个以上单位的评议分组，无法分配互评。")})
    seed = fields.seed or new_seed()
    size = fields.sample_size if fields.mode == PeerMode.SAMPLE else None
    pairs = draw_assignments(groups, size, seed)
    for sheet in existing:
        db.delete(sheet)
    setup = setup_of(db, stage) or PeerReviewSetup(stage_id=stage.id, mode=fields.mode,
                                                   marking=fields.marking, seed=seed,
                                                   drawn_by=user.id)
    setup.mode, setup.sample_size, setup.marking = fields.mode, size, fields.marking
    setup.max_total, setup.step, setup.seed = fields.max_total, fields.step, seed
    setup.drawn_at, setup.drawn_by = now or utcnow(), user.id
    db.add(setup)
    db.flush()
    db.add_all(PeerAssignment(stage_id=stage.id, reviewer_agency_id=reviewer,
                              target_agency_id=target) for reviewer, target in pairs)
    db.flush()
    record(db, "peer_review_drawn", "stage", stage.id, {
        "mode": fields.mode.value, "sample_size": size, "seed": seed,
        "groups": {name: sorted(members) for name, members in sorted(groups.items())},
        "pairs": [list(pair) for pair in pairs],
    })
    commit_or_fail(db)
    return setup


def reopen(db: Session, stage: Stage, reviewer_agency_id: int, until: datetime,
           user: User) -> int:
    """Let a late reviewer mark its unsubmitted sheets until `until`; how many reopened."""
    if until <= utcnow():
        raise ValidationFailed({"until": _("重新开放的截止时间须晚于现在。")})
    sheets = [s for s in assignments_of(db, stage) if s.reviewer_agency_id == reviewer_agency_id
              and s.status != PeerSheetStatus.SUBMITTED]
    if not sheets:
        raise ValidationFailed({"agency": _("该单位没有未提交的互评，无需重新开放。")})
    for sheet in sheets:
        sheet.reopened_until = until
        db.add(sheet)
    db.flush()
    record(db, "peer_review_reopened", "stage", stage.id, {
        "reviewer_agency_id": reviewer_agency_id, "until": until.isoformat(),
        "sheets": [s.id for s in sheets], "by": user.id,
    })
    commit_or_fail(db)
    return len(sheets)


# --- the agency contact's sheets -------------------------------------------------------

def sheets_of_reviewer(db: Session, stage: Stage, agency_id: int) -> list[PeerAssignment]:
    return [s for s in assignments_of(db, stage) if s.reviewer_agency_id == agency_id]


def sheet_for(db: Session, stage: Stage | None, reviewer_agency_id: int,
              target_agency_id: int) -> PeerAssignment:
    """The reviewer's sheet for the target, or PeerRefused saying why not."""
    if reviewer_agency_id == target_agency_id:
        raise PeerRefused({"form": _("不能对本单位进行互评。")})
    found = None if stage is None else db.exec(select(PeerAssignment).where(
        PeerAssignment.stage_id == stage.id,
        PeerAssignment.reviewer_agency_id == reviewer_agency_id,
        PeerAssignment.target_agency_id == target_agency_id,
    )).first()
    if found is None:
        raise PeerRefused({"form": _("评议办没有安排本单位评议该单位，不能打分。")})
    return found


def deadline_of(stage: Stage, sheet: PeerAssignment) -> datetime | None:
    closes = stage.closes_at
    if sheet.reopened_until and (closes is None or sheet.reopened_until > closes):
        return sheet.reopened_until
    return closes


def closed_reason(stage: Stage, sheet: PeerAssignment, now: datetime | None = None):
    """Why the sheet cannot be edited now (a message), or None when it can."""
    now = now or utcnow()
    if sheet.status == PeerSheetStatus.SUBMITTED:
        return _("已提交，不能再修改。")
    if sheet.reopened_until is not None and sheet.reopened_until > now:
        return None
    if stage.opens_at and now < stage.opens_at:
        return _("互评尚未开始。")
    if stage.status == StageStatus.CLOSED or (stage.closes_at and now >= stage.closes_at):
        return _("互评已截止；如需补评，请联系评议办重新开放。")
    return None


def sheet_lines(db: Session, setup: PeerReviewSetup, campaign_id: int) -> list[SheetLine]:
    if setup.marking == PeerMarking.TOTAL:
        node = rubric.Indicator(code=_("总分"), name=_("互评总分"), max_points=setup.max_total,
                                step=setup.step)
        return [SheetLine(TOTAL, None, node, True)]
    leaves: list[Indicator] = leaf_indicators(campaign_indicators(db, campaign_id))
    return [
        SheetLine(str(leaf.id), leaf.id,
                  rubric.Indicator(code=leaf.code, name=leaf.name, max_points=leaf.max_points,
                                   kind=leaf.kind.value, step=leaf.step),
                  leaf.kind.value == "normal")  # bonus and deduction items are optional
        for leaf in leaves
    ]


def draft_values(sheet: PeerAssignment) -> dict[str, str]:
    try:
        values = json.loads(sheet.draft_json or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {}


def _checked(lines: list[SheetLine], values: dict[str, str], *, complete: bool):
    """{key: Decimal or None}; ValidationFailed naming each indicator and the rule broken."""
    errors, clean = {}, {}
    for line in lines:
        raw = (values.get(line.key) or "").strip().replace("，", ".")
        if not raw:
            clean[line.key] = None
            if complete and line.required:
                # The total is no indicator: scoring's label would say "指标 总分「互评总分」".
                errors[f"mark-{line.key}"] = (
                    _("「互评总分」尚未打分。") if line.key == TOTAL
                    else _("%(label)s尚未打分。", label=line.node.label)
                )
            continue
        try:
            clean[line.key] = checked_mark(line.node, raw)
        except ScoringError as problem:
            errors[f"mark-{line.key}"] = _total_problem(line, raw) or str(problem)
    if errors:
        raise ValidationFailed(errors)
    return clean


def _as_text(clean: dict) -> dict[str, str]:
    """The marks given, as stored in the sheet (blank lines left out)."""
    return {key: f"{mark:f}" for key, mark in clean.items() if mark is not None}


def _total_problem(line: SheetLine, raw: str) -> str | None:
    """The total's own wording (scoring's names an indicator, which a total is not)."""
    if line.key != TOTAL:
        return None
    step = line.node.step or CENT
    return _("总分“%(raw)s”无效：应在 0 到 %(max)s 之间，且为 %(step)s 的整数倍。",
             raw=raw, max=f"{line.node.max_points.normalize():f}", step=f"{step.normalize():f}")


def save_draft(db: Session, stage: Stage, sheet: PeerAssignment, lines: list[SheetLine],
               values: dict[str, str], *, now: datetime | None = None) -> None:
    """Keep the marks typed so far (each one checked; a draft may be incomplete)."""
    now = now or utcnow()
    reason = closed_reason(stage, sheet, now)
    if reason:
        raise ValidationFailed({"form": reason})
    clean = _checked(lines, values, complete=False)
    sheet.draft_json = json.dumps(_as_text(clean))
    sheet.updated_at = now
    db.add(sheet)
    commit_or_fail(db)


def submit(db: Session, stage: Stage, sheet: PeerAssignment, lines: list[SheetLine],
           values: dict[str, str], user: User, *, now: datetime | None = None) -> bool:
    """Submit the sheet: its marks become Score rows. True when stored now; False when the
    same marks were already submitted (a double click or a resent form: nothing changes)."""
    if sheet.status == PeerSheetStatus.SUBMITTED:
        clean = _checked(lines, values, complete=True)
        if _as_text(clean) == draft_values(sheet):
            return False
        raise ValidationFailed({"form": _("已提交，不能再修改。")})
    now = now or utcnow()
    reason = closed_reason(stage, sheet, now)
    if reason:
        raise ValidationFailed({"form": reason})
    clean = _checked(lines, values, complete=True)
    by_key = {line.key: line for line in lines}
    for key, mark in clean.items():
        if mark is None:
            continue
        db.add(Score(stage_id=stage.id, agency_id=sheet.target_agency_id, reviewer_id=user.id,
                     indicator_id=by_key[key].indicator_id, value=mark,
                     client_request_id=f"peer-{sheet.id}-{key}", created_at=now))
    sheet.draft_json = json.dumps(_as_text(clean))
    sheet.status, sheet.submitted_at, sheet.submitted_by = PeerSheetStatus.SUBMITTED, now, user.id
    sheet.updated_at = now
    db.add(sheet)
    db.flush()
    record(db, "peer_review_submitted", "peer_assignment", sheet.id, {
        "stage_id": stage.id, "reviewer_agency_id": sheet.reviewer_agency_id,
        "target_agency_id": sheet.target_agency_id, "marks": len(
            [m for m in clean.values() if m is not None]),
    })
    commit_or_fail(db)
    return True
