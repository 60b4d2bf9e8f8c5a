"""Names and free text written into files an organizer opens in Excel or WPS.

Agency, judge and group names, campaign titles and recusal reasons are typed by people
(some of them by inspectors and judges, not organizers), so in an export they are data and
must never become code:

* CSV: Excel and WPS run a cell that starts with = + - @ (or a tab / carriage return before
  one) as a formula, e.g. `=HYPERLINK("http://…?"&A1, "详见")` sends the sheet's data away
  on a click. Such a cell gets a leading apostrophe (OWASP's CSV-injection advice), which
  the spreadsheet shows as text. A plain number ("-1.5") is left alone: it is no formula.
* XLSX: a cell's type is explicit, so only openpyxl's own rule bites: it writes any string
  starting with "=" as a formula. Such a cell is written with the string type instead, and
  reads back exactly as typed.
* XLSX and XML both refuse C0 control characters (Word's line break \\x0b and cell mark
  \\x07 come with pasted text): openpyxl raises, and XML parsers reject the whole document.
  They are dropped from the file; forms and imports drop them on the way in too
  (`without_controls`), since charts and every other output would otherwise meet them.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
# A cell that would need the apostrophe, possibly behind apostrophes of its own (so that
# `csv_value` can take exactly one off again).
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")
_NEEDS_ESCAPE = re.compile(r"'*[=+\-@\t\r]")
# What openpyxl refuses (openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE).
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# C0 controls but tab, newline and carriage return, and DEL: no one means to type them.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# What XML 1.0 does not allow at all (section 2.2, Char).
_NOT_IN_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def without_controls(text: str) -> str:
    """`text` as typed, without the control characters pasted along with it."""
    return _CONTROLS.sub("", text)


def typed_text(text: str | None) -> str:
    """Free text a service takes straight from a request (not through a WTForms field, whose
    `strip` filter does the same): trimmed, without what Word pastes along (\\x07, \\x0b)."""
    return without_controls(text or "").strip()


def csv_cell(value: object) -> object:
    """`value` as a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if not isinstance(value, str) or _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value if _NEEDS_ESCAPE.match(value) else value


def csv_value(cell: str) -> str:
    """The text `csv_cell` was given (for files pingyi reads back, like the re-tally bundle)."""
    return cell[1:] if _ESCAPED.match(cell) else cell


def xlsx_text(value: object) -> object:
    """`value` without the characters a workbook cannot hold."""
    if not isinstance(value, str) or value.isprintable():
        return value  # every cell of a workbook passes here: the common case costs no regex
    return _NOT_IN_XLSX.sub("", value)


def xlsx_cell(worksheet, value: object):
    """What to append to `worksheet` for `value`: text stays text, even when it starts with =.

    Works for write-only and ordinary sheets alike; non-text values pass through.
    """
    value = xlsx_text(value)
    if isinstance(value, str) and value.startswith("="):
        # imported here: openpyxl costs every server start, and most callers never need it
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(worksheet, value)
        cell.data_type = "s"
        return cell
    return value


def xml_text(value: str) -> str:
    """`value` with only the characters an XML 1.0 document may contain."""
    return _NOT_IN_XML.sub("", value)
