"""A campaign's scoring policy: sensible defaults from its stages, edited by the organizer,
stored as scoring's plain JSON so that its fingerprint is reproducible years later.

The organizer edits a few settings (`PolicySettings`: stage weights, how many marks are
dropped, judge-group weights, grade lines); `build_policy` turns them into scoring's rule
objects, and every problem comes back naming the field it belongs to.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import Campaign, CampaignPolicy, LiveSession, Stage, StageKind
from evaluation.services.campaigns import stages_of
from evaluation.services.errors import ValidationFailed
from evaluation.services.persistence import commit_or_fail
from scoring import (
    THREE_LEVEL,
    Composition,
    GradeScale,
    GroupWeighting,
    PanelRule,
    PeerReview,
    ScoringError,
    ScoringPolicy,
    StageSpec,
    canonical_json,
    policy_from_plain,
    to_plain,
)

SCORED_KINDS = [kind for kind in StageKind if kind != StageKind.DEPLOYMENT]
# Stages whose marks are trimmed (highest/lowest dropped): every kind but satisfaction.
TRIMMED = [kind.value for kind in SCORED_KINDS if kind != StageKind.PUBLIC_REVIEW]
# (form key, grade name, default line). Names are the organizers' own words and are what
# scoring writes into explanations, so they stay in Chinese in the stored policy.
GRADES = [("excellent", "优秀", Decimal(90)), ("good", "良好", Decimal(80)),
          ("pass", "合格", Decimal(60))]
BELOW = "不合格"
MISSING_CHOICES = ("error", "renormalize")


@dataclass(frozen=True)
class PolicySettings:
    weights: dict[str, Decimal]                  # stage code -> weight (0: not scored)
    drops: dict[str, tuple[int, int]]            # stage code -> (drop highest, drop lowest)
    onsite_groups: str = ""                      # "专家:40 人大代表:30 群众代表:30", or one panel
    missing: str = "error"
    thresholds: dict[str, Decimal] = field(default_factory=dict)   # form key -> line
    excellent_quota: Decimal | None = None       # percent of a group, or no cap


def default_settings(db: Session, campaign: Campaign) -> PolicySettings:
    stages = stages_of(db, campaign.id)
    live = db.exec(
        select(LiveSession).join(Stage).where(Stage.campaign_id == campaign.id)
        .order_by(LiveSession.id)
    ).first()
    drops = {code: (0, 0) for code in TRIMMED}
    drops[StageKind.PEER_REVIEW.value] = (1, 1)
    drops[StageKind.ONSITE_REVIEW.value] = (live.drop_high, live.drop_low) if live else (1, 1)
    return PolicySettings(
        weights={s.kind.value: s.weight for s in stages if s.kind != StageKind.DEPLOYMENT},
        drops=drops,
        thresholds={key: line for key, _name, line in GRADES},
    )


def _panel(drops: tuple[int, int]) -> PanelRule:
    # Too few marks to trim (a small panel, recusals): every mark counts and the result says so.
    return PanelRule(drop_high=drops[0], drop_low=drops[1], places=2, fallback="use_all")


def _stage_rule(code: str, settings: PolicySettings, errors: dict):
    if code == StageKind.PUBLIC_REVIEW.value:
        return THREE_LEVEL
    panel = _panel(settings.drops.get(code, (0, 0)))
    if code == StageKind.PEER_REVIEW.value:
        return PeerReview(rule=panel)
    if code == StageKind.ONSITE_REVIEW.value and settings.onsite_groups.strip():
        try:
            weights = parse_group_weights(settings.onsite_groups)
            return GroupWeighting(weights, rule=panel, missing="renormalize")
        except (ScoringError, ValueError) as error:
            errors["onsite_groups"] = str(error)
    return panel


def parse_group_weights(text: str) -> dict[str, Decimal]:
    """'专家:40, 人大代表：30、群众代表 30' -> {'专家': 40, ...} (full-width marks accepted)."""
    weights = {}
    for item in re.split(r"[,，、;；\s]+(?=[^\d\s:：])", text.strip()):
        match = re.fullmatch(r"\s*([^\s:：\d]+)\s*[:：]?\s*([\d.]+)\s*%?\s*", item)
        if not match:
            raise ValueError(_("无法识别“%(item)s”，应写成“专家:40 人大代表:30”。", item=item))
        weights[match.group(1)] = Decimal(match.group(2))
    return weights


def build_policy(settings: PolicySettings) -> ScoringPolicy:
    """Scoring's rule objects from the settings; ValidationFailed names every bad field."""
    errors: dict[str, str] = {}
    for code, (high, low) in settings.drops.items():
        if high < 0 or low < 0 or high > 5 or low > 5:
            errors[f"drops-{code}"] = _("去掉的最高分、最低分个数应在 0 到 5 之间。")
    weighted = [(code, weight) for code, weight in settings.weights.items() if weight > 0]
    total = sum((weight for _code, weight in weighted), Decimal(0))
    if total != 100:
        errors["weights"] = _("计分阶段权重合计为 %(total)s，必须正好等于 100。", total=total)
    if settings.missing not in MISSING_CHOICES:
        errors["missing"] = _("请选择缺少阶段得分时的处理方式。")
    grading = _grading(settings, errors)
    rules = {code: _stage_rule(code, settings, errors) for code, _weight in weighted}
    if errors:
        raise ValidationFailed(errors)
    try:
        composition = Composition(tuple(StageSpec(code, weight) for code, weight in weighted),
                                  missing=settings.missing)
        tie = (StageKind.ONSITE_REVIEW.value,) if StageKind.ONSITE_REVIEW.value in rules else ()
        return ScoringPolicy(tuple(rules.items()), composition, tie_breakers=tie,
                             grading=grading, name="履职评议计分规则")
    except ScoringError as error:
        raise ValidationFailed({"weights": str(error)}) from error


