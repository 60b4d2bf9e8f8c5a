"""The import parsers on clean and messy workbooks: rows, notes and exact problem lists."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import pytest
from workbooks import (
    CLEAN_AGENCIES,
    CLEAN_INDICATORS,
    CLEAN_JUDGES,
    MESSY_AGENCIES,
    notes,
    problems,
    xlsx,
)

from evaluation.imports import parse_workbook, parsed_from_plain
from evaluation.imports import table as table_module
from evaluation.imports.cells import clean_text, name_key, to_decimal
from evaluation.imports.parse import KINDS
from evaluation.imports.templates import GUIDES, template_workbook

SIJU_CONFLICT = (
    "单位“市司法局（法治督察科）”在第 5 行和第 8 行各出现一次，内容不同，无法确定以哪一行为准。"
)


def test_clean_agencies_parse_without_problems():
    parsed = parse_workbook("agencies", CLEAN_AGENCIES)
    assert parsed.problems == [] and parsed.notes == []
    assert (parsed.sheet, parsed.header_row) == ("单位", 1)
    assert [(r.row, r.name, r.level, r.group, r.position) for r in parsed.rows] == [
        (2, "市公安局", "city", "市直组", 1),
        (3, "市司法局", "city", "市直组", 2),
        (4, "乳源瑶族自治县人民政府", "county_government", "县区组", 1),
    ]


def test_messy_agencies_accept_the_unambiguous_and_name_every_problem():
    parsed = parse_workbook("agencies", MESSY_AGENCIES)
    sheet = "单位名单"  # the header is on the second sheet, under a merged title and a blank row
    assert (parsed.sheet, parsed.header_row) == (sheet, 3)
    assert problems(parsed) == [
        (sheet, 8, "A", "单位名称", SIJU_CONFLICT),
        (
            sheet,
            9,
            "B",
            "类别(必填)",
            "“央企”不是可选的值，应为：市直、中省驻地、县区政府、县区部门。",
        ),
        (sheet, 10, "E", "顺序", "顺序须是正整数，例如 1、2、3。"),
        (sheet, 11, "E", "顺序", "填写了顺序，但没有填写分组。"),
    ]
    assert notes(parsed) == [(sheet, 7, "A", "与第 4 行完全相同，已合并为一条。")]
    # Full-width spaces and digits, half-width parentheses: all normalized.
    assert [(r.row, r.name, r.position) for r in parsed.rows] == [
        (4, "市公安局", 1),
        (5, "市司法局（法治督察科）", 2),
    ]


def test_two_agencies_at_the_same_place_in_a_group_are_refused():
    data = xlsx(
        (
            "单位",
            [
                ["单位名称", "类别", "分组", "顺序"],
                ["甲局", "市直", "A组", 1],
                ["乙局", "市直", "A组", 1],
                ["丙局", "市直", "B组", 1],
            ],
        )
    )
    assert problems(parse_workbook("agencies", data)) == [
        ("单位", 3, "D", "顺序", "分组“A组”中第 2 行和第 3 行的顺序都是 1。")
    ]


def test_clean_indicators_parse_into_a_tree_with_exact_points():
    parsed = parse_workbook("indicators", CLEAN_INDICATORS)
    assert parsed.problems == []
    assert [(r.code, r.parent_code, r.max_points, r.kind, r.depth) for r in parsed.rows] == [
        ("A", "", Decimal("40.00"), "normal", 0),
        ("A1", "A", Decimal("25.00"), "normal", 1),
        ("A2", "A", Decimal("15.00"), "normal", 1),
        ("B", "", Decimal("60.00"), "normal", 0),
        ("C", "", Decimal("5.00"), "bonus", 0),
    ]


def test_messy_indicators_name_every_cell():
    data = xlsx(
        (
            "指标体系",
            [
                ["指标体系（2024）"],
                [],
                ["指标编号", "指标名称", "满分（分）", "类型", "上级编号"],
                ["Ａ", "组织领导", "２０", "常规", None],
                ["A1", "责任清单", " 20 ", None, "Ａ"],
                ["B", "普法实效", "二十", "常规", None],
                ["B1", "以案释法", 10, "附加", "B"],
                ["C1", "媒体宣传", 5, "常规", "Z"],
                ["A1", "责任清单", 20, "常规", "A"],
                ["D", "创新", 2.5, "加分", None],
                ["E", "负面清单", 0.125, "扣分项", None],
            ],
            ["A1:E1"],
        )
    )
    parsed = parse_workbook("indicators", data)
    sheet = "指标体系"
    assert problems(parsed) == [
        (sheet, 6, "C", "满分(分)", "“二十”不是数字。"),
        (sheet, 7, "D", "类型", "“附加”不是可选的值，应为：常规、加分项、扣分项。"),
        (sheet, 8, "E", "上级编号", "上级编号“Z”在本表中找不到。"),
        (sheet, 11, "C", "满分(分)", "分值最多保留两位小数。"),
    ]
    assert notes(parsed) == [(sheet, 9, "A", "与第 5 行完全相同，已合并为一条。")]
    assert [(r.code, r.max_points, r.kind) for r in parsed.rows][:2] == [
        ("A", Decimal("20.00"), "normal"),
        ("A1", Decimal("20.00"), "normal"),
    ]
    assert ("D", Decimal("2.50"), "bonus") in [(r.code, r.max_points, r.kind) for r in parsed.rows]


def test_points_that_do_not_add_up_name_the_node_and_the_whole_tree():
    data = xlsx(
        (
            "指标",
            [
                ["编号", "名称", "分值"],
                ["A", "组织领导", 20],
                ["A1", "责任清单", 10],
                ["A2", "考核机制", 5],
                ["A2.1", "年度考核", 5],
                ["B", "普法实效", 70],
                ["C", "创新加分", 5],
            ],
        )
    )
    parsed = parse_workbook("indicators", data)
    assert problems(parsed) == [
        ("指标", None, "C", "分值", "一级常规指标合计 95.00 分，应为 100.00 分。"),
        ("指标", 2, "C", "分值", "A 组织领导：下级指标合计 15.00 分，应为 20.00 分。"),
    ]
    # Without a 上级编号 column the parents come from the codes, and the page says so.
    assert [r.parent_code for r in parsed.rows] == ["", "A", "A", "A2", "", ""]
    assert "按编号层级推定" in notes(parsed)[0][3]


def test_parent_loops_and_self_parents_are_refused():
    data = xlsx(
        (
            "指标",
            [
                ["编号", "名称", "分值", "上级编号"],
                ["A", "甲", 100, None],
                ["X", "乙", 10, "Y"],
                ["Y", "丙", 10, "X"],
                ["Z", "丁", 5, "Z"],
            ],
        )
    )
    assert problems(parse_workbook("indicators", data)) == [
        ("指标", 3, "D", "上级编号", "上级编号形成循环，X 连不到一级指标。"),
        ("指标", 4, "D", "上级编号", "上级编号形成循环，Y 连不到一级指标。"),
        ("指标", 5, "D", "上级编号", "上级编号不能是本指标自己的编号。"),
    ]


def test_judges_clean_and_messy():
    clean = parse_workbook("judges", CLEAN_JUDGES)
    assert clean.problems == []
    assert [(r.name, r.group_name, r.affiliation) for r in clean.rows] == [
        ("张伟", "专家", ""),
        ("李娜", "人大代表", "市公安局"),
        ("王强", "群众代表", ""),
    ]
    messy = xlsx(
        (
            "Sheet1",
            [
                ["评委名单"],
                ["姓名", "类别", "职务", "所属单位"],
                ["张 伟", "人大", "代表", None],
                [None, "专家", "教授", None],
                ["李娜", "领导", None, None],
                ["张 伟", "人大", "代表", None],
                ["张 伟", "政协", "委员", None],
                ["赵敏", "媒体", None, "市司法局(普法科)"],
            ],
        )
    )
    parsed = parse_workbook("judges", messy)
    assert problems(parsed) == [
        ("Sheet1", 4, "A", "姓名", "此项为必填项。"),
        (
            "Sheet1",
            5,
            "B",
            "类别",
            "“领导”不是可选的值，应为：人大代表、政协委员、专家、群众代表、媒体代表。",
        ),
        (
            "Sheet1",
            7,
            "A",
            "姓名",
            "评委“张 伟”在第 3 行和第 7 行各出现一次，内容不同，无法确定以哪一行为准；"
            "同名的两位评委请在姓名后加以区分。",
        ),
    ]
    assert notes(parsed) == [("Sheet1", 6, "A", "与第 3 行完全相同，已合并为一条。")]
    assert [(r.name, r.group_name, r.affiliation) for r in parsed.rows] == [
        ("张 伟", "人大代表", ""),
        ("赵敏", "媒体代表", "市司法局（普法科）"),
    ]


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", "文件是空的"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版 Excel（.xls）"),
        ("单位名称,类别\n市公安局,市直\n".encode(), "不是 Excel .xlsx 文件"),
        (_zip({"word/document.xml": b"<x/>"}), "不是 Excel .xlsx 文件"),
        (CLEAN_AGENCIES[:1500], "不是 Excel .xlsx 文件"),
        (
            _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<<not xml"}),
            "无法读取该工作簿",
        ),
        (bytes(range(256)) * 8, "不是 Excel .xlsx 文件"),
    ],
)
@pytest.mark.parametrize("kind", list(KINDS))
def test_any_bytes_give_a_problem_never_an_exception(kind, data, expected):
    parsed = parse_workbook(kind, data)
    assert len(parsed.problems) == 1 and expected in parsed.problems[0].text()
    assert parsed.rows == []


def _with_doctype(doctype: bytes, first_cell: bytes) -> bytes:
    """CLEAN_AGENCIES with a DOCTYPE before its sheet and `first_cell` as cell A2's text."""
    source = zipfile.ZipFile(io.BytesIO(CLEAN_AGENCIES))
    parts = {name: source.read(name) for name in source.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    start = sheet.index(b'<c r="A2"')
    text_start = sheet.index(b"<t>", start) + 3
    text_end = sheet.index(b"</t>", text_start)
    parts["xl/worksheets/sheet1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8"?>' + doctype
        + sheet[:text_start] + first_cell + sheet[text_end:]
    )
    return _zip(parts)


LAUGHS = (
    b'<!DOCTYPE worksheet [<!ENTITY a "ha">'
    + b"".join(b'<!ENTITY %c "%s">' % (98 + i, b"&%c;" % (97 + i) * 10) for i in range(9))
    + b"]>"
)


@pytest.mark.parametrize(
    "doctype, cell",
    [
        # An internal entity: expanded by a plain parser into an agency name.
        ('<!DOCTYPE worksheet [<!ENTITY x "市审计局">]>'.encode(), b"&x;"),
        # XXE: an external entity pointing at a file on the server.
        (b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>', b"&x;"),
        # Billion laughs: 10^9 "ha"s from a few hundred bytes.
        (LAUGHS, b"&j;"),
    ],
    ids=["internal-entity", "xxe", "billion-laughs"],
)
@pytest.mark.parametrize("kind", ["agencies", "judges"])
def test_a_workbook_with_xml_entities_is_refused_and_nothing_is_read(kind, doctype, cell):
    """ASVS V1.5.1: sheets are parsed through defusedxml (openpyxl uses it when installed):
    any entity declaration is refused with a clear problem, no row is read."""
    parsed = parse_workbook(kind, _with_doctype(doctype, cell))
    assert [problem.text() for problem in parsed.problems] == [
        "工作簿含有 XML 实体声明，出于安全原因不予读取。请在 Excel 或 WPS 中另存为 .xlsx 后再上传。"
    ]
    assert parsed.rows == []


def test_a_workbook_without_the_headers_names_the_sheets_and_columns():
    data = xlsx(("甲", [["名单"], ["张三", "市直"]]), ("乙", [["单位", "地区"]]))
    assert problems(parse_workbook("agencies", data)) == [
        (
            "",
            None,
            "",
            "",
            "在工作表 甲、乙 的前 30 行中都没有找到表头：表头行须包含列 单位名称、类别。",
        )
    ]


def test_two_columns_for_one_heading_is_ambiguous():
    data = xlsx(("单位", [["单位名称", "名称", "类别"], ["甲局", "乙局", "市直"]]))
    assert problems(parse_workbook("agencies", data)) == [
        (
            "单位",
            1,
            "B",
            "名称",
            "列 A「单位名称」和列 B「名称」都可作为“单位名称”，无法确定使用哪一列。",
        )
    ]


def test_row_limit_and_progress(monkeypatch):
    monkeypatch.setattr(table_module, "MAX_ROWS", 250)
    monkeypatch.setattr(table_module, "PROGRESS_EVERY", 100)
    rows = [["单位名称", "类别"]] + [[f"单位{i}", "市直"] for i in range(300)]
    seen = []
    parsed = parse_workbook("agencies", xlsx(("单位", rows)), lambda done, total: seen.append(done))
    assert problems(parsed)[-1] == (
        "单位",
        252,
        "",
        "",
        "数据超过 250 行的上限，请分成几个文件导入。",
    )
    assert seen == [100, 200]


def test_parsed_import_survives_json_exactly():
    parsed = parse_workbook("indicators", CLEAN_INDICATORS)
    import json

    again = parsed_from_plain(json.loads(json.dumps(parsed.to_plain())))
    assert again == parsed
    assert isinstance(again.rows[0].max_points, Decimal)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_template_is_read_back_by_its_importer(kind):
    parsed = parse_workbook(kind, template_workbook(kind))
    assert [p.text() for p in parsed.problems] == ["表头下面没有数据行。"]
    assert [c["header"] for c in parsed.columns.values()] == [h for h, _n, _c in GUIDES[kind]]


def test_cell_normalization():
    assert to_decimal("２０分") == Decimal("20")
    assert to_decimal(0.1) == Decimal("0.1")  # the float's shortest text, not its binary value
    assert to_decimal(" 12.50 ") == Decimal("12.50")
    assert [to_decimal(v) for v in ("1e5", "NaN", "inf", "二十", True, "")] == [None] * 6
    assert clean_text("\u3000市\u200b公安局 \t ") == "市公安局"
    assert clean_text(3.0) == "3"
    assert name_key("市司法局(普法科)") == name_key("市司法局（普法科）")


@pytest.mark.parametrize("step", [0, -1, "0", 0.125, 1e30, "1" + "0" * 40])
def test_an_unusable_step_is_refused_with_the_step_rule_not_the_points_rule(step):
    data = xlsx(
        (
            "指标",
            [
                ["编号", "名称", "分值", "评分步长"],
                ["A", "组织领导", 100, step],
            ],
        )
    )
    assert problems(parse_workbook("indicators", data)) == [
        ("指标", 2, "D", "评分步长", "评分步长须大于 0 且不超过分值，最多两位小数，例如 0.5。"),
    ]


def test_chinese_punctuation_in_stored_text_is_kept_as_typed():
    # NFKC folds ，：；！？（）… to ASCII: an imported indicator read "日常普法(含“八五”普法),…"
    # while the same name typed in the form kept its Chinese punctuation.
    indicators = parse_workbook(
        "indicators",
        xlsx(
            (
                "指标",
                [
                    ["编号", "名称", "分值"],
                    ["Ａ", "日常普法（含“八五”普法），以案释法：到位！", "１００"],
                ],
            )
        ),
    )
    assert indicators.problems == []
    assert [(r.code, r.name) for r in indicators.rows] == [
        ("A", "日常普法（含“八五”普法），以案释法：到位！")
    ]
    judges = parse_workbook(
        "judges",
        xlsx(("评委", [["姓名", "类别", "职务/身份"], ["王 律师 ", "专家", "律师；市人大代表…"]])),
    )
    assert [(r.name, r.title) for r in judges.rows] == [("王 律师", "律师；市人大代表…")]
    agencies = parse_workbook(
        "agencies",
        xlsx(
            (
                "单位",
                [
                    ["单位名称", "类别", "地区", "分组"],
                    ["市司法局(普法科)：法治督察", "市直", "乐昌市（县级市）", "市直组（一）"],
                ],
            )
        ),
    )
    assert [(r.name, r.region, r.group) for r in agencies.rows] == [
        ("市司法局（普法科）：法治督察", "乐昌市（县级市）", "市直组（一）")
    ]
    # Matching still treats both ways of writing as one name.
    assert name_key("市司法局，普法科") == name_key("市司法局,普法科")
