"""A small TrueType font made for a test: glyf outlines for a few letters no bundled font has."""

from __future__ import annotations

from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

# Three Devanagari consonants and a space: a script elearn ships no font for.
LETTERS = {"space": 0x20, "ka": 0x915, "kha": 0x916, "ga": 0x917}
FAMILY = "ElearnTestDeva"


def build_devanagari_font(path: Path) -> Path:
    """Write the font to `path` (each letter a plain rectangle) and return the path."""
    builder = FontBuilder(1000, isTTF=True)
    names = [".notdef", *LETTERS]
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({code: name for name, code in LETTERS.items()})
    glyphs = {}
    for name in names:
        pen = TTGlyphPen(None)
        if name != "space":
            pen.moveTo((100, 0))
            pen.lineTo((100, 700))
            pen.lineTo((500, 700))
            pen.lineTo((500, 0))
            pen.closePath()
        glyphs[name] = pen.glyph()
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (600, 100) for name in names})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": FAMILY, "styleName": "Regular"})
    builder.setupOS2(fsType=0)
    builder.setupPost()
    builder.save(str(path))
    return path
