"""Lines of text for PDFs in any script we ship a font for: each character drawn with a font
that has its glyph, right-to-left runs shaped (HarfBuzz) and put in visual order, long text
wrapped; a character that no font covers is transliterated, so a PDF never shows a box."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from anyascii import anyascii
from reportlab.lib.colors import Color
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont, shapeStr
from reportlab.pdfgen.canvas import Canvas

FONT_DIR = Path(__file__).resolve().parent / "fonts"


class FontError(ValueError):
    """A font that cannot be embedded: missing, unreadable, or not TrueType (CFF outlines)."""


@dataclass(frozen=True)
class FontFile:
    """A TrueType font file (face ``index`` of a collection) and whether its own weight is bold."""

    path: Path
    index: int = 0
    bold: bool = False


# The bundled fonts, in the order they are asked for a glyph (fonts/README.md says what each
# covers). Operators may add files after them (CERTIFICATE_FONTS) for further scripts.
DEJAVU = FontFile(FONT_DIR / "DejaVuSans.ttf")
DEJAVU_BOLD = FontFile(FONT_DIR / "DejaVuSans-Bold.ttf", bold=True)
CJK = FontFile(FONT_DIR / "wqy-microhei.ttc")
BUNDLED: tuple[FontFile, ...] = (DEJAVU, DEJAVU_BOLD, CJK)

# Where the Unicode character behind a glyph is a contextual or ligature form, text extraction
# should give the letters themselves (U+FEE3 ARABIC LETTER MEEM INITIAL FORM reads as U+0645).
_FORM_TAGS = ("<initial>", "<medial>", "<final>", "<isolated>")
_PRIVATE = range(0xE000, 0xF900)
_BFCHAR = re.compile(r"^<([0-9A-F]{2})> <([0-9A-F]+)>$", re.MULTILINE)


class _Font(TTFont):  # type: ignore[misc]
    """A TrueType font whose ToUnicode maps give the text a reader should extract: the letters
    behind presentation forms, the text behind glyphs that HarfBuzz reached only through a
    private code, and characters beyond the BMP as UTF-16 (reportlab writes them as is)."""

    def __init__(self, name: str, file: FontFile) -> None:
        super().__init__(name, str(file.path), subfontIndex=file.index)
        self.file = file
        self.private_text: dict[int, str] = {}

    def covers(self, char: str) -> bool:
        return ord(char) in self.face.charToGlyph and ord(char) not in _PRIVATE

    def addObjects(self, doc: Any) -> None:
        before = set(doc.idToObject)
        super().addObjects(doc)
        for key in sorted(set(doc.idToObject) - before):
            if key.startswith("toUnicodeCMap:"):
                stream = doc.idToObject[key]
                stream.content = _BFCHAR.sub(self._entry, stream.content)

    def _entry(self, match: re.Match[str]) -> str:
        code = int(match.group(2), 16)
        if code < 0x0600:  # no presentation forms or private codes below Arabic: as written
            return match.group(0)
        text = self.private_text.get(code) if code in _PRIVATE else None
        if text is None:
            char = chr(code)
            text = char
            if unicodedata.decomposition(char).startswith(_FORM_TAGS):
                text = unicodedata.normalize("NFKC", char)
        return f"<{match.group(1)}> <{text.encode('utf-16-be').hex().upper()}>"


_LOADING = threading.Lock()


def load(file: FontFile) -> _Font:
    """Read a font once per process; FontError says why one cannot be embedded."""
    with _LOADING:  # one object per font: its ToUnicode fixes live on it
        return _load(file)


@cache
def _load(file: FontFile) -> _Font:
    if not file.path.is_file():
        raise FontError(f"{file.path}: no such font file")
    try:
        font = _Font(f"elearn:{file.path}:{file.index}", file)
    except (OSError, TTFError) as error:
        raise FontError(
            f"{file.path}: cannot embed it ({error}); a TrueType font (glyf outlines) is needed"
        ) from error
    pdfmetrics.registerFont(font)
    return font


@dataclass(frozen=True)
class Style:
    """The fonts asked in turn for each character, and the weight wanted."""

    files: tuple[FontFile, ...]
    bold: bool = False


def style(*, bold: bool = False, extra: Sequence[Path] = ()) -> Style:
    """The bundled fonts in the weight, then the operator's own (CERTIFICATE_FONTS)."""
    first = DEJAVU_BOLD if bold else DEJAVU
    return Style((first, CJK, *(FontFile(Path(p)) for p in extra)), bold=bold)


@lru_cache(maxsize=4096)
def _first_face(char: str, style: Style) -> _Font | None:
    """The first of the style's fonts with a glyph for `char`; each font is read only when a
    character needs it (the CJK font is large)."""
    return next((font for font in map(load, style.files) if font.covers(char)), None)


