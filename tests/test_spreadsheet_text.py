"""Text in exported CSV, XLSX and XML: shown as text, never run, always readable."""

from __future__ import annotations

import factories as f
import pytest

from evaluation.imports.cells import clean_text
from evaluation.models import Agency, Role
from evaluation.spreadsheet_text import csv_cell, csv_value, xlsx_text, xml_text


@pytest.mark.parametrize("text", ["=1+1", "+A1", "-1+2", "@SUM(A1)", "\t=1", "\r=1",
                                  "'=1", "''+x", "-00:05"])
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe_and_reads_back(text):
    cell = csv_cell(text)
    assert cell == "'" + text
    assert csv_value(cell) == text


@pytest.mark.parametrize("value", ["市司法局", "'引号", "-1.5", "+2", "85.33", "", 7, None])
def test_names_numbers_and_non_text_pass_unchanged(value):
    assert csv_cell(value) == value
    if isinstance(value, str):
        assert csv_value(value) == value


def test_control_characters_are_left_out_of_xlsx_and_xml():
    assert xlsx_text("甲\x07局\x0b\t\n") == "甲局\t\n"
    assert xml_text("甲\x00局\x1f\ufffe\t\r\n") == "甲局\t\r\n"
    assert xlsx_text(3) == 3


def test_names_pasted_from_word_are_stored_without_control_characters(db, web):
    # Word's manual line break (\x0b) and cell mark (\x07) come along when a name is copied
    # out of a Word table. Stored, they drew a missing-glyph box in the PNG charts and made
    # the SVG charts unreadable XML; they are dropped at the form, as the import already
    # folded whitespace.
    org = f.org(db, "甲市普法办")
    agency = f.agency(db, org, "市司法局")
    f.user(db, Role.ORGANIZER, org, username="li")
    web.login("li")
    response = web.post(f"/admin/agencies/{agency.id}/edit",
                        {"name": "市司法\x07局\x0b", "level": "city", "region": "韶关\x1f市"})
    assert response.status_code == 302
    db.expire_all()
    stored = db.get(Agency, agency.id)
    assert (stored.name, stored.region) == ("市司法局", "韶关市")


def test_imported_cells_lose_control_characters_too():
    assert clean_text("市司法局\x07") == "市司法局"
    assert clean_text("市\x00司法\x08局\x7f") == "市司法局"
