"""Every CSV file elearn writes, written one way: cells that a spreadsheet would run as formulas
are neutralised (CSV injection, OWASP's rule), so a name such as ``=HYPERLINK(...)`` that a
learner typed reaches a manager's spreadsheet as text.

A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a single
quote in front (``'=HYPERLINK(...)``); spreadsheet programs show the rest as text. The same is
done after a comma, a semicolon or a line break inside a cell: a Norwegian or Danish Excel splits
our comma-separated file at semicolons (its list separator), and a quoted line break can end up
outside its quotes then, so each of those can start a cell of its own. Plain numbers ("-0.25",
"-12.50") are not formulas and stay as they are; numbers given as int or float pass unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

# OWASP's list: what a spreadsheet reads as the start of a formula (or of a DDE call).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER = re.compile(r"(^|[,;\r\n])(?=[=+\-@\t\r])")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_cell(value: Any) -> Any:
    """The value as a cell no spreadsheet runs: numbers as they are, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
        if _PLAIN_NUMBER.fullmatch(text):
            return text
        return _TRIGGER.sub(r"\1'", text)
    return value


def write_csv(
    *,
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    line_end: str = "\r\n",
) -> str:
    """A CSV document (header row first) with every cell passed through ``safe_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()
