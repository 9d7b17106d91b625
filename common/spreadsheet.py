"""Every CSV file Handoff writes goes through here, so no cell can run as a spreadsheet formula.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (`=HYPERLINK(…)`, `+SUM(A1)`, `@cmd`): OWASP's "CSV injection". Such a
cell is written with a leading apostrophe, which spreadsheets read as "this is text" and do not show,
so `+49 30 1234` still reads as a phone number. The CSV import calls `restore_cell` on every value, so
a file we wrote comes back with its original values when a user fixes it and uploads it again.

    from common.spreadsheet import csv_response

    return csv_response([["Name", "Email"], *rows], filename="leads.csv")
"""

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse
from django.utils.http import content_disposition_header

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBERS = frozenset({int, float, Decimal})
TEXT_MARK = "'"


def neutralise_cell(value: object) -> str:
    """`value` as a cell no spreadsheet runs as a formula: a leading apostrophe where one could.

    Values that already start with apostrophes before such a character get one more, so that
    `restore_cell(neutralise_cell(v)) == v` for every string. A number is written as it is: a
    negative figure is no formula, and must stay a number to the spreadsheet.
    """
    # The plain types first (a CSV of 400 reps writes ~6,000 counts); a bool is no number here.
    if type(value) in _NUMBERS or (isinstance(value, int | float | Decimal) and not isinstance(value, bool)):
        return str(value)
    text = "" if value is None else str(value)
    return TEXT_MARK + text if text.lstrip(TEXT_MARK).startswith(FORMULA_STARTS) else text


def restore_cell(value: str) -> str:
    """The value `neutralise_cell` was given: drops the apostrophe it added, leaves anything else alone."""
    if value.startswith(TEXT_MARK) and value.lstrip(TEXT_MARK).startswith(FORMULA_STARTS):
        return value[1:]
    return value


def csv_text(rows: Iterable[Sequence[object]], *, delimiter: str = ",") -> str:
    """`rows` as CSV text, every cell neutralised, with a byte order mark and CRLF line ends so Excel
    opens it in UTF-8 as it opens its own files."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows([neutralise_cell(cell) for cell in row] for row in rows)
    return out.getvalue()


def csv_response(rows: Iterable[Sequence[object]], *, filename: str, delimiter: str = ",") -> HttpResponse:
    """A download of `rows` (the header first) as the CSV file `filename`; see `csv_text`."""
    return HttpResponse(
        csv_text(rows, delimiter=delimiter),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition_header(True, filename)},
    )
