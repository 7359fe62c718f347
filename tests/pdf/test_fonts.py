"""The fonts elearn ships for PDFs: TrueType with glyf outlines (reportlab cannot embed CFF),
each with its licence, covering what docs/decisions/0011-certificate-fonts.md promises."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from elearn.pdf.text import BUNDLED, CJK, DEJAVU, DEJAVU_BOLD, FONT_DIR, FontFile

ROOT = Path(__file__).resolve().parents[2]
LICENCES = {
    "DejaVuSans.ttf": ["DejaVu-LICENSE.txt", "DejaVu-AUTHORS.txt"],
    "DejaVuSans-Bold.ttf": ["DejaVu-LICENSE.txt", "DejaVu-AUTHORS.txt"],
    "wqy-microhei.ttc": ["WenQuanYi-LICENSE-Apache-2.0.txt", "WenQuanYi-README.txt"],
}


def font(file: FontFile) -> TTFont:
    return TTFont(str(file.path), fontNumber=file.index, lazy=True)


def test_every_font_file_shipped_is_one_the_pdfs_use() -> None:
    shipped = {p.name for p in FONT_DIR.iterdir() if p.suffix in (".ttf", ".ttc", ".otf")}
    assert shipped == {file.path.name for file in BUNDLED} == set(LICENCES)


@pytest.mark.parametrize("file", BUNDLED, ids=lambda f: f.path.name)
def test_a_bundled_font_is_truetype_with_glyf_outlines(file: FontFile) -> None:
    loaded = font(file)
    assert loaded.sfntVersion == "\x00\x01\x00\x00"
    assert "glyf" in loaded and "CFF " not in loaded and "CFF2" not in loaded
    assert loaded["OS/2"].fsType & 0x2 == 0, "the font forbids embedding"


@pytest.mark.parametrize("name", sorted(LICENCES))
def test_a_bundled_font_has_its_licence_beside_it_and_in_the_readme(name: str) -> None:
    readme = (FONT_DIR / "README.md").read_text(encoding="utf-8")
    assert f"`{name}`" in readme
    for licence in LICENCES[name]:
        assert (FONT_DIR / licence).stat().st_size > 500, licence
        assert f"`{licence}`" in readme


def test_the_fonts_are_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "pdf/fonts/*" in config["tool"]["setuptools"]["package-data"]["elearn"]


def covered(file: FontFile, first: int, last: int) -> float:
    cmap = font(file).getBestCmap()
    return sum(code in cmap for code in range(first, last + 1)) / (last - first + 1)


@pytest.mark.parametrize("file", [DEJAVU, DEJAVU_BOLD], ids=["regular", "bold"])
@pytest.mark.parametrize(
    ("block", "first", "last", "share"),
    [
        ("Latin-1 Supplement letters", 0xC0, 0xFF, 1.0),
        ("Latin Extended-A", 0x100, 0x17F, 1.0),
        ("Latin Extended-B", 0x180, 0x24F, 1.0),
        ("Vietnamese (Latin Extended Additional)", 0x1EA0, 0x1EF9, 1.0),
        ("Greek letters", 0x391, 0x3CE, 0.98),
        ("Cyrillic", 0x400, 0x4FF, 1.0),
        ("Hebrew letters", 0x5D0, 0x5EA, 1.0),
        ("Arabic letters", 0x621, 0x63A, 1.0),
        ("Arabic letters after tatweel", 0x640, 0x64A, 1.0),
        ("Arabic presentation forms B", 0xFE80, 0xFEFC, 1.0),
    ],
)
def test_dejavu_covers_the_promised_letters(
    file: FontFile, block: str, first: int, last: int, share: float
) -> None:
    assert covered(file, first, last) >= share, block


@pytest.mark.parametrize(
    ("block", "first", "last"),
    [
        ("CJK Unified Ideographs", 0x4E00, 0x9FA5),
        ("Hiragana", 0x3041, 0x3094),
        ("Katakana", 0x30A1, 0x30F6),
        ("Hangul syllables", 0xAC00, 0xD7A3),
    ],
)
def test_the_cjk_font_covers_the_promised_characters(block: str, first: int, last: int) -> None:
    assert covered(CJK, first, last) == 1.0, block


@pytest.mark.parametrize("file", [DEJAVU, DEJAVU_BOLD], ids=["regular", "bold"])
def test_dejavu_has_the_persian_letters(file: FontFile) -> None:
    cmap = font(file).getBestCmap()
    assert all(ord(letter) in cmap for letter in "پچژگکی")
