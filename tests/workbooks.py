"""Build .xlsx files in memory for the import tests, as messy as real ones."""

from __future__ import annotations

import io

from openpyxl import Workbook


def xlsx(*sheets: tuple[str, list[list], list[str]] | tuple[str, list[list]]) -> bytes:
    """Sheets as (title, rows[, merged ranges]); None leaves a cell empty."""
    book = Workbook()
    book.remove(book.active)
    for title, rows, *merged in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for cell_range in merged[0] if merged else []:
            sheet.merge_cells(cell_range)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def problems(parsed) -> list[tuple]:
    """(sheet, row, column, header, rule) for exact comparisons."""
    return [(p.sheet, p.row, p.column, p.header, p.text()) for p in parsed.problems]


def notes(parsed) -> list[tuple]:
    return [(n.sheet, n.row, n.column, n.text()) for n in parsed.notes]


CLEAN_AGENCIES = xlsx(
    (
        "单位",
        [
            ["单位名称", "类别", "地区", "分组", "顺序"],
            ["市公安局", "市直", "韶关市", "市直组", 1],
            ["市司法局", "市直", "韶关市", "市直组", 2],
            ["乳源瑶族自治县人民政府", "县区政府", "乳源县", "县区组", 1],
        ],
    )
)

MESSY_AGENCIES = xlsx(
    ("填写说明", [["请在第二个工作表填写"], ["单位名称：必填"]]),
    (
        "单位名单",
        [
            ["2024年度被评议单位名单", None, None, None, None],
            [None],
            [" 单位名称 ", "类别（必填）", "地区", "分组", "顺序"],
            ["\u3000市公安局\u3000", "市直", "韶关市", "市直组", "１"],
            ["市司法局(法治督察科)", "市直", "", "市直组", "2"],
            [None, None],
            ["市公安局", "市直", "韶关市", "市直组", 1],
            ["市司法局（法治督察科）", "中省驻地", "", "市直组", "2"],
            ["国家税务总局韶关市税务局", "央企", "韶关市", "市直组", 3],
            ["乳源瑶族自治县人民政府", "县区政府", "乳源县", "县区组", "第一"],
            ["乳源县司法局", "县区部门", "乳源县", "", 3],
        ],
        ["A1:E1"],
    ),
)

CLEAN_INDICATORS = xlsx(
    (
        "指标",
        [
            ["编号", "名称", "分值", "类型", "上级编号"],
            ["A", "组织领导", 40, "常规", None],
            ["A1", "责任清单", 25, "常规", "A"],
            ["A2", "考核机制", 15, "常规", "A"],
            ["B", "普法实效", 60, "常规", None],
            ["C", "创新加分", 5, "加分项", None],
        ],
    )
)

CLEAN_JUDGES = xlsx(
    (
        "评委",
        [
            ["姓名", "类别", "职务/身份", "所属单位"],
            ["张伟", "专家", "法学教授", None],
            ["李娜", "人大代表", "市人大代表", "市公安局"],
            ["王强", "群众代表", "社区主任", None],
        ],
    )
)
