"""CSV files the portal writes, safe to open in a spreadsheet.

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Google Sheets (CSV injection: `=HYPERLINK(...)` from a dataset's URL or a
work's title would run when the recipient opens their statement). Every such text cell is
written with a leading apostrophe, which spreadsheets show as text; numbers the portal formats
itself (a negative amount "-0.01") are left alone, since a plain number cannot be a formula.
Every CSV goes through `csv_response`.
"""

import csv
import re
from collections.abc import Iterable

from django.http import StreamingHttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def safe_cell(value):
    """`value` as a spreadsheet will read it as data, never as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    if _PLAIN_NUMBER.match(value):
        return value
    return "'" + value


def safe_row(row: Iterable) -> list:
    return [safe_cell(value) for value in row]


class _Echo:
    def write(self, value):
        return value


def csv_lines(rows: Iterable[Iterable]) -> Iterable[str]:
    """Each row as one CSV line, every cell made safe."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(safe_row(row))


def csv_response(rows: Iterable[Iterable], *, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of `rows` (a generator is read as the client reads)."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