def _face_for(char: str, style: Style, previous: _Font | None) -> _Font | None:
    """The first font with a glyph for `char`; spaces, punctuation and marks keep the font
    before them when it has them, so a run is not split by a space."""
    if previous is not None and not _is_strong(char) and previous.covers(char):
        return previous
    return _first_face(char, style)


# --- What gets printed --------------------------------------------------------------------------

_JOINERS = frozenset("\u200c\u200d")  # ZWNJ and ZWJ steer shaping (Persian), drawn as nothing


@dataclass(frozen=True)
class Printable:
    """Text as it will be printed; `transliterated` when some of it had no font."""

    text: str
    transliterated: bool


@lru_cache(maxsize=1024)
def printable(text: str, style: Style) -> Printable:
    """NFC, whitespace collapsed, invisible format characters dropped, and each character that
    no font covers written in Latin letters (anyascii), so that nothing is drawn as a box."""
    text = " ".join(unicodedata.normalize("NFC", text).split())
    out: list[str] = []
    transliterated = False
    for char in text:
        category = unicodedata.category(char)
        if char in _JOINERS:
            out.append(char)
        elif category in ("Cc", "Cf", "Cs", "Co", "Cn"):
            transliterated = transliterated or category in ("Co", "Cn")
        elif _face_for(char, style, None) is not None:
            out.append(char)
        else:
            out.append(anyascii(char))
            transliterated = True
    return Printable(" ".join("".join(out).split()), transliterated)


# --- Laying out one line ------------------------------------------------------------------------


def _is_strong(char: str) -> bool:
    return unicodedata.bidirectional(char) in ("L", "R", "AL")


def _needs_shaping(char: str) -> bool:
    """Right-to-left letters, combining marks, joiners and the scripts whose letters change
    shape or order (Indic, Southeast Asian) need HarfBuzz; Latin, Greek, Cyrillic and CJK do not."""
    code = ord(char)
    return (
        unicodedata.bidirectional(char) in ("R", "AL")
        or unicodedata.combining(char) != 0
        or char in _JOINERS
        or 0x0900 <= code < 0x1100
        or 0x1700 <= code < 0x1A00
    )


def _script(char: str) -> str:
    """The script of a letter as far as shaping tells them apart: Unicode's name starts with it
    ("ARABIC LETTER MEEM", "HEBREW LETTER DALET", "CJK UNIFIED IDEOGRAPH-5C71")."""
    return unicodedata.name(char, "").split(" ", 1)[0]


def _levels(text: str) -> list[int]:
    """Embedding levels by the Unicode bidirectional algorithm, reduced to what a name needs:
    the first strong letter sets the direction (P2), numbers run left to right, neutrals between
    two runs of one direction take it and otherwise the line's (N1, N2), marks follow (W1)."""
    classes = [unicodedata.bidirectional(c) for c in text]
    base = next((1 if b in ("R", "AL") else 0 for b in classes if b in ("L", "R", "AL")), 0)
    strong: list[int | None] = []
    for b in classes:
        if b in ("R", "AL"):
            strong.append(1)
        elif b in ("L", "EN", "AN"):
            strong.append(0)
        else:
            strong.append(None)
    resolved: list[int] = []
    for i, direction in enumerate(strong):
        if direction is None and classes[i] == "NSM" and resolved:
            direction = resolved[-1]
        if direction is None:
            before = next((d for d in reversed(strong[:i]) if d is not None), base)
            after = next((d for d in strong[i + 1 :] if d is not None), base)
            direction = before if before == after else base
        resolved.append(direction)
    # Odd levels run right to left: on a left-to-right line that is 1, on a right-to-left
    # line left-to-right text rises to 2.
    return [d if base == 0 else (1 if d == 1 else 2) for d in resolved]


@dataclass(frozen=True)
class Run:
    """Part of a line in one font and direction, in the order it is drawn (left to right)."""

    font: _Font
    text: str  # a reportlab ShapedStr where HarfBuzz shaped it
    advance: float  # width at size 1
    fake_bold: bool


@dataclass(frozen=True)
class Line:
    """One line, its runs in visual order."""

    runs: tuple[Run, ...]

    def width(self, size: float) -> float:
        return sum(run.advance for run in self.runs) * size


def _shaped(text: str, font: _Font) -> str:
    """HarfBuzz's glyphs for `text` in visual order (reportlab's ShapedStr), remembering the
    text behind glyphs that have no character of their own, for the ToUnicode map."""
    shaped: str = shapeStr(text, font.fontName, 1000)
    data = getattr(shaped, "__shapeData__", None)
    if data is None:
        return shaped
    starts = sorted({d.cluster for d in data} | {len(text)})
    for char, d in zip(shaped, data, strict=False):
        if ord(char) in _PRIVATE and ord(char) not in font.private_text:
            end = starts[starts.index(d.cluster) + 1]
            font.private_text[ord(char)] = text[d.cluster : end]
    return shaped


