"""What every question importer (GIFT, Aiken, Moodle XML, …) returns, and the helpers they share.

An importer turns a foreign file into items in the content format (see ``docs/content-format.md``)
in one language. Questions it cannot represent faithfully are skipped with the line and the
reason, never silently altered; input it cannot read at all raises :class:`ImportSyntaxError`
naming the line.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import nh3

from elearn.domain.images import PLACEHOLDER_ALT, image_name, image_problem


@dataclass(frozen=True)
class Skipped:
    line: int  # 1-based line in the source where the question starts
    reason: str  # e.g. "essay questions cannot be scored", "embedded file not supported"


@dataclass(frozen=True)
class Imported:
    """What happened to one imported question: its line and every change made to it ("" none)."""

    line: int  # 1-based line in the source where the question starts (0: unknown)
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    # Items in the content format (dicts that ItemSpec.model_validate accepts), one language.
    items: list[dict[str, Any]]
    skipped: list[Skipped]
    # One entry per item, in the same order: where it was and what was changed in taking it.
    imported: list[Imported] = field(default_factory=list)
    # The categories met, in order, as (topic id, title as the file names it).
    categories: list[tuple[str, str]] = field(default_factory=list)
    # The image files the items name, by file name (see elearn.domain.images).
    files: dict[str, bytes] = field(default_factory=dict)

    def outcome(self, index: int) -> Imported:
        """The entry of ``items[index]`` (an importer that records none: the line of its source)."""
        if index < len(self.imported):
            return self.imported[index]
        found = _LINE.search(str(self.items[index].get("source", "")))
        return Imported(int(found.group(1)) if found else 0)


_LINE = re.compile(r"line (\d+)\)$")


class ImportSyntaxError(ValueError):
    """Input that cannot be read as the format at all; names the 1-based line."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "œ": "oe", "ð": "d", "þ": "th", "ł": "l"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, fallback: str) -> str:
    """A lower-case ``[a-z0-9-]`` slug of ``text`` (æ->ae, ø->o, å->a), at most 80 characters.

    ``fallback`` is returned when nothing of ``text`` survives.
    """
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii")
    result = _NOT_SLUG.sub("-", ascii_only).strip("-")[:80].rstrip("-")
    return result or fallback


# --- helpers the importers share ----------------------------------------------------------------


def lines_of(text: str) -> list[str]:
    """The lines of ``text`` as editors number them (``\\n``, ``\\r\\n`` or ``\\r`` end a line).

    Raises :class:`ImportSyntaxError` on text that is not valid Unicode (a lone surrogate).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, start=1):
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            raise ImportSyntaxError(number, "the text is not valid Unicode") from None
    return lines


def source_note(format_name: str, source_name: str, line: int) -> str:
    """The ``source`` of an imported item: "Imported from GIFT (file.gift, line 12)"."""
    where = f"{source_name}, line {line}" if source_name else f"line {line}"
    return f"Imported from {format_name} ({where})"


class IdAllocator:
    """Item ids unique within one import: a name's slug, else ``prefix-001``; clashes get -2, -3."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.taken: set[str] = set()

    def take(self, name: str, number: int) -> str:
        base = slug(name, f"{self.prefix}-{number:03d}")
        candidate, n = base, 1
        while candidate in self.taken:
            n += 1
            suffix = f"-{n}"
            candidate = base[: 80 - len(suffix)].rstrip("-") + suffix
        self.taken.add(candidate)
        return candidate


_BLOCK_END = re.compile(
    r"<br\s*/?>|</(?:p|div|li|h[1-6]|tr|blockquote|pre|table|ul|ol|dl|dt|dd)\s*>", re.IGNORECASE
)
_CELL_END = re.compile(r"</t[dh]\s*>", re.IGNORECASE)


