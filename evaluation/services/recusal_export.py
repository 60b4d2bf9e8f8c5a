"""The recusal register as CSV (UTF-8 with BOM, so Excel opens the Chinese right) or XLSX."""

from __future__ import annotations

import csv
import io

from evaluation.services.conflicts import Recusal, export_header
from evaluation.spreadsheet_text import csv_cell, xlsx_cell


def recusals_csv(rows: list[Recusal]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(export_header())
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row.as_row()])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def recusals_xlsx(rows: list[Recusal], title: str) -> bytes:
    # Imported here, not at the top: openpyxl (and numpy, which it imports) cost ~0.25 s of
    # every server start, and a restarted server mid-show needs neither
    # (tests/test_serve.py::test_serving_imports_no_report_libraries).
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "回避登记"
    sheet.append([xlsx_cell(sheet, title)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(export_header())
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([xlsx_cell(sheet, cell) for cell in row.as_row()])
    for column, width in zip("ABCDE", (12, 14, 28, 20, 40), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
