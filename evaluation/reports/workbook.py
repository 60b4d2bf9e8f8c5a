"""The results workbook (成绩汇总表): every published figure, as scoring produced it.

Sheets: 总成绩 (rank, agency, group, each stage, adjustments, total, grade), one sheet per
scored stage with its detail, 评委打分 (every mark and what became of it), 诊断 (judge
diagnostics and Kendall's W per panel), 回避 (recusals), 说明 (policy, rounding rules, policy
fingerprint, generation time, audit head). Figures are written as numbers from the scoring
results (Decimals, never recomputed); the 2-decimal formats only change how they look.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime

from openpyxl import Workbook

from evaluation.clock import local
from evaluation.reports.panels import agency_panels, panels_by_key, stage_order
from evaluation.reports.texts import (
    DIAGNOSTIC_TOLERANCE,
    FATES,
    STATUS,
    grade_names,
    judge_name,
    policy_lines,
)
from evaluation.reports.xlsx import Cell, Table, write_table
from evaluation.services.results_data import ComposedResults
from scoring import (
    GroupResult,
    PanelResult,
    PeerReview,
    SatisfactionResult,
    canonical_json,
    judge_diagnostics,
    panel_concordance,
    stage_name,
)

SUMMARY, MARKS, DIAGNOSTICS, RECUSALS, NOTES = "总成绩", "评委打分", "诊断", "回避", "说明"
Progress = Callable[[int, int], None]


def build_workbook(composed: ComposedResults, *, progress: Progress | None = None,
                   now: datetime | None = None) -> bytes:
    """The .xlsx file of `composed`; `progress(done, total)` is told after each sheet."""
    tables = [lambda: summary_table(composed)]
    tables += [lambda code=code: stage_table(composed, code) for code in scored_stages(composed)]
    tables += [lambda: marks_table(composed), lambda: diagnostics_table(composed),
               lambda: recusals_table(composed),
               lambda: notes_table(composed, now or datetime.now(UTC))]
    workbook = Workbook(write_only=True)
    styles: dict = {}
    for done, make in enumerate(tables, start=1):
        write_table(workbook, make(), styles)
        if progress:
            progress(done, len(tables) + 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def scored_stages(composed: ComposedResults) -> list[str]:
    """Stages of the composition that some agency has a score for."""
    present = {code for a in composed.result.agencies for code, stage in a.stages.items()
               if stage is not None}
    return [code for code in stage_order(composed) if code in present]


def _title(composed: ComposedResults, what: str) -> str:
    return f"{composed.title} — {what}（{STATUS.get(composed.status, composed.status)}）"


def _standing(composed: ComposedResults, agency) -> list:
    info = composed.agencies[agency.agency]
    rank = agency.ranked.rank if agency.ranked else None
    return [info.group or agency.group or "", rank, info.name]


STANDING = ["分组", "排名", "单位"]


def summary_table(composed: ComposedResults) -> Table:
    specs = composed.policy.composition.stages
    header = list(STANDING)
    for spec in specs:
        name = stage_name(spec.code)
        header.append(name if spec.max_points == 100 else f"{name}（满分{spec.max_points:f}）")
        if spec.max_points != 100:
            header.append(f"{name}折合")
        header.append(f"{name}加权（{spec.weight:f}%）")
    header += ["加权合计", "加分", "扣分", "总分", "等次", "备注"]
    table = Table(SUMMARY, _title(composed, "总成绩"), header, freeze_columns=3,
                  grade_column=len(header) - 1, grades=grade_names(composed.policy))
    for agency in composed.result.agencies:
        composition = agency.composition
        parts = {part.code: part for part in composition.parts}
        row = _standing(composed, agency)
        for spec in specs:
            part = parts.get(spec.code)
            row.append(part.raw if part else None)
            if spec.max_points != 100:
                row.append(part.normalized if part else None)
            row.append(part.product if part else None)
        row += [composition.weighted_sum, composition.bonus, composition.deduction,
                agency.total, agency.graded.grade if agency.graded else "",
                "；".join(_remarks(agency))]
        table.add(*row)
    return table


def _remarks(agency) -> list[str]:
    remarks = []
    if agency.ranked and agency.ranked.shared:
        remarks.append("并列")
    if agency.ranked and agency.ranked.decided_by:
        remarks.append(f"同分按{agency.ranked.decided_by}决出")
    if agency.graded and agency.graded.quota_moved:
        remarks.append(f"分数达到{agency.graded.threshold_grade}，因比例限制调整")
    if agency.composition.renormalized:
        remarks.append("缺" + "、".join(stage_name(c) for c in agency.composition.missing) +
                       "，按已有阶段归一")
    for item in agency.composition.adjustments:
        word = "加分" if item.kind == "bonus" else "扣分"
        capped = f"（申报 {item.claimed:f}，封顶）" if item.applied != item.claimed else ""
        remarks.append(f"{word}项{item.code} {item.applied:f}{capped}")
    return remarks


def _dropped_text(composed: ComposedResults, code: str, marks) -> str:
    return "、".join(f"{mark:.2f}（{judge_name(composed, code, mark.judge)}）" for mark in marks)


def stage_table(composed: ComposedResults, code: str) -> Table:
    spec = next(s for s in composed.policy.composition.stages if s.code == code)
    sample = next(a.stages[code] for a in composed.result.agencies
                  if a.stages.get(code) is not None)
    detail_header, detail = _stage_detail(composed, code, sample)
    header = STANDING + detail_header + ["阶段得分", "折合百分制", "权重", "加权得分"]
    table = Table(stage_name(code)[:31], _title(composed, f"{stage_name(code)}明细"), header,
                  freeze_columns=3)
    for agency in composed.result.agencies:
        stage = agency.stages.get(code)
        part = next((p for p in agency.composition.parts if p.code == code), None)
        values = detail(agency.agency, stage) if stage is not None else [None] * len(detail_header)
        table.add(*_standing(composed, agency), *values,
                  part.raw if part else None, part.normalized if part else None,
                  spec.weight, part.product if part else None)
    return table


def _stage_detail(composed: ComposedResults, code: str, sample):
    """(header, row maker) for the detail columns of one kind of stage."""
    if isinstance(sample, GroupResult):
        groups = [group for group, _ in sample.weighting.weights]
        header = []
        for group in groups:   # which marks were dropped: see the 评委打分 sheet
            header += [f"{group}有效评分数", f"{group}组得分",
                       f"{group}加权（{dict(sample.weighting.weights)[group]:f}%）"]
        header.append("回避人数")

        def grouped(_agency, stage: GroupResult) -> list:
            parts = {part.group: part for part in stage.parts}
            row = []
            for group in groups:
                part = parts.get(group)
                if part is None:
                    row += ["无有效评分", None, None]
                    continue
                row += [part.result.count, part.result.value, part.product]
            row.append(sum(len(part.result.recused) for part in stage.parts))
            return row
        return header, grouped
    if isinstance(sample, PanelResult):
        who = "评分单位" if isinstance(dict(composed.policy.stage_rules).get(code),
                                   PeerReview) else "评分人"
        header = [f"{who}数", "有效评分数", "去掉最高分", "去掉最低分", "回避", "有效分合计",
                  "平均分"]

        def panel(_agency, stage: PanelResult) -> list:
            return [len(stage.judges), stage.count,
                    _dropped_text(composed, code, stage.dropped_high),
                    _dropped_text(composed, code, stage.dropped_low),
                    "、".join(judge_name(composed, code, j) for j in stage.recused),
                    stage.total, stage.base]
        return header, panel
    if isinstance(sample, SatisfactionResult):
        levels = [name for name, _ in sample.scale.levels]
        header = [f"{name}（票）" for name in levels] + ["样本量", "满意度指数", "满意率（%）",
                                                       "样本说明"]

        def satisfaction(_agency, stage: SatisfactionResult) -> list:
            counts = dict(stage.counts)
            note = f"少于 {stage.scale.min_sample} 份，仅供参考" if stage.below_minimum else ""
            return [counts.get(name, 0) for name in levels] + [
                stage.sample, stage.value, stage.rate, note]
        return header, satisfaction
    return [], lambda _agency, _stage: []


def marks_table(composed: ComposedResults) -> Table:
    """Every mark of every panel: who gave it, what it counted as, and what became of it."""
    header = ["单位", "阶段·评委组", "评委", "分数", "处理"]
    table = Table(MARKS, _title(composed, "评委打分明细（去掉的最高分、最低分已标出）"), header,
                  freeze_columns=1, mark_column=5)
    styles = {"dropped_high": "dropped", "dropped_low": "dropped", "recused": "recused"}
    for agency in composed.result.agencies:
        name = composed.agencies[agency.agency].name
        for panel in agency_panels(agency):
            result = panel.result
            fate = result.fate()
            replaced = {r.judge: r.replacement for r in result.replaced}
            for judge, mark in result.given():
                what = fate[judge]
                treatment = FATES[what]
                if judge in replaced:
                    treatment += f"（偏离过大，按 {replaced[judge]:.2f} 计）"
                table.add(name, panel.label, judge_name(composed, panel.stage, judge),
                          Cell(mark, styles[what]) if what in styles else mark, treatment)
    return table


def diagnostics_table(composed: ComposedResults) -> Table:
    """Per panel: each judge's leniency and drops; then Kendall's W of the panel."""
    header = ["阶段", "评委组", "评委", "评分数", "平均偏差", "倾向", "被去掉最高分（次）",
              "被去掉最低分（次）", f"偏离超过 {DIAGNOSTIC_TOLERANCE:f} 分（次）"]
    table = Table(DIAGNOSTICS, _title(composed, "评委评分诊断"), header, freeze_columns=3)
    concordances = []
    for (code, group), results in panels_by_key(composed).items():
        for item in judge_diagnostics(results, tolerance=DIAGNOSTIC_TOLERANCE):
            deviation = item.mean_deviation
            leaning = "" if deviation is None else (
                "偏宽" if deviation > 0 else "偏严" if deviation < 0 else "居中")
            table.add(stage_name(code), group or "", judge_name(composed, code, item.judge),
                      item.marks, deviation, leaning, item.dropped_high, item.dropped_low,
                      item.beyond_tolerance)
        concordances.append((code, group, panel_concordance(results)))
    table.add()
    table.add(Cell("评委一致性（肯德尔和谐系数 W，0 表示毫无一致，1 表示排序完全一致）", "note"))
    table.add(*[Cell(text, "header") for text in
                ("阶段", "评委组", "W", "计入评委数", "单位数", "未计入的评委（未评全部单位）")])
    for code, group, concordance in concordances:
        excluded = "、".join(judge_name(composed, code, j) for j in concordance.excluded_judges)
        table.add(stage_name(code), group or "",
                  Cell(concordance.w, "score4") if concordance.w is not None else "—",
                  len(concordance.judges), concordance.agencies, excluded)
    return table


def recusals_table(composed: ComposedResults) -> Table:
    """Declared recusals with their reasons, then panel members who gave no mark."""
    header = ["阶段", "单位", "分组", "评委", "评委组", "原因"]
    table = Table(RECUSALS, _title(composed, "回避及未评分情况"), header, freeze_columns=0)
    declared = set()
    for recusal in composed.recusals:
        declared.add((recusal.stage_code, recusal.agency_id, recusal.judge_id))
        agency = composed.agencies.get(recusal.agency_id)
        judge = composed.judges.get(recusal.judge_id)
        table.add(stage_name(recusal.stage_code), agency.name if agency else recusal.agency_id,
                  agency.group if agency else "",
                  judge_name(composed, recusal.stage_code, recusal.judge_id),
                  judge.group if judge else "", recusal.reason)
    for agency in composed.result.agencies:
        for panel in agency_panels(agency):
            for judge in panel.result.recused:
                if (panel.stage, agency.agency, judge) not in declared:
                    info = composed.agencies[agency.agency]
                    table.add(stage_name(panel.stage), info.name, info.group,
                              judge_name(composed, panel.stage, judge), panel.group or "",
                              "未评分（不计入）")
    return table


def notes_table(composed: ComposedResults, now: datetime) -> Table:
    result = composed.result
    table = Table(NOTES, _title(composed, "说明"), ["项目", "内容"], widths={2: 90})
    rows = [
        ("评议活动", composed.title), ("年度", composed.year),
        ("组织单位", composed.organization),
        ("结果状态", STATUS.get(composed.status, composed.status)),
        ("结果版本", composed.revision),
        ("成绩计算时间（北京时间）", local(composed.generated_at, "%Y-%m-%d %H:%M:%S")),
        ("本表生成时间（北京时间）", local(now, "%Y-%m-%d %H:%M:%S")),
        ("参评单位数", len(result.agencies)),
        ("评分策略指纹（SHA-256）", result.fingerprint),
        ("审计链头哈希", composed.audit_head),
        *policy_lines(composed.policy),
        ("诊断口径", f"平均偏差为评委分数与该组（去分后）得分之差的平均，正数偏宽、负数偏严；"
                     f"偏离次数按与其他评委平均分相差超过 {DIAGNOSTIC_TOLERANCE:f} 分计"),
        ("标记说明", "“评委打分”表中，去掉的最高分、最低分以红色删除线标出，回避以灰色标出；"
                     "“总成绩”表中，等次按颜色区分"),
        ("复核", "全部数字由评分引擎按上述评分策略从原始评分算出；评分策略全文附后，"
                 "其 SHA-256 即上面的评分策略指纹"),
    ]
    for label, text in rows:
        table.add(Cell(label, "label"), Cell(text, "wrap"))
    policy_text = canonical_json(composed.policy)
    # Excel holds at most 32,767 characters in one cell
    for start in range(0, len(policy_text), 30000):
        label = "评分策略全文（JSON）" if start == 0 else "（续）"
        table.add(Cell(label, "label"), Cell(policy_text[start:start + 30000], "wrap"))
    return table
