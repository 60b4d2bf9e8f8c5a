"""Explanations of a composed total and of one agency's whole result (rank, grade included)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .campaign import AgencyResult
from .composition import CompositionResult
from .explain import Explanation, explain_groups, explain_panel, explain_satisfaction, num
from .groups import GroupResult
from .panel import PanelResult
from .policy import to_plain
from .satisfaction import SatisfactionResult
from .stages import stage_name


def explain_composition(result: CompositionResult) -> Explanation:
    divisor = sum(p.weight for p in result.parts) if result.renormalized else Decimal(100)
    return Explanation(_composition_data(result, divisor),
                       tuple(_composition_lines(result, divisor)))


def _composition_lines(result: CompositionResult, divisor: Decimal) -> list[str]:
    lines = []
    for part in result.parts:
        spec = next(s for s in result.composition.stages if s.code == part.code)
        shown = "" if spec.max_points == 100 and part.normalized == part.raw else \
            f"（满分 {spec.max_points:f}，折合百分制 {part.normalized:f}）"
        lines.append(f"{stage_name(part.code)} {part.raw:f}{shown} × {part.weight:f} / "
                     f"{divisor:f} = {part.product:f}")
    if result.missing:
        names = "、".join(stage_name(code) for code in result.missing)
        lines.append(f"缺少{names}，按已有阶段权重合计 {divisor:f} 重新归一")
    lines.append(f"加权合计 {result.weighted_sum:f}")
    for item in result.adjustments:
        word = "加分" if item.kind == "bonus" else "扣分"
        capped = f"（上限封顶，申报 {item.claimed:f}）" if item.applied != item.claimed else ""
        lines.append(f"{word}项 {item.code} {item.applied:f}{capped}")
    if result.adjustments:
        lines.append(f"加分合计 {result.bonus:f}，扣分合计 {result.deduction:f}（已计总上限）")
    lines.append(f"总分 {result.value:f}")
    return lines


def _composition_data(result: CompositionResult, divisor: Decimal) -> dict[str, Any]:
    rule = result.composition
    return {
        "kind": "composition", "value": num(result.value),
        "weighted_sum": num(result.weighted_sum), "weights_divisor": num(divisor),
        "stages": [{"stage": p.code, "raw": num(p.raw), "normalized": num(p.normalized),
                    "weight": num(p.weight), "product": num(p.product)} for p in result.parts],
        "adjustments": [{"code": a.code, "kind": a.kind, "claimed": num(a.claimed),
                         "applied": num(a.applied)} for a in result.adjustments],
        "bonus": num(result.bonus), "deduction": num(result.deduction),
        "missing": list(result.missing), "renormalized": result.renormalized,
        "rounding": {"stage": rule.stage_places, "product": rule.product_places,
                     "total": rule.places, "mode": "ROUND_HALF_UP"},
        "rule": to_plain(rule), "fingerprint": result.fingerprint,
    }


def explain_stage(result: Any) -> Explanation:
    if isinstance(result, PanelResult):
        return explain_panel(result)
    if isinstance(result, GroupResult):
        return explain_groups(result)
    if isinstance(result, SatisfactionResult):
        return explain_satisfaction(result)
    return Explanation({"kind": "direct", "value": num(result)}, (f"直接得分 {num(result)}",))


def explain_agency(result: AgencyResult) -> Explanation:
    """Every stage, the composition, rank and grade of one agency, with the fingerprint."""
    stages = {code: explain_stage(stage) for code, stage in result.stages.items()
              if stage is not None}
    composition = explain_composition(result.composition)
    lines = [f"【{result.agency}】总分 {result.total:f}"]
    for code, explanation in stages.items():
        lines.extend(f"{stage_name(code)}：{line}" for line in explanation.lines)
    lines.extend(f"合成：{line}" for line in composition.lines)
    lines.extend(_standing_lines(result))
    lines.append(f"评分策略指纹 SHA-256：{result.fingerprint}")
    data = {
        "kind": "agency", "agency": result.agency, "group": result.group,
        "total": num(result.total), "stages": {c: e.data for c, e in stages.items()},
        "composition": composition.data, "fingerprint": result.fingerprint,
        "rank": None if result.ranked is None else {
            "rank": result.ranked.rank, "shared": result.ranked.shared,
            "decided_by": result.ranked.decided_by},
        "grade": None if result.graded is None else {
            "grade": result.graded.grade, "threshold_grade": result.graded.threshold_grade,
            "quota_moved": result.graded.quota_moved},
    }
    return Explanation(data, tuple(lines))


def _standing_lines(result: AgencyResult) -> list[str]:
    lines = []
    if result.ranked is not None:
        decided = f"（同分时按{result.ranked.decided_by}决出）" if result.ranked.decided_by else ""
        shared = "（并列）" if result.ranked.shared else ""
        lines.append(f"排名：{result.group or ''}第 {result.ranked.rank} 名{shared}{decided}")
    if result.graded is not None:
        moved = f"（分数达到{result.graded.threshold_grade}，因比例限制调整）" \
            if result.graded.quota_moved else ""
        lines.append(f"等次：{result.graded.grade}{moved}")
    return lines


def explain(result: Any) -> Explanation:
    """Explain any engine result (panel, groups, satisfaction, composition, agency)."""
    if isinstance(result, AgencyResult):
        return explain_agency(result)
    if isinstance(result, CompositionResult):
        return explain_composition(result)
    return explain_stage(result)
