"""Opening an uploaded file as an .xlsx workbook, by its content and within limits."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from evaluation.imports.model import N_

MAX_BYTES = 5 * 1024 * 1024
# A 5 MB zip may inflate to gigabytes (a zip bomb); real sheets compress about 10:1.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_COLUMNS = 50
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and other pre-2007 Office files
REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")


class UnreadableWorkbook(ValueError):
    """The file is not a workbook we can read; `rule` says why, in a user's words."""

    def __init__(self, rule: str, **params: object):
        super().__init__(rule % params if params else rule)
        self.rule = rule
        self.params = {key: str(value) for key, value in params.items()}


def check_xlsx(data: bytes) -> None:
    """Raise UnreadableWorkbook unless `data` looks like an .xlsx within the limits."""
    if not data:
        raise UnreadableWorkbook(N_("文件是空的。"))
    if len(data) > MAX_BYTES:
        raise UnreadableWorkbook(
            N_("文件大小 %(size)s MB，超过上限 %(limit)s MB。"),
            size=f"{len(data) / 1024 / 1024:.1f}",
            limit=MAX_BYTES // 1024 // 1024,
        )
    if data.startswith(OLE2_MAGIC):
        raise UnreadableWorkbook(
            N_("这是旧版 Excel（.xls）文件。请在 Excel 或 WPS 中“另存为”.xlsx 格式后再上传。")
        )
    not_xlsx = N_("这不是 Excel .xlsx 文件（CSV、WPS .et 等格式请先另存为 .xlsx）。")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnreadableWorkbook(not_xlsx) from exc
    if not all(part in names for part in REQUIRED_PARTS):
        raise UnreadableWorkbook(not_xlsx)
    if unzipped > MAX_UNZIPPED_BYTES:
        raise UnreadableWorkbook(N_("工作簿解压后过大，无法读取。"))


def open_workbook(data: bytes):
    """A read-only openpyxl workbook with cached formula values (not formulas)."""
    from openpyxl import load_workbook  # imported late: the web process rarely needs it

    check_xlsx(data)
    return load_workbook(io.BytesIO(data), read_only=True, data_only=True)


def sheet_rows(worksheet, first_row: int = 1) -> Iterator[tuple[int, tuple]]:
    """(Excel row number, values) from `first_row` on, at most MAX_COLUMNS wide.

    The width is capped because a single stray cell in column XFD would otherwise make
    every row 16,384 values long.
    """
    rows = worksheet.iter_rows(min_row=first_row, max_col=MAX_COLUMNS, values_only=True)
    for number, values in enumerate(rows, start=first_row):
        yield number, tuple(values)