def _advance(text: str, font: _Font) -> float:
    data = getattr(text, "__shapeData__", None)
    if data is not None:
        return float(sum(d.x_advance for d in data)) / 1000
    return float(font.stringWidth(text, 1))


@lru_cache(maxsize=512)
def layout(text: str, style: Style) -> Line:
    """Split printable `text` into runs by font and direction and order them for drawing (the
    reordering rule L2 on runs; HarfBuzz orders the glyphs inside a right-to-left run)."""
    levels = _levels(text)
    pieces: list[tuple[_Font, int, str]] = []
    previous: _Font | None = None
    script = ""
    for char, level in zip(text, levels, strict=True):
        font = _face_for(char, style, previous)
        if font is None:  # printable() leaves no such character; a joiner has no glyph
            font = previous or load(style.files[0])
        # HarfBuzz shapes a run as one script: Hebrew next to Arabic are two runs.
        same_script = not _is_strong(char) or _script(char) == script
        if pieces and pieces[-1][0] is font and pieces[-1][1] == level and same_script:
            pieces[-1] = (font, level, pieces[-1][2] + char)
        else:
            pieces.append((font, level, char))
        if _is_strong(char):
            script = _script(char)
        previous = font
    if pieces:
        for level in range(max(p[1] for p in pieces), 0, -1):
            i = 0
            while i < len(pieces):
                if pieces[i][1] >= level:
                    j = i
                    while j < len(pieces) and pieces[j][1] >= level:
                        j += 1
                    pieces[i:j] = reversed(pieces[i:j])
                    i = j
                else:
                    i += 1
    runs: list[Run] = []
    for font, level, piece in pieces:
        if level % 2 or any(_needs_shaping(c) for c in piece):
            drawn = _shaped(piece, font)
        else:
            drawn = piece
        fake_bold = style.bold and not font.file.bold
        runs.append(Run(font, drawn, _advance(drawn, font), fake_bold))
    return Line(tuple(runs))


# --- Wrapping and fitting -----------------------------------------------------------------------


def _pieces(word: str, style: Style, width: float) -> list[str]:
    """A word too wide for a line, cut between characters (never before a combining mark)."""
    parts: list[str] = []
    current = ""
    for char in word:
        candidate = current + char
        if (
            current
            and unicodedata.combining(char) == 0
            and layout(candidate, style).width(1) > width
        ):
            parts.append(current)
            current = char
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def wrap(text: str, style: Style, size: float, width: float) -> list[str]:
    """Lines of printable `text` at `size` that are each at most `width` wide, broken between
    words, or inside a word only where the word alone is wider."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if layout(candidate, style).width(size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if layout(word, style).width(size) <= width:
            current = word
        else:
            *whole, current = _pieces(word, style, width / size)
            lines.extend(whole)
    if current or not lines:
        lines.append(current)
    return lines


def fit(
    text: str, style: Style, width: float, sizes: Iterable[float], most: int
) -> tuple[float, list[Line]] | None:
    """The first of `sizes` at which `text` wraps into at most `most` lines of `width`."""
    for size in sizes:
        lines = wrap(text, style, size, width)
        if len(lines) <= most:
            return size, [layout(line, style) for line in lines]
    return None


def single(text: str, style: Style, size: float, width: float, smallest: float) -> float:
    """The largest size up to `size` at which one line of `text` fits `width`, not below
    `smallest` (a value such as an address is not wrapped)."""
    natural = layout(text, style).width(size)
    if natural <= width:
        return size
    return max(smallest, size * width / natural)


# --- Drawing ------------------------------------------------------------------------------------

_FAKE_BOLD_STROKE = 0.03  # of the size: a regular-only font drawn filled and stroked as bold


def draw(
    canvas: Canvas, line: Line, *, x: float, y: float, size: float, ink: Color, centred: bool
) -> None:
    """Draw `line` with its baseline at `y`, starting at `x` or centred on it."""
    left = x - line.width(size) / 2 if centred else x
    canvas.setFillColor(ink)
    for run in line.runs:
        text = canvas.beginText(left, y)
        text.setFont(run.font.fontName, size)
        if run.fake_bold:
            canvas.saveState()
            canvas.setStrokeColor(ink)
            canvas.setLineWidth(size * _FAKE_BOLD_STROKE)
            text.setTextRenderMode(2)
        text.textOut(run.text)
        canvas.drawText(text)
        if run.fake_bold:
            canvas.restoreState()
        left += run.advance * size
