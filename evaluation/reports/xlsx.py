"""Write-only openpyxl sheets laid out for print: the mechanics, not the content.

openpyxl's write-only mode streams rows and is several times faster than the normal mode,
but writes a sheet's columns, views and page set-up before its first row. So a sheet is
assembled as plain rows first (`Table`), its column widths measured from the text (a Chinese
character is two columns wide), and only then streamed out by `write_table`.
A styled cell copies a prepared style array: setting fonts and formats cell by cell through
the public attributes costs more than the rest of the build.
"""

from __future__ import annotations

import math
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal

from openpyxl.cell import WriteOnlyCell
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from evaluation.reports.texts import display_width
from evaluation.spreadsheet_text import xlsx_cell, xlsx_text

SCORE = "0.00"
THIN = Side(style="thin", color="A6A6A6")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
MAX_WIDTH = 48
PAPER_A4 = "9"  # ECMA-376 paper size code
LINE_HEIGHT = 15  # points, one line of 11-point text
TITLE_HEIGHT = 20  # points, one line of the 14-point bold title
TITLE_SCALE = 14 / 11 * 1.1  # the title's characters against a column width's (11-point)
# Grade colours (Excel's own "good / neutral / bad" palette): fill, font
GRADE_COLOURS = [("C6EFCE", "006100"), ("DDEBF7", "1F4E78"), ("FFF2CC", "7F6000"),
                 ("FFC7CE", "9C0006")]


def score_format(places: int | None) -> str:
    return "0" if not places else "0." + "0" * places


@dataclass
class Cell:
    value: object
    style: str = "text"


@dataclass
class Table:
    """One sheet: a title row, a header row, body rows; what to freeze and highlight."""

    name: str
    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)
    freeze_columns: int = 0            # columns kept visible when scrolling right
    grade_column: int | None = None    # 1-based column coloured by grade
    grades: list[str] = field(default_factory=list)
    mark_column: int | None = None     # 1-based column whose "去掉…"/"回避" rows are shaded
    widths: dict[int, float] = field(default_factory=dict)   # fixed widths by column

    def add(self, *values) -> None:
        self.rows.append(list(values))


def _shown(value) -> str:
    if isinstance(value, Cell):
        value = value.value
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return "" if value is None else str(value)


