"""Chinese wording shared by the workbook, the result sheets and the charts.

Reports are documents of the organizing office, written in its language; the policy's rules
are described here from the rule objects themselves (never from a second copy of the rules).
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from evaluation.services.results_data import ComposedResults
from scoring import (
    GroupWeighting,
    PanelRule,
    PeerReview,
    SatisfactionScale,
    ScoringPolicy,
    stage_name,
)

FATES = {
    "kept": "计入",
    "dropped_high": "去掉最高分",
    "dropped_low": "去掉最低分",
    "recused": "回避",
}
STATUS = {"preview": "预览（未确认）", "certified": "已确认", "published": "已公布"}
# Judge diagnostics: a mark further than this from the mean of the others is counted.
DIAGNOSTIC_TOLERANCE = Decimal(10)


def display_width(text: str) -> int:
    """Columns `text` takes: a Chinese character two, a Latin one (East Asian width).

    Here, not in reports.xlsx: the charts measure labels with it too, and importing
    reports.xlsx imports openpyxl, which a serving process should not pay for at start-up.
    """
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def places_text(places: int | None) -> str:
    return "不舍入（须为精确值）" if places is None else f"保留 {places} 位小数"


def panel_rule_text(rule: PanelRule) -> str:
    drops = []
    if rule.drop_high:
        drops.append(f"去掉 {rule.drop_high} 个最高分")
    if rule.drop_low:
        drops.append(f"去掉 {rule.drop_low} 个最低分")
    combine = {"mean": "取平均", "sum": "求和", "median": "取中位数"}[rule.combine]
    text = "、".join(drops) + ("后" if drops else "") + combine
    text += f"，{places_text(rule.places)}（四舍五入）"
    if rule.outliers is not None:
        text += (f"；偏离其他评委平均分超过 {rule.outliers.tolerance:f} 的分数按其他评委平均分计")
    if rule.factor is not None:
        text += f"；乘以系数 {rule.factor:f}" + (
            "" if rule.round_before_factor else "（按未舍入的值相乘，只舍入一次）")
    if rule.fallback == "use_all":
        text += f"；有效评分少于 {rule.needs} 个时全部计入、不去分"
    else:
        text += f"；至少需要 {rule.needs} 个有效评分"
    return text


def stage_rule_text(rule) -> str:
    if isinstance(rule, GroupWeighting):
        weights = "、".join(f"{group} {weight:f}%" for group, weight in rule.weights)
        overrides = "".join(f"；{group}组内：{panel_rule_text(r)}" for group, r in rule.group_rules)
        return (f"评委分组加权（{weights}），组内{panel_rule_text(rule.rule)}{overrides}；"
                f"各组加权分{places_text(rule.product_places)}，合计{places_text(rule.places)}")
    if isinstance(rule, PanelRule):
        return panel_rule_text(rule)
    if isinstance(rule, SatisfactionScale):
        levels = "、".join(f"{name} {points:f} 分" for name, points in rule.levels)
        return (f"满意度测评（{levels}）；满意率按{'、'.join(rule.satisfied)}计；"
                f"样本少于 {rule.min_sample} 份时结果仅供参考；指数{places_text(rule.places)}")
    if isinstance(rule, PeerReview):
        return f"单位互评，本单位自评不计；{panel_rule_text(rule.rule)}"
    return "直接得分（经审核确认的分数）"


def policy_lines(policy: ScoringPolicy) -> list[tuple[str, str]]:
    """(item, text) rows describing the whole policy, in the order a reader checks them."""
    composition = policy.composition
    rules = dict(policy.stage_rules)
    rows = [("评分办法", policy.name or "—")]
    for spec in composition.stages:
        full = "" if spec.max_points == 100 else f"，满分 {spec.max_points:f} 折合百分制"
        rows.append((f"{stage_name(spec.code)}（权重 {spec.weight:f}%{full}）",
                     stage_rule_text(rules.get(spec.code))))
    rows.append(("舍入规则", (
        f"四舍五入（ROUND_HALF_UP），只在以下环节舍入：各阶段折合百分制得分"
        f"{places_text(composition.stage_places)}；各阶段加权得分"
        f"{places_text(composition.product_places)}；总分{places_text(composition.places)}")))
    if composition.missing == "renormalize":
        rows.append(("缺少阶段", "按已有阶段的权重合计重新归一"))
    for item in composition.adjustments:
        word = "加分项" if item.kind == "bonus" else "扣分项"
        cap = "不设上限" if item.cap is None else f"上限 {item.cap:f} 分"
        rows.append((f"{word} {item.code}", cap))
    if composition.bonus_cap is not None:
        rows.append(("加分总上限", f"{composition.bonus_cap:f} 分"))
    if composition.deduction_cap is not None:
        rows.append(("扣分总上限", f"{composition.deduction_cap:f} 分"))
    if policy.tie_breakers:
        rows.append(("同分排序", "总分相同时依次比较" +
                     "、".join(stage_name(c) for c in policy.tie_breakers) + "折合得分"))
    if policy.grading is not None:
        rows.append(("等次", grading_text(policy)))
    return rows


def grading_text(policy: ScoringPolicy) -> str:
    grading = policy.grading
    parts = [f"{grade} ≥ {threshold:f}" for grade, threshold in grading.thresholds]
    parts.append(f"其余为{grading.below}")
    text = "，".join(parts)
    if grading.quotas:
        quotas = "、".join(f"{grade}不超过 {share:f}%" for grade, share in grading.quotas)
        text += f"；比例限制：{quotas}（按名次先后，同分不拆分）"
    return text


def grade_names(policy: ScoringPolicy) -> list[str]:
    if policy.grading is None:
        return []
    return [grade for grade, _ in policy.grading.thresholds] + [policy.grading.below]


def judge_name(composed: ComposedResults, stage_code: str, judge) -> str:
    """A panel member's name; in peer review the raters are agencies, and an organizer's or
    inspector's mark is keyed "U<user id>" (its name in `composed.reviewers`)."""
    if isinstance(dict(composed.policy.stage_rules).get(stage_code), PeerReview):
        agency = composed.agencies.get(judge)
        return agency.name if agency else str(judge)
    info = composed.judges.get(judge)
    if info is not None:
        return info.name
    return composed.reviewers.get(judge, str(judge))
