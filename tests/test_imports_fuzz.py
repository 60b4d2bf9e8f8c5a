"""Hypothesis over the Excel importers: random and broken workbooks (random cells and types,
merged cells, empty sheets, garbage bytes, truncated zips) give problems that name the file or
the sheet, row and column, never an exception; a refused import stores nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import zipfile

import factories as f
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlmodel import SQLModel

from evaluation.imports import KINDS, parse_workbook
from evaluation.imports.templates import template_workbook
from evaluation.services.imports import ImportRefused, commit_import

HEADINGS = sorted({name for spec in KINDS.values() for column in spec.columns
                   for name in column.names})
cells = st.one_of(
    st.none(), st.sampled_from(HEADINGS), st.text(max_size=12), st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=False), st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
    st.sampled_from(["市直", "区县", "是", "否", "10", "10.5", " 5 ", "=1+1", "#N/A"]),
)
# Sheet titles Excel accepts: at most 31 characters, none of []:*?/\.
titles = st.text(st.characters(blacklist_characters="[]:*?/\\'", blacklist_categories=("Cs",
                                                                                     "Cc")),
                 min_size=1, max_size=31)
rows = st.lists(st.lists(cells, max_size=8), max_size=12)


def _illegal_free(value):
    # openpyxl refuses control characters in cells; a real file cannot hold them either.
    if isinstance(value, str):
        return "".join(ch for ch in value if ch >= " " or ch in "\t\n")
    return value


@st.composite
def workbooks(draw, kind: str) -> bytes:
    """A workbook from scratch or from the kind's template, with random sheets and merges."""
    if draw(st.booleans()):
        book = load_workbook(io.BytesIO(template_workbook(kind)))
    else:
        book = Workbook()
        if draw(st.booleans()):
            book.active.title = draw(titles)
    for _ in range(draw(st.integers(0, 2))):
        title = draw(titles)
        if title not in book.sheetnames:
            book.create_sheet(title)
    for sheet in book.worksheets:
        for row in draw(rows):
            sheet.append([_illegal_free(value) for value in row])
        for _ in range(draw(st.integers(0, 2))):
            top, left = draw(st.integers(1, 14)), draw(st.integers(1, 8))
            height, width = draw(st.integers(0, 3)), draw(st.integers(0, 3))
            if height or width:
                with contextlib.suppress(ValueError):  # overlaps an earlier merge
                    sheet.merge_cells(start_row=top, start_column=left,
                                      end_row=top + height, end_column=left + width)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _position(data: bytes, draw) -> int:
    # A fraction of the length, not an index bounded by it: the saved bytes carry openpyxl's
    # save time, so their length can change by a byte when hypothesis replays an example, and
    # a draw whose bounds change between replays is refused as flaky.
    return draw(st.integers(0, 9999)) * len(data) // 10000


def broken(data: bytes, draw) -> bytes:
    """The same bytes truncated, with bytes overwritten, or a zip with a damaged member."""
    how = draw(st.sampled_from(["truncate", "overwrite", "member", "garbage"]))
    if how == "truncate":
        return data[: _position(data, draw)]
    if how == "overwrite":
        at = _position(data, draw)
        patch = draw(st.binary(min_size=1, max_size=64))
        return data[:at] + patch + data[at + len(patch):]
    if how == "member":
        source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
        victim = draw(st.sampled_from(source.namelist()))
        with zipfile.ZipFile(out, "w") as target:
            for name in source.namelist():
                body = source.read(name)
                target.writestr(name, body[: len(body) // 2] if name == victim else body)
        return out.getvalue()
    return draw(st.binary(max_size=2048))


def assert_clear(parsed) -> None:
    for problem in [*parsed.problems, *parsed.notes]:
        text = problem.text()  # every placeholder filled
        assert text.strip()
        if problem.row is not None:  # a row is always named with its sheet
            assert problem.sheet
        if problem.column:
            assert problem.row is not None or problem.sheet, problem


def stored(db) -> dict[str, int]:
    return {table.name: db.exec(select(func.count()).select_from(table)).one()[0]
            for table in SQLModel.metadata.sorted_tables}


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_and_broken_workbooks_give_clear_problems(kind, data):
    workbook = data.draw(workbooks(kind))
    if data.draw(st.booleans()):
        workbook = broken(workbook, data.draw)
    assert_clear(parse_workbook(kind, workbook))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_refused_imports_store_nothing(db):
    campaign = f.campaign(db, f.org(db))
    outcomes = {"refused": 0, "stored": 0}

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(kind=st.sampled_from(sorted(KINDS)), data=st.data())
    def attempt(kind, data):
        workbook = data.draw(workbooks(kind))
        if data.draw(st.integers(0, 3)) == 0:
            workbook = broken(workbook, data.draw)
        parsed = parse_workbook(kind, workbook)
        before = stored(db)
        try:
            commit_import(db, campaign, parsed)
        except ImportRefused as refused:
            assert refused.args or parsed.problems
            assert stored(db) == before
            outcomes["refused"] += 1
            return
        assert parsed.problems == []  # only a clean workbook is ever written
        outcomes["stored"] += 1

    attempt()
    assert outcomes["refused"] > 0