class Styles:
    """Prepared style arrays for one workbook, by name."""

    def __init__(self, worksheet):
        header = Font(bold=True)
        center = Alignment(horizontal="center", vertical="center", wrap_text=True)
        grey = PatternFill("solid", start_color="E7E6E6")
        specs = {
            "wrap": dict(alignment=Alignment(wrap_text=True, vertical="top")),
            "int": dict(number_format="0"),
            "score": dict(number_format=SCORE),
            "score4": dict(number_format="0.0000"),
            "dropped": dict(number_format=SCORE, font=Font(strike=True, color="C00000")),
            "recused": dict(font=Font(color="7F7F7F")),
            "header": dict(border=GRID, font=header, fill=grey, alignment=center),
            "title": dict(font=Font(bold=True, size=14),
                          alignment=Alignment(wrap_text=True, vertical="center")),
            "note": dict(font=Font(italic=True, color="595959")),
            "label": dict(border=GRID, font=header, fill=grey,
                          alignment=Alignment(vertical="top")),
        }
        self._arrays = {}
        for name, attributes in specs.items():
            cell = WriteOnlyCell(worksheet, None)
            for attribute, value in attributes.items():
                setattr(cell, attribute, value)
            self._arrays[name] = cell._style

    def cell(self, worksheet, value, style: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(worksheet, xlsx_text(value))
        if cell.data_type == "f":  # a name starting with "=": text, never a formula
            cell.data_type = "s"
        cell._style = copy(self._arrays[style])
        return cell


def _measure(table: Table) -> dict[int, float]:
    """Width of each column from its distinct texts (a long sheet repeats most of them).

    Headers wrap onto two lines, so a long header needs only half its width.
    """
    distinct: dict[int, set[str]] = {}
    for row in table.rows:
        for index, value in enumerate(row, start=1):
            if not (isinstance(value, Cell) and value.style in ("wrap", "note")):
                distinct.setdefault(index, set()).add(_shown(value))
    widths = {}
    for index, text in enumerate(table.header, start=1):
        header = display_width(text)
        data = max(map(display_width, distinct.get(index, {""})))
        widths[index] = min(MAX_WIDTH, max(6, data, header if header <= 10 else
                                           math.ceil(header / 2) + 1) + 2)
    return widths


def _row_heights(table: Table, widths: dict[int, float]) -> dict[int, float]:
    """Wrapped cells need taller rows: LibreOffice does not grow a row by itself."""
    # A title wider than its table wraps in its merged cell (LibreOffice clips the rest).
    title_lines = math.ceil(display_width(table.title) * TITLE_SCALE / max(sum(
        widths.get(index, 8) for index in range(1, max(len(table.header), 1) + 1)), 1))
    heights = {1: TITLE_HEIGHT * max(title_lines, 1), 2: LINE_HEIGHT * 2}
    for number, row in enumerate(table.rows, start=3):
        lines = max((math.ceil(display_width(_shown(value)) / max(widths[index] - 2, 1))
                     for index, value in enumerate(row, start=1)
                     if isinstance(value, Cell) and value.style == "wrap"), default=1)
        if lines > 1:
            heights[number] = LINE_HEIGHT * lines
    return heights


def write_table(workbook, table: Table, styles_of: dict) -> None:
    """Stream `table` into a new write-only sheet, formatted for A4 landscape print."""
    sheet = workbook.create_sheet(table.name)
    styles = styles_of.setdefault("styles", Styles(sheet))
    columns = max(len(table.header), 1)
    widths = {**_measure(table), **table.widths}
    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index)].width = width
    for number, height in _row_heights(table, widths).items():
        sheet.row_dimensions[number].height = height
    sheet.freeze_panes = f"{get_column_letter(table.freeze_columns + 1)}3"
    _page_setup(sheet, table, columns)
    # the table only: gridlines are printed over the print area, which would otherwise
    # run on to the columns the title spills over
    sheet.print_area = f"A1:{get_column_letter(columns)}{len(table.rows) + 2}"
    sheet.append([styles.cell(sheet, table.title, "title")])
    sheet.append([styles.cell(sheet, text, "header") for text in table.header])
    cell = styles.cell
    for row in table.rows:
        # Plain text goes in as it is: most cells of a long sheet need no style at all,
        # and a styled cell costs several times more to write.
        sheet.append([
            cell(sheet, value.value, value.style) if isinstance(value, Cell)
            else cell(sheet, value, "score") if isinstance(value, Decimal)
            else cell(sheet, value, "int") if isinstance(value, int) and value is not True
            else xlsx_cell(sheet, value)
            for value in row
        ])
    last_row = len(table.rows) + 2
    if table.grade_column and table.rows:
        _grade_colours(sheet, table, last_row)
    if table.mark_column and table.rows:
        _mark_shading(sheet, table, last_row)


def _page_setup(sheet, table: Table, columns: int) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = PAPER_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0       # as many pages down as it takes
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:2"
    sheet.print_options.horizontalCentered = True
    sheet.print_options.gridLines = True     # body cells carry no borders of their own
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    sheet.oddFooter.right.text = "&A"
    if columns > 1:
        sheet.merged_cells.add(f"A1:{get_column_letter(columns)}1")


def _grade_colours(sheet, table: Table, last_row: int) -> None:
    """Best grade green, worst red, those between blue then yellow."""
    column = get_column_letter(table.grade_column)
    count = len(table.grades)
    colours = GRADE_COLOURS[:max(count - 1, 0)][:len(GRADE_COLOURS) - 1] + [GRADE_COLOURS[-1]]
    for grade, (fill, font) in zip(table.grades, colours, strict=False):
        sheet.conditional_formatting.add(f"{column}3:{column}{last_row}", CellIsRule(
            operator="equal", formula=[f'"{grade}"'],
            fill=PatternFill("solid", start_color=fill, end_color=fill),
            font=Font(color=font, bold=True)))


def _mark_shading(sheet, table: Table, last_row: int) -> None:
    """Whole rows whose treatment column says a mark was dropped or recused."""
    column = get_column_letter(table.mark_column)
    cells = f"A3:{get_column_letter(len(table.header))}{last_row}"
    for word, colour in (("去掉", "FCE4D6"), ("回避", "EDEDED")):
        sheet.conditional_formatting.add(cells, FormulaRule(
            formula=[f'ISNUMBER(SEARCH("{word}",${column}3))'],
            fill=PatternFill("solid", start_color=colour, end_color=colour)))
