"""CSV cells that a spreadsheet would run as formulas are written as text, and read back as written."""

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.spreadsheet import csv_response, csv_text, neutralise_cell, restore_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example","Click")', '\'=HYPERLINK("http://evil.example","Click")'),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("+49 30 1234", "'+49 30 1234"),  # shown as +49 30 1234: spreadsheets hide the apostrophe
        ("'=already marked", "''=already marked"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("ada@example.com", "ada@example.com"),
        ("it's fine", "it's fine"),
        ("", ""),
        (None, ""),
        (42, "42"),
        # A number is a figure, not text someone typed: a negative one stays a number (no formula can
        # hide in it); the same characters as text are still marked.
        (-3, "-3"),
        ("-3", "'-3"),
    ],
)
def test_neutralise_cell(value, written):
    assert neutralise_cell(value) == written


@given(st.text())
def test_restore_undoes_neutralise_for_every_string(value):
    assert restore_cell(neutralise_cell(value)) == value


@given(st.text())
def test_no_neutralised_cell_starts_a_formula(value):
    assert not neutralise_cell(value).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_csv_response_is_an_excel_friendly_download_with_every_cell_neutralised():
    response = csv_response([["Name", "Phone"], ["=1+1", "+49 30 1234"]], filename="leads.csv", delimiter=";")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="leads.csv"'
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff") and body.endswith("\r\n")
    assert list(csv.reader(io.StringIO(body[1:]), delimiter=";")) == [["Name", "Phone"], ["'=1+1", "'+49 30 1234"]]
    assert body == csv_text([["Name", "Phone"], ["=1+1", "+49 30 1234"]], delimiter=";")