def _grading(settings: PolicySettings, errors: dict) -> GradeScale | None:
    lines = [(name, settings.thresholds.get(key)) for key, name, _default in GRADES]
    for key, _name, _default in GRADES:
        line = settings.thresholds.get(key)
        if line is None or not 0 <= line <= 100:
            errors[f"threshold-{key}"] = _("分数线应在 0 到 100 之间。")
    if any(f"threshold-{key}" in errors for key, _n, _d in GRADES):
        return None
    values = [line for _name, line in lines]
    if values != sorted(values, reverse=True) or len(set(values)) != len(values):
        errors["threshold-good"] = _("分数线应从优秀到合格依次降低。")
        return None
    quota = settings.excellent_quota
    if quota is not None and not 0 < quota <= 100:
        errors["quota-excellent"] = _("优秀比例应在 0 到 100 之间（留空表示不限）。")
        return None
    quotas = {"优秀": quota} if quota is not None else {}
    return GradeScale(dict(lines), below=BELOW, quotas=quotas)


def settings_from_policy(policy: ScoringPolicy) -> PolicySettings:
    """The editor's view of a stored policy (the inverse of `build_policy`)."""
    rules = dict(policy.stage_rules)
    drops = {code: (0, 0) for code in TRIMMED}
    groups = ""
    for code, rule in rules.items():
        panel = rule.rule if isinstance(rule, PeerReview | GroupWeighting) else rule
        if isinstance(panel, PanelRule):
            drops[code] = (panel.drop_high, panel.drop_low)
        if isinstance(rule, GroupWeighting):
            groups = " ".join(f"{name}:{weight:f}" for name, weight in rule.weights)
    weights = {kind.value: Decimal(0) for kind in SCORED_KINDS}
    weights.update({spec.code: spec.weight for spec in policy.composition.stages})
    grading = policy.grading
    thresholds = dict(grading.thresholds) if grading else {}
    quota = dict(grading.quotas).get("优秀") if grading else None
    return PolicySettings(
        weights=weights, drops=drops, onsite_groups=groups,
        missing=policy.composition.missing,
        thresholds={key: thresholds.get(name, line) for key, name, line in GRADES},
        excellent_quota=quota,
    )


