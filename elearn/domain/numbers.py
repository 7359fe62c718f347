"""Whole numbers read from posted text, bounded, so that odd input is refused and never crashes."""

from __future__ import annotations

# The largest id a database key holds here (PostgreSQL's integer); any bigger number names nothing.
LARGEST_ID = 2**31 - 1


def whole_number(text: str, maximum: int = LARGEST_ID) -> int | None:
    """``text`` as a whole number 0..maximum written in the digits 0-9, else None.

    ``str.isdigit`` alone lets through what ``int`` refuses (the superscript '²') and strings of
    thousands of digits (``int`` refuses more than 4,300), so both are checked here.
    """
    if not text or not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    value = int(text)
    return value if value <= maximum else None
