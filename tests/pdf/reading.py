"""Reading a PDF as a reader would: poppler's pdffonts and pdftotext, and the embedded fonts."""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils.reader import PdfFileReader

# pdftotext wraps right-to-left text in directional embeddings (RLE ... PDF); they are not text.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u200e\u200f"))


def tool(name: str) -> str:
    """Path of a poppler binary; skip when absent locally, fail when absent under CI."""
    path = shutil.which(name)
    if path is None:
        if "CI" in os.environ:
            raise RuntimeError(f"{name} is required when CI is set: install Debian poppler-utils")
        pytest.skip(f"{name} not installed (Debian poppler-utils); with CI set this fails instead")
    return path


def run(*args: str | Path) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{args[0]} failed: {done.stderr}"
    return done.stdout


def _file(pdf: bytes, tmp_path: Path) -> Path:
    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    return path


def text_lines(pdf: bytes, tmp_path: Path) -> list[str]:
    """The page's lines as pdftotext reads them, directional controls removed."""
    out = run(tool("pdftotext"), _file(pdf, tmp_path), "-").translate(BIDI_CONTROLS)
    return [line.strip() for line in out.splitlines() if line.strip()]


def flat_text(pdf: bytes, tmp_path: Path) -> str:
    """The page's text with every run of whitespace (line breaks too) as one space."""
    return " ".join(" ".join(text_lines(pdf, tmp_path)).split())


@dataclass(frozen=True)
class Font:
    """One line of pdffonts."""

    name: str
    type: str
    embedded: bool
    subset: bool
    unicode: bool


def pdffonts(pdf: bytes, tmp_path: Path) -> list[Font]:
    """pdffonts' table, read by the columns its dashed line marks."""
    lines = run(tool("pdffonts"), _file(pdf, tmp_path)).splitlines()
    spans = [m.span() for m in re.finditer(r"-+", lines[1])]
    fonts = []
    for line in lines[2:]:
        cells = [line[a:b].strip() for a, b in spans]
        fonts.append(
            Font(cells[0], cells[1], cells[3] == "yes", cells[4] == "yes", cells[5] == "yes")
        )
    return fonts


@dataclass(frozen=True)
class Word:
    """A word and its box as pdftotext -bbox gives them (points, origin at the top left)."""

    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def words(pdf: bytes, tmp_path: Path) -> list[Word]:
    out = run(tool("pdftotext"), "-bbox", _file(pdf, tmp_path), "-")
    return [
        Word(html.unescape(m.group(5)).translate(BIDI_CONTROLS), *map(float, m.group(1, 2, 3, 4)))
        for m in _WORD.finditer(out)
    ]


_BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


def _page_fonts(pdf: bytes) -> dict[str, Any]:
    reader = PdfFileReader(io.BytesIO(pdf))
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    return {str(key): value.get_object() for key, value in page["/Resources"]["/Font"].items()}


def to_unicode(pdf: bytes) -> dict[str, dict[int, str]]:
    """Each font's ToUnicode map: code -> the text a reader extracts for it."""
    maps: dict[str, dict[int, str]] = {}
    for key, font in _page_fonts(pdf).items():
        if "/ToUnicode" not in font:
            continue
        data = font["/ToUnicode"].get_object().data
        maps[f"{key} {font['/BaseFont']}"] = {
            int(code, 16): bytes.fromhex(text.decode()).decode("utf-16-be")
            for code, text in _BFCHAR.findall(data.split(b"beginbfchar", 1)[1])
        }
    return maps


_SHOWN = re.compile(
    rb"(/[^\s/\[\]()<>]+)\s+[\d.]+\s+Tf|\(((?:\\[0-7]{1,3}|\\.|[^\\)])*)\)", re.DOTALL
)
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.DOTALL)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(literal: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        value = match.group(1)
        if value[:1].isdigit():
            return bytes([int(value, 8) & 0xFF])
        return _ESCAPES.get(value, value)

    return _ESCAPE.sub(one, literal)


def shown_codes(pdf: bytes) -> dict[str, set[int]]:
    """The character codes each font shows on the page, read from the content stream."""
    reader = PdfFileReader(io.BytesIO(pdf))
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    contents = page["/Contents"].get_object()
    streams = contents if isinstance(contents, list) else [contents]
    shown: dict[str, set[int]] = {}
    font = ""
    for stream in streams:
        for match in _SHOWN.finditer(stream.get_object().data):
            if match.group(1) is not None:
                font = match.group(1).decode()
            elif font:
                shown.setdefault(font, set()).update(_unescape(match.group(2)))
    return shown


def boxes(pdf: bytes) -> list[str]:
    """Every character shown with a glyph its embedded font lacks (.notdef, drawn as a box) or
    with an empty glyph; [] when each one has an outline. A font shown but not embedded counts
    too: the reader would draw it with whatever it has."""
    found: list[str] = []
    fonts = _page_fonts(pdf)
    for key, codes in shown_codes(pdf).items():
        font = fonts[key]
        descriptor = font.get("/FontDescriptor")
        if descriptor is None or "/FontFile2" not in descriptor.get_object():
            found.append(f"{key} {font['/BaseFont']}: not embedded as TrueType")
            continue
        program = TTFont(io.BytesIO(descriptor.get_object()["/FontFile2"].get_object().data))
        cmap: dict[int, str] = {}
        for table in program["cmap"].tables:
            cmap.update(table.cmap)
        notdef = program.getGlyphOrder()[0]
        texts = to_unicode(pdf).get(f"{key} {font['/BaseFont']}", {})
        for code in sorted(codes):
            text = texts.get(code, f"code {code}")
            glyph = cmap.get(code, notdef)
            if glyph == notdef:
                found.append(f"{text!r} is .notdef (a box) in {font['/BaseFont']}")
            elif not text.isspace() and program["glyf"][glyph].numberOfContours == 0:
                found.append(f"{text!r} is an empty glyph in {font['/BaseFont']}")
    return found
