"""The downloadable template workbooks, one per kind of import.

A title row, the header row (with drop-down lists where the values are fixed) and a
second sheet, 填写说明, explaining each column. The headings are the importer's own
column names, so they stay in Chinese whatever the page's language: they are the format.
"""

from __future__ import annotations

import io

from evaluation.imports import agencies, indicators
from evaluation.imports.cells import column_letter
from evaluation.services.judges import JUDGE_GROUPS

TITLES = {
    "agencies": "被评议单位导入表",
    "judges": "评委导入表",
    "indicators": "指标体系导入表",
    "vote_codes": "投票码导入表",
}
# (heading, what to write, allowed values or None), in column order.
GUIDES = {
    "agencies": [
        ("单位名称", "必填，与单位公章一致", None),
        ("类别", "必填", agencies.LEVEL_NAMES),
        ("地区", "选填，如 浈江区", None),
        ("分组", "选填；填写后该单位加入本次评议的这一组，如 市直组", None),
        ("顺序", "选填，组内出场顺序 1、2、3……；须同时填写分组", None),
    ],
    "judges": [
        ("姓名", "必填；同名的两位评委请加以区分", None),
        ("类别", "必填", JUDGE_GROUPS),
        ("职务/身份", "选填，如 市人大代表、律师", None),
        ("所属单位", "选填；须是已导入的被评议单位，该单位上台时本评委回避", None),
    ],
    "indicators": [
        ("编号", "必填，本次评议内唯一，如 A、A1、A1.1", None),
        ("名称", "必填", None),
        ("分值", "必填，大于 0，最多两位小数；下级合计须等于上级，一级常规指标合计 100", None),
        ("类型", "选填，默认常规", indicators.KIND_NAMES),
        ("上级编号", "选填；一级指标留空。没有此列时按编号层级推定", None),
        ("评分步长", "选填，如 0.5；分值须是它的整数倍", None),
    ],
    "vote_codes": [
        ("投票码", "必填，10 到 32 位字母和数字，至少 5 种字符；空格和横线会被忽略", None),
        ("序号", "选填，投票卡上印的编号（正整数），不得重复", None),
    ],
}
TEMPLATE_ROWS = 500  # rows that carry the drop-down lists


def template_workbook(kind: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    guide = GUIDES[kind]
    book = Workbook()
    sheet = book.active
    sheet.title = TITLES[kind].removesuffix("导入表")
    last = column_letter(len(guide) - 1)
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"] = TITLES[kind]
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    for index, (heading, _note, choices) in enumerate(guide):
        letter = column_letter(index)
        cell = sheet[f"{letter}2"]
        cell.value, cell.font = heading, Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EDEFF3")
        sheet.column_dimensions[letter].width = max(14, len(heading) * 3)
        if choices:
            rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"')
            rule.add(f"{letter}3:{letter}{TEMPLATE_ROWS}")
            sheet.add_data_validation(rule)
    sheet.freeze_panes = "A3"
    _guide_sheet(book, guide)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _guide_sheet(book, guide) -> None:
    from openpyxl.styles import Font

    notes = book.create_sheet("填写说明")
    notes.append(["列", "填写要求", "可选值"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for heading, note, choices in guide:
        notes.append([heading, note, "、".join(choices or [])])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 60
    notes.column_dimensions["C"].width = 40
