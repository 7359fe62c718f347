"""Certificate PDFs print every holder's name whole: in the bundled fonts for Latin (with the
Sámi, Polish, Turkish and Vietnamese letters), Greek, Cyrillic, CJK, Hebrew and Arabic, embedded
and extracted unchanged; wrapped or shrunk when long; never a box (issue 14, point 10)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest

from elearn.pdf import PAGE_HEIGHT, PAGE_WIDTH, CertificateText, render_certificate
from elearn.pdf.text import FontError, FontFile, load
from tests.pdf.reading import (
    boxes,
    flat_text,
    pdffonts,
    shown_codes,
    text_lines,
    to_unicode,
    words,
)
from tests.pdf.testfont import FAMILY, build_devanagari_font

TEXT = CertificateText(
    language="en",
    holder="Åse Øvrebø Ærlig",
    achievement="Knowledge test: sustainability in the public sector",
    issued=dt.date(2026, 11, 20),
    valid_until=dt.date(2028, 11, 20),
    issuer="elearn – Eksempel kommune",
    code="K7QM-3XPA-9TRD",
    verify_url="https://elearn.example.org/verify/K7QM-3XPA-9TRD",
)
INNER_FRAME = 28.0 + 6  # the hairline frame; nothing may be drawn beyond it

NAMES = {
    "sámi": "Áilu Čuđejávri Ŋŋ",
    "sámi-2": "Máret Šuđđá Ánde Ŧŧ Žž Ǯǯ",
    "polish": "Łukasz Żółć",
    "turkish": "Işıl Ağaoğlu Şükrü İnce",
    "vietnamese": "Nguyễn Thị Hồng Nhung",
    "greek": "Γιώργος Παπαδόπουλος",
    "cyrillic": "Анна Кузнецова",
    "ukrainian": "Олена Ґудзь-Їжакевич",
    "chinese": "王小明",
    "japanese": "山田 太郎 さくら カタカナ",
    "korean": "김민준",
    "hebrew": "דוד כהן",
    "arabic": "محمد عبد الله",
    "arabic-2": "فاطمة الزهراء",
    "persian": "پریسا گلچین",
    "hebrew-arabic": "דוד محمد",
}


def assert_printed_whole(pdf: bytes, tmp_path: Path) -> None:
    """Every font embedded (TrueType, subset, with a Unicode map) and no character a box."""
    fonts = pdffonts(pdf, tmp_path)
    assert fonts, "no fonts at all"
    for font in fonts:
        assert font.embedded and font.type == "TrueType" and font.unicode, font
    assert boxes(pdf) == []


@pytest.mark.parametrize("script", NAMES)
def test_a_name_in_each_covered_script_is_embedded_and_extracts_unchanged(
    script: str, tmp_path: Path
) -> None:
    name = NAMES[script]
    pdf = render_certificate(replace(TEXT, holder=name))
    assert_printed_whole(pdf, tmp_path)
    assert name in text_lines(pdf, tmp_path), f"{name!r} not a line of the page"


def test_a_decomposed_name_prints_in_its_composed_form(tmp_path: Path) -> None:
    composed = "Nguyễn Thị Hồng Nhung"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    pdf = render_certificate(replace(TEXT, holder=decomposed))
    assert_printed_whole(pdf, tmp_path)
    assert composed in text_lines(pdf, tmp_path)


def test_a_name_mixing_scripts_takes_each_letter_from_a_font_that_has_it(tmp_path: Path) -> None:
    pdf = render_certificate(replace(TEXT, holder="Anna 王 Γιώργος Łukasz"))
    assert_printed_whole(pdf, tmp_path)
    assert "Anna 王 Γιώργος Łukasz" in text_lines(pdf, tmp_path)
    names = {font.name.split("+", 1)[1] for font in pdffonts(pdf, tmp_path)}
    assert {"DejaVuSans-Bold", "WenQuanYiMicroHei-0"} <= names


@pytest.mark.parametrize("holder", ["محمد", "דוד محمد", "Łukasz محمد"])
def test_arabic_letters_take_their_joined_forms(holder: str, tmp_path: Path) -> None:
    """Meem begins and continues "محمد": two different glyphs for one letter, each read back as
    that letter, also beside Hebrew or Latin. (Visual order is shown by the extraction test
    above: pdftotext reads a line from right to left, so letters drawn in logical order would
    come out reversed.)"""
    pdf = render_certificate(replace(TEXT, holder=holder))
    shown = shown_codes(pdf)
    meem = [
        code
        for key, texts in to_unicode(pdf).items()
        for code, text in texts.items()
        if text == "م" and code in shown[key.split()[0]]
    ]
    assert len(meem) == 2
    assert_printed_whole(pdf, tmp_path)


def test_a_lam_alef_ligature_maps_to_both_letters_in_logical_order() -> None:
    """One glyph for two letters; its ToUnicode entry says lam then alef (poppler's pdftotext
    shows such multi-letter glyphs reversed inside right-to-left lines: its quirk, not ours)."""
    pdf = render_certificate(replace(TEXT, holder="صلاح"))
    texts = {text for font in to_unicode(pdf).values() for text in font.values()}
    assert "لا" in texts
    assert boxes(pdf) == []


@pytest.mark.parametrize("length", [60, 90, 120])
def test_a_long_name_is_printed_whole_within_the_frame(length: int, tmp_path: Path) -> None:
    parts = ["Maja", "Kristine", "Østergaard-Lindqvist", "Aasheim", "Bjørnstad-Hægeland"]
    holder = ""
    index = 0
    while len(holder) < length:
        holder = f"{holder} {parts[index % len(parts)]}".strip()
        index += 1
    holder = holder[:length].rstrip("- ")
    assert length - 3 <= len(holder) <= length
    pdf = render_certificate(replace(TEXT, holder=holder))
    assert_printed_whole(pdf, tmp_path)
    assert holder in flat_text(pdf, tmp_path)  # line breaks only between words
    page = words(pdf, tmp_path)
    for word in page:
        assert word.x_min >= INNER_FRAME and word.x_max <= PAGE_WIDTH - INNER_FRAME, word
        assert word.y_min >= INNER_FRAME and word.y_max <= PAGE_HEIGHT - INNER_FRAME, word
    # The name stays between "This certifies that" and "has completed", at most two lines.
    above = next(w for w in page if w.text == "certifies")
    below = next(w for w in page if w.text == "completed")
    name_words = [w for w in page if above.y_max < w.y_min and w.y_max < below.y_min]
    assert " ".join(w.text for w in name_words) == holder
    assert len({round(w.y_min) for w in name_words}) <= 2


def test_a_120_character_name_is_not_shrunk_below_twelve_points(tmp_path: Path) -> None:
    holder = " ".join(["Bjørnstad-Hægeland"] * 7)[:120]
    page = words(render_certificate(replace(TEXT, holder=holder)), tmp_path)
    name = [w for w in page if w.text.startswith("Bjørnstad")]
    assert name and min(w.y_max - w.y_min for w in name) >= 12


def test_a_name_without_spaces_is_broken_not_cut(tmp_path: Path) -> None:
    holder = "Østergaard" * 12
    pdf = render_certificate(replace(TEXT, holder=holder))
    assert_printed_whole(pdf, tmp_path)
    assert holder in flat_text(pdf, tmp_path).replace(" ", "")
    for word in words(pdf, tmp_path):
        assert word.x_min >= INNER_FRAME and word.x_max <= PAGE_WIDTH - INNER_FRAME, word


def test_a_short_name_stays_on_one_line_at_full_size(tmp_path: Path) -> None:
    page = words(render_certificate(TEXT), tmp_path)
    name = [w for w in page if w.text in TEXT.holder.split()]
    assert len(name) == 3 and len({w.y_min for w in name}) == 1
    assert name[0].y_max - name[0].y_min > 30  # 32 points, as before


# --- Scripts no bundled font covers ---------------------------------------------------------


def test_a_script_no_font_covers_is_written_in_latin_letters_and_said_so(tmp_path: Path) -> None:
    pdf = render_certificate(replace(TEXT, holder="राम कृष्ण"))
    assert_printed_whole(pdf, tmp_path)
    text = flat_text(pdf, tmp_path)
    assert "ram krsn" in text
    assert "राम" not in text
    assert "Name in Latin letters; the name as registered is on the verification page" in text


def test_a_covered_name_has_no_note_about_latin_letters(tmp_path: Path) -> None:
    text = flat_text(render_certificate(replace(TEXT, holder="Анна Кузнецова")), tmp_path)
    assert "Latin letters" not in text


@pytest.fixture(scope="module")
def devanagari_font(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_devanagari_font(tmp_path_factory.mktemp("fonts") / "deva.ttf")


def test_an_operators_font_prints_a_further_script_exactly(
    devanagari_font: Path, tmp_path: Path
) -> None:
    pdf = render_certificate(replace(TEXT, holder="कखग"), extra_fonts=[devanagari_font])
    assert_printed_whole(pdf, tmp_path)
    assert "कखग" in text_lines(pdf, tmp_path)
    assert any(FAMILY in font.name for font in pdffonts(pdf, tmp_path))
    assert "Latin letters" not in flat_text(pdf, tmp_path)


def test_a_font_with_cff_outlines_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "cff.otf"
    path.write_bytes(b"OTTO" + bytes(200))
    with pytest.raises(FontError, match=r"cff\.otf: cannot embed it .*TrueType"):
        load(FontFile(path))


def test_a_missing_font_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FontError, match="no such font file"):
        load(FontFile(tmp_path / "missing.ttf"))


@pytest.mark.parametrize("holder", [NAMES["chinese"], NAMES["arabic"], NAMES["hebrew"]])
def test_names_in_other_scripts_render_the_same_bytes_each_time(holder: str) -> None:
    text = replace(TEXT, holder=holder)
    assert render_certificate(text) == render_certificate(text)


def test_a_character_beyond_the_bmp_extracts_as_itself(tmp_path: Path) -> None:
    """reportlab writes such a code point into the ToUnicode map as five hex digits, which
    readers cannot use; the map takes it as UTF-16 (a surrogate pair)."""
    pdf = render_certificate(replace(TEXT, holder="Anna 😀 Berg"))
    assert_printed_whole(pdf, tmp_path)
    assert "Anna 😀 Berg" in text_lines(pdf, tmp_path)
