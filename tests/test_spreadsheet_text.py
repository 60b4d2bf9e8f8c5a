"""Text in exported CSV, XLSX and XML: shown as text, never run, always readable."""

from __future__ import annotations

import pytest

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
