"""Names and free text: NFC, no control or bidi-override characters, something visible."""

from __future__ import annotations

import unicodedata

import pytest

from elearn.domain.text import (
    BIDI,
    BLANK,
    CONTROL,
    LINE,
    TextRefused,
    clean_name,
    clean_text,
    refused_characters,
)


def refusal(value: str, **kw: bool) -> TextRefused:
    with pytest.raises(TextRefused) as caught:
        clean_text(value, **kw)
    return caught.value


def test_a_name_is_stored_composed_and_trimmed() -> None:
    decomposed = unicodedata.normalize("NFD", "  Åse Ødegård-Nguyễn ")
    assert decomposed != "Åse Ødegård-Nguyễn"
    assert clean_name(decomposed) == "Åse Ødegård-Nguyễn"
    assert unicodedata.is_normalized("NFC", clean_name(decomposed))


@pytest.mark.parametrize(
    "name",
    ["Kari Nordmann", "Ánde Sárá", "Łukasz Żółć", "Çağrı Öztürk", "Νίκος", "Анна", "王小明",
     "אבי כהן", "فاطمة الزهراء", "O'Brien", "Kari (HR) 100%", "Jos\u00e9 \u200eNguyen"],
)  # fmt: skip
def test_names_in_many_scripts_pass_unchanged(name: str) -> None:
    assert clean_name(name) == name


@pytest.mark.parametrize(
    ("value", "message", "char"),
    [
        ("Ann\x00Admin", CONTROL, "U+0000"),
        ("Ann\x1bAdmin", CONTROL, "U+001B"),
        ("Ann\x7f", CONTROL, "U+007F"),
        ("Ann\x85", CONTROL, "U+0085"),  # C1: NEXT LINE
        ("Ann\x9b", CONTROL, "U+009B"),
        ("Ann\ud800", CONTROL, "U+D800"),  # a lone surrogate
        ("Ann\u202eniminda", BIDI, "U+202E"),
        ("\u202aAnn", BIDI, "U+202A"),
        ("Ann\u2066x\u2069", BIDI, "U+2066"),
        ("Ann\u2069", BIDI, "U+2069"),
        ("Ann\tAdmin", LINE, "U+0009"),
        ("Ann\nAdmin", LINE, "U+000A"),
        ("Ann\rAdmin", LINE, "U+000D"),
        ("Ann\u2028Admin", LINE, "U+2028"),
    ],
)
def test_a_name_refuses_control_bidi_and_line_characters(
    value: str, message: str, char: str
) -> None:
    refused = refusal(value, required=True)
    assert (refused.message, refused.char) == (message, char)
    assert str(refused) == f"{message} ({char})"


@pytest.mark.parametrize(
    "value", ["", "   ", "\u00a0\u3000", "\u200b\u200b", "\u3164", "\u2800", " \u200e ", "\u0301"]
)
def test_a_name_needs_something_visible(value: str) -> None:
    refused = refusal(value, required=True)
    assert refused.message == BLANK and str(refused) == BLANK


def test_multi_line_text_keeps_tabs_and_line_breaks_but_no_other_control() -> None:
    text = "First line\r\n\tindented\nlast "
    assert clean_text(text, multiline=True) == text  # kept as typed
    assert refusal("a\x00b", multiline=True).char == "U+0000"
    assert refusal("a\x0bb", multiline=True).char == "U+000B"  # vertical tab
    assert refusal("a\u202eb", multiline=True).message == BIDI
    assert refusal("a\u2029b", multiline=True).message == LINE


def test_optional_text_of_spaces_is_empty_but_invisible_text_is_refused() -> None:
    assert clean_text("   ") == "" and clean_text(" \n\t ", multiline=True) == ""
    assert refusal("\u200b").message == BLANK
    assert refusal("  ", multiline=True, required=True).message == BLANK


def test_refused_characters_names_each_line_of_a_file() -> None:
    text = "title: ok\r\nbody: a\x00b\n\n  \t\nnote: \u202eevil\n\u200b\n"
    assert [(n, r.char) for n, r in refused_characters(text)] == [(2, "U+0000"), (5, "U+202E")]
    assert refused_characters("plain\ntext\twith tab\r\n") == []
