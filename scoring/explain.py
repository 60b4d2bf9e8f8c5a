"""Explanations: the structured breakdown of a result, as JSON and as Chinese text.

An explanation only *reads* the result objects that the computation produced (kept and dropped
marks, recusals, replacements, group parts, each rounding step); it never recomputes, so the
text can never disagree with the published number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .groups import GroupResult
from .numbers import format_score
from .panel import PanelResult
from .policy import to_plain
from .satisfaction import SatisfactionResult

COMBINE_WORDS = {"mean": "平均", "sum": "合计", "median": "中位数"}


@dataclass(frozen=True)
class Explanation:
    data: dict[str, Any]
    lines: tuple[str, ...]

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.data, ensure_ascii=False, indent=indent)

    def to_text(self) -> str:
        return "\n".join(self.lines)


def plain_id(identifier: Any) -> Any:
    return identifier if isinstance(identifier, str | int) else str(identifier)


def num(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def count_word(count: int) -> str:
    return {1: "一个", 2: "两个"}.get(count, f"{count} 个")


def explain_panel(result: PanelResult) -> Explanation:
    rule, places = result.rule, result.rule.places
    fate = result.fate()
    replaced = {r.judge: r for r in result.replaced}
    data = {
        "kind": "panel", "value": num(result.value), "base": num(result.base),
        "rule": to_plain(rule), "fingerprint": result.fingerprint,
        "marks": [
            {"judge": plain_id(judge), "given": num(mark), "fate": fate[judge],
             "counted_as": num(replaced[judge].replacement) if judge in replaced else num(mark)}
            for judge, mark in result.given()
        ],
        "dropped_high": [_mark_data(m) for m in result.dropped_high],
        "dropped_low": [_mark_data(m) for m in result.dropped_low],
        "recused": [plain_id(j) for j in result.recused],
        "replaced": [{"judge": plain_id(r.judge), "original": num(r.original),
                      "replacement": num(r.replacement)} for r in result.replaced],
        "fallback": result.fallback,
        "kept_count": result.count, "kept_total": num(result.total),
        "steps": _panel_steps(result),
    }
    return Explanation(data, (panel_sentence(result, places),))


def _mark_data(mark) -> dict[str, Any]:
    return {"judge": plain_id(mark.judge), "value": num(Decimal(mark))}


def _panel_steps(result: PanelResult) -> list[dict[str, Any]]:
    rule = result.rule
    steps = [{"step": rule.combine, "of": result.count, "total": num(result.total),
              "places": rule.places, "rounding": "ROUND_HALF_UP", "result": num(result.base)}]
    if rule.factor is not None:
        # "of": the rounded value, or (round_before_factor=False) the exact one as a fraction
        of = num(result.base) if rule.round_before_factor else \
            _fraction(*result.exact)
        steps.append({"step": "factor", "factor": num(rule.factor), "of": of,
                      "rounded_before_factor": rule.round_before_factor,
                      "places": rule.places, "rounding": "ROUND_HALF_UP",
                      "result": num(result.value)})
    return steps


def _fraction(numerator: Decimal, denominator: int) -> str:
    return num(numerator) if denominator == 1 else f"{num(numerator)}/{denominator}"


def panel_sentence(result: PanelResult, places: int | None) -> str:
    """去掉一个最高分 95.00、一个最低分 78.00，其余 8 位评委平均 88.25"""
    def show(value):
        return format_score(value, places)
    notes = []
    if result.recused:
        notes.append(f"评委 {'、'.join(map(str, result.recused))} 回避，不计分")
    for r in result.replaced:
        notes.append(f"评委 {r.judge} 的 {show(r.original)} 偏离其他评委平均分超过 "
                     f"{result.rule.outliers.tolerance:f}，按 {show(r.replacement)} 计")
    if result.fallback == "use_all":
        notes.append(f"有效评分 {result.count} 个，少于规则要求的 {result.rule.needs} 个，"
                     "按规则全部计入")
    drops = [
        f"{count_word(len(marks))}{label} {'、'.join(show(m) for m in marks)}"
        for label, marks in (("最高分", result.dropped_high), ("最低分", result.dropped_low))
        if marks
    ]
    sentence = [f"去掉{'、'.join(drops)}"] if drops else []
    sentence.append(f"{'其余 ' if drops else ''}{result.count} 位评委"
                    f"{COMBINE_WORDS[result.rule.combine]} {show(result.base)}")
    if result.rule.factor is not None:
        exact = "" if result.rule.round_before_factor else \
            f"按未取整的{COMBINE_WORDS[result.rule.combine]}值"
        sentence.append(f"{exact}乘以系数 {result.rule.factor:f} 得 {show(result.value)}")
    return "".join(f"{note}；" for note in notes) + "，".join(sentence)


def explain_groups(result: GroupResult, *, names: dict[str, str] | None = None) -> Explanation:
    names = names or {}
    weighting = result.weighting
    parts_data, lines = [], []
    divisor = sum(p.weight for p in result.parts) if result.renormalized else Decimal(100)
    for part in result.parts:
        panel = explain_panel(part.result)
        parts_data.append({"group": part.group, "weight": num(part.weight),
                           "value": num(part.result.value), "product": num(part.product),
                           "panel": panel.data})
        label = names.get(part.group, part.group)
        lines.append(f"{label}（权重 {part.weight:f}%）：{panel.lines[0]}；"
                     f"{part.result.value:f} × {part.weight:f} / {divisor:f} = {part.product:f}")
    if result.missing:
        lines.append(f"{'、'.join(result.missing)} 无有效评分，按在场评委组权重合计 "
                     f"{divisor:f} 重新归一")
    lines.append(f"加权合计 {result.value:f}")
    data = {"kind": "groups", "value": num(result.value), "parts": parts_data,
            "missing": list(result.missing), "renormalized": result.renormalized,
            "weights_divisor": num(divisor), "product_places": weighting.product_places,
            "places": weighting.places, "rule": to_plain(weighting)}
    return Explanation(data, tuple(lines))


def explain_satisfaction(result: SatisfactionResult) -> Explanation:
    counts = "、".join(f"{name} {count}" for name, count in result.counts)
    line = f"{counts}，共 {result.sample} 份"
    if result.value is not None:
        line += f"：满意度指数 {result.value:f}，满意率 {result.rate:f}%"
    if result.below_minimum:
        line += f"（样本量 {result.sample} 少于最低要求 {result.scale.min_sample}，结果仅供参考）"
    data = {"kind": "satisfaction", "value": num(result.value), "rate": num(result.rate),
            "sample": result.sample, "below_minimum": result.below_minimum,
            "counts": dict(result.counts), "rule": to_plain(result.scale)}
    return Explanation(data, (line,))
