"""What a name or a free text may hold, wherever it enters (forms, staff files, commands).

Text is stored in Unicode's composed form (NFC), so that "Å" typed on a Mac (A + ring, NFD) and
"Å" typed elsewhere are the same name, sort, search and print alike. Refused, with the reason:

- control characters (Unicode category Cc: C0, DEL and C1, NUL among them; PostgreSQL cannot
  store NUL at all) and lone surrogates. Tab and line breaks (LF, CR) are allowed in multi-line
  text only: a name or other one-line text is one line;
- the bidirectional embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069: they
  reorder the text around them on every page that shows it (a name with U+202E reads backwards
  on a manager's page, the verify page and a credential). The marks U+200E, U+200F and U+061C
  are allowed: they set the direction of the neutral characters beside them and reorder no
  letters, and mixed Arabic or Hebrew and Latin text needs them;
- text with nothing visible: only spaces, zero-width characters or blank letters (the Hangul
  fillers, the blank Braille pattern). A required text must show at least one letter, digit,
  punctuation mark or symbol; an optional text of spaces only is empty.
"""

from __future__ import annotations

import unicodedata

from elearn.domain.errors import N_

BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
LINE_CHARACTERS = frozenset("\t\n\r\u2028\u2029")
MULTILINE_ALLOWED = frozenset("\t\n\r")
# Letters and symbols that draw nothing: a "name" of these would look empty.
BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800")

CONTROL = N_("contains a control character, which is not allowed")
BIDI = N_("contains a character that reverses the direction of text, which is not allowed")
LINE = N_("must be one line: tabs and line breaks are not allowed")
BLANK = N_("needs visible text, not only spaces or invisible characters")


class TextRefused(ValueError):
    """Why a text was refused: ``message`` (a phrase that follows the field's name, marked for
    translation) and the first offending character as ``U+XXXX``, if there is one."""

    def __init__(self, message: str, char: str = "") -> None:
        super().__init__(message, char)
        self.message = message
        self.char = char

    def __str__(self) -> str:
        return f"{self.message} ({self.char})" if self.char else self.message


def _code(char: str) -> str:
    return f"U+{ord(char):04X}"


def visible(char: str) -> bool:
    """Whether a character draws something: a letter, digit, punctuation mark or symbol."""
    return unicodedata.category(char)[0] in "LNPS" and char not in BLANK_LOOKALIKES


def clean_text(value: str, *, multiline: bool = False, required: bool = False) -> str:
    """The text in NFC, trimmed at both ends when it is one line; TextRefused if it may not be
    stored. An optional text of spaces only comes back empty."""
    text = unicodedata.normalize("NFC", value)
    for char in text:
        if char in BIDI_CONTROLS:
            raise TextRefused(BIDI, _code(char))
        if multiline and char in MULTILINE_ALLOWED:
            continue
        if char in LINE_CHARACTERS:
            raise TextRefused(LINE, _code(char))
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise TextRefused(CONTROL, _code(char))
    if not multiline:
        text = text.strip()
    if any(visible(char) for char in text):
        return text
    if not required and not text.strip():
        return ""
    raise TextRefused(BLANK)


def clean_name(value: str) -> str:
    """A person's or a unit's name: one line, NFC, trimmed, with something visible in it."""
    return clean_text(value, multiline=False, required=True)


def refused_characters(text: str) -> list[tuple[int, TextRefused]]:
    """Each line (1-based) of a file's text that holds a control (but tab and CR) or a
    bidi-override character, with the first of them: for files (content, imports), which are
    checked, not cleaned."""
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        for char in line:
            if char in BIDI_CONTROLS:
                found.append((number, TextRefused(BIDI, _code(char))))
                break
            if char not in MULTILINE_ALLOWED and unicodedata.category(char) in ("Cc", "Cs"):
                found.append((number, TextRefused(CONTROL, _code(char))))
                break
    return found