def settings_to_form(settings: PolicySettings) -> dict[str, str]:
    values = {f"weight-{code}": f"{weight:f}" for code, weight in settings.weights.items()}
    for code, (high, low) in settings.drops.items():
        values[f"drop_high-{code}"], values[f"drop_low-{code}"] = str(high), str(low)
    values.update({f"threshold-{key}": f"{line:f}" for key, line in settings.thresholds.items()})
    values["quota-excellent"] = "" if settings.excellent_quota is None else \
        f"{settings.excellent_quota:f}"
    values["onsite_groups"] = settings.onsite_groups
    values["missing"] = settings.missing
    return values


def settings_from_form(form) -> PolicySettings:
    """Parse the editor's (or the what-if panel's) fields; ValidationFailed names each one."""
    errors: dict[str, str] = {}

    def number(key: str, *, optional: bool = False) -> Decimal | None:
        # NFKC: a Chinese input method types full-width digits and point (７５．５), and
        # Decimal takes the digits but not the point (％ becomes %).
        raw = (form.get(key) or "").replace("，", "")
        raw = unicodedata.normalize("NFKC", raw).strip().replace("%", "")
        if not raw and optional:
            return None
        try:
            value = Decimal(raw)
            if not value.is_finite():
                raise InvalidOperation
            return value
        except InvalidOperation:
            errors[key] = _("请输入数字，例如 20 或 12.5。")
            return Decimal(0)

    def count(key: str) -> int:
        raw = (form.get(key) or "0").strip()
        if not raw.isdigit():
            errors[key] = _("请输入 0 到 5 之间的整数。")
            return 0
        return int(raw)

    settings = PolicySettings(
        weights={kind.value: number(f"weight-{kind.value}") for kind in SCORED_KINDS},
        drops={code: (count(f"drop_high-{code}"), count(f"drop_low-{code}")) for code in TRIMMED},
        onsite_groups=(form.get("onsite_groups") or "").strip(),
        missing=form.get("missing") or "error",
        thresholds={key: number(f"threshold-{key}") for key, _name, _line in GRADES},
        excellent_quota=number("quota-excellent", optional=True),
    )
    if errors:
        raise ValidationFailed(errors)
    return settings


def policy_to_json(policy: ScoringPolicy) -> str:
    return canonical_json(policy)


def policy_from_json(text: str) -> ScoringPolicy:
    return policy_from_plain(json.loads(text))


def stored_policy(db: Session, campaign: Campaign) -> CampaignPolicy | None:
    return db.exec(select(CampaignPolicy).where(CampaignPolicy.campaign_id == campaign.id)).first()


def policy_weights_that_differ(db: Session, campaign: Campaign) -> list[tuple[Stage, Decimal]]:
    """Stages whose plan weight is not the one results use: a saved policy has its own.

    Once saved, the policy's weights count (and are frozen with each version); the stage
    plan's weights are only its defaults, so an edit there changes no result.
    """
    stored = stored_policy(db, campaign)
    if stored is None:
        return []
    weights = settings_from_policy(policy_from_json(stored.policy_json)).weights
    return [
        (stage, weights.get(stage.kind.value, Decimal(0)))
        for stage in stages_of(db, campaign.id)
        if stage.kind != StageKind.DEPLOYMENT
        and weights.get(stage.kind.value, Decimal(0)) != stage.weight
    ]


def load_policy(db: Session, campaign: Campaign) -> ScoringPolicy:
    """The stored policy, or the defaults derived from the campaign's stages."""
    stored = stored_policy(db, campaign)
    if stored is not None:
        return policy_from_json(stored.policy_json)
    return build_policy(default_settings(db, campaign))


def save_policy(db: Session, campaign: Campaign, policy: ScoringPolicy, user_id: int | None):
    record = stored_policy(db, campaign) or CampaignPolicy(campaign_id=campaign.id,
                                                           policy_json="", fingerprint="")
    record.policy_json = policy_to_json(policy)
    record.fingerprint = policy.fingerprint
    record.updated_by = user_id
    db.add(record)
    commit_or_fail(db)
    return record


def plain_policy(policy: ScoringPolicy) -> dict:
    return to_plain(policy)
