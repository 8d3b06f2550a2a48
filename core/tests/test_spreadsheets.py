"""Every CSV the portal writes goes through one helper that keeps spreadsheets from running a
cell as a formula (the exports' own tests: royalties/tests/test_views.py, audits/tests/test_views.py)."""

import csv
import io

import pytest

from core.spreadsheets import csv_lines, safe_cell


@pytest.mark.parametrize(
    "text", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://e.example")', "-", "+"]
)
def test_a_cell_that_a_spreadsheet_would_run_is_written_as_text(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["Lighthouse", "", "0.01", "-500", "-0.0000000000000005", "+3", 12, -4, None]
)
def test_plain_text_and_numbers_are_left_alone(value):
    assert safe_cell(value) == value


def test_csv_lines_quote_and_neutralise_every_row():
    body = "".join(csv_lines([["title", "url"], ["=A1", 'a,"b"'], [-7, "@x"]]))
    assert list(csv.reader(io.StringIO(body))) == [["title", "url"], ["'=A1", 'a,"b"'], ["-7", "'@x"]]