_PRE = re.compile(r"<pre\b[^>]*>(.*?)</pre\s*>", re.IGNORECASE | re.DOTALL)
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_HOLD = "\ufdef"  # a noncharacter: where a <pre> block goes back once the rest is tidied


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: sanitised with nh3, then every tag stripped.

    Line breaks and block ends become new lines, runs of spaces one space; entities are decoded,
    so the result is text to be escaped when shown, never markup. Within ``<pre>`` the line
    breaks and the indentation are kept (only spaces at the ends of its lines go).
    """
    safe = nh3.clean(markup.replace(_HOLD, "\ufffd"))
    blocks: list[str] = []

    def hold(match: re.Match[str]) -> str:
        inner = _BR.sub("\n", match.group(1))
        text = html.unescape(nh3.clean(inner, tags=set()))
        lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        blocks.append("\n".join(lines))
        return f"\n{_HOLD}\n"

    safe = _PRE.sub(hold, safe)
    spaced = _CELL_END.sub(" ", _BLOCK_END.sub("\n", safe))
    text = html.unescape(nh3.clean(spaced, tags=set()))
    lines = (" ".join(line.split()) for line in text.split("\n"))
    out = "\n".join(line for line in lines if line)
    pieces = iter(blocks)
    return "\n".join(next(pieces) if line == _HOLD else line for line in out.split("\n")).strip(
        "\n"
    )


# --- images in a question's text ------------------------------------------------------------------


_TAG = re.compile(r"<\s*([a-zA-Z][a-zA-Z0-9]*)")
# Tags whose meaning plain text keeps: paragraphs and line breaks become new lines, <pre> keeps
# its lines, a span or a div carries nothing a reader sees (or styles nh3 removes anyway).
_KEPT_TAGS = frozenset({"p", "br", "div", "span", "pre", "code", "html", "body"})


def formatting_dropped(markup: str) -> str | None:
    """The report line for HTML formatting that plain text loses (bold, lists, links, …)."""
    tags = sorted({t.lower() for t in _TAG.findall(markup)} - _KEPT_TAGS - {"img"})
    if not tags:
        return None
    shown = ", ".join(f"<{t}>" for t in tags[:6]) + (", …" if len(tags) > 6 else "")
    return f"HTML formatting was reduced to plain text ({shown})"


PLACEHOLDER_NOTE = "an image had no alt text: a marked placeholder was written; describe it"


class MediaRefused(ValueError):
    """A question whose text holds media elearn cannot show as its author meant: skip it."""


@dataclass(frozen=True)
class TakenImage:
    name: str  # <sha256>.<ext>
    data: bytes
    alt: str  # as given, or PLACEHOLDER_ALT


_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_MEDIA_TAG = re.compile(
    r"<\s*(video|audio|iframe|object|embed|svg|picture|canvas|math|source|track|image)\b",
    re.IGNORECASE,
)
_MEDIA_LINK = re.compile(
    r"""<a\b[^>]*href\s*=\s*["']?([^"'\s>]+\.(?:mp3|mp4|m4a|wav|ogg|oga|ogv|webm|mov|avi|"""
    r"""flv|wmv|aac|flac|midi?|swf|pdf))\b""",
    re.IGNORECASE,
)
_DATA_URI = re.compile(r"^data:image/[a-z0-9.+-]+;base64,(.*)$", re.IGNORECASE | re.DOTALL)


def media_refusal(markup: str) -> str | None:
    """Why a text with audio, video or a link to media the question depends on is skipped."""
    tag = _MEDIA_TAG.search(markup)
    if tag:
        return f"the question depends on embedded media (<{tag.group(1).lower()}>), not imported"
    link = _MEDIA_LINK.search(markup)
    if link:
        return f"the question depends on the linked media file {link.group(1)[:80]!r}"
    return None


def decode_base64(text: str) -> bytes | None:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def take_images(
    markup: str, resolve: Callable[[str], bytes | None], notes: list[str]
) -> tuple[str, list[TakenImage]]:
    """The ``<img>`` of a question's text taken out as images, and the text without them.

    ``resolve`` gives the bytes of a ``src`` (a ``data:`` URI is read here); an image that
    cannot be found or is not a PNG, JPEG, GIF or WebP of at most 2 MB raises
    :class:`MediaRefused`, as do audio, video and links to media. A missing alt text becomes
    the marked placeholder, and every such change is added to ``notes``.
    """
    refusal = media_refusal(markup)
    if refusal:
        raise MediaRefused(refusal)
    taken: list[TakenImage] = []

    def take(match: re.Match[str]) -> str:
        attrs = {
            m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
            for m in _ATTR.finditer(match.group(0))
        }
        src = attrs.get("src", "").strip()
        inline = _DATA_URI.match(src)
        data = decode_base64(inline.group(1)) if inline else resolve(src)
        shown = src if not inline else "an inline data: image"
        if data is None:
            raise MediaRefused(f"the image {shown[:80]!r} is not in the file")
        problem = image_problem(data)
        if problem:
            raise MediaRefused(f"the image {shown[:80]!r}: {problem}")
        alt = " ".join(attrs.get("alt", "").split())
        if not alt:
            alt = PLACEHOLDER_ALT
            _add(notes, PLACEHOLDER_NOTE)
        taken.append(TakenImage(image_name(data), data, alt))
        return "\ufdee"

    rest = _IMG.sub(take, markup.replace("\ufdee", "\ufffd"))
    after = rest[rest.find("\ufdee") + 1 :].replace("\ufdee", " ") if taken else ""
    if taken and html_to_text(after):  # text after the first image: it moves below the text
        _add(notes, "images are shown after the question text (one stood within it)")
    return rest.replace("\ufdee", " "), taken


def image_fields(
    taken: list[TakenImage], lang: str, files: dict[str, bytes]
) -> list[dict[str, Any]]:
    """The ``images`` of an item dict for the images taken; their bytes go into ``files``."""
    out = []
    for image in taken:
        files[image.name] = image.data
        out.append({"file": image.name, "alt": {lang: image.alt}})
    return out


def _add(notes: list[str], note: str) -> None:
    if note not in notes:
        notes.append(note)


def resolver(files: Mapping[str, bytes]) -> Callable[[str], bytes | None]:
    """Resolve ``@@PLUGINFILE@@/name`` (Moodle's reference to a file of the question)."""

    def resolve(src: str) -> bytes | None:
        prefix = "@@PLUGINFILE@@/"
        if not src.startswith(prefix):
            return None
        return files.get(unquote(src[len(prefix) :]))

    return resolve
