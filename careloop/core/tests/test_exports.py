"""Exports never hand a spreadsheet a live formula typed by someone else (CSV/formula
injection): a complaint's summary from the public online channel is text, in CSV and xlsx."""

from __future__ import annotations

import csv
import io
import zipfile

from careloop.core.exports import csv_response, xlsx_response

ROWS = [['=HYPERLINK("http://evil","点我")', "+1", "-2+3", "@SUM(A1)", "正常", 5, None]]


def test_csv_cells_that_start_like_a_formula_are_quoted_as_text():
    response = csv_response("x", ["a", "b", "c", "d", "e", "f", "g"], ROWS)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    _header, row = list(csv.reader(io.StringIO(text)))
    assert row == [
        '\'=HYPERLINK("http://evil","点我")',
        "'+1",
        "'-2+3",
        "'@SUM(A1)",
        "正常",
        "5",
        "",
    ]


def test_xlsx_writes_formula_like_text_as_a_string_not_a_formula():
    response = xlsx_response("x", "表", ["a", "b", "c", "d", "e", "f", "g"], ROWS)
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
