"""Import questions from Moodle's GIFT format, read as Moodle reads it.

The format is described at https://docs.moodle.org/en/GIFT_format. For example::

    // a comment line
    $CATEGORY: $course$/top/Sustainability goals

    ::sdg-count::How many goals has the 2030 Agenda? {=17 ~169 ~5 ####17 goals, 169 targets.}

    The 2030 Agenda was adopted in 2015.{TRUE}

Blank lines separate questions; a line starting with ``//`` is a comment. ``::name::`` names a
question (its slug becomes the item id); ``$CATEGORY:`` sets the topic of the questions after it
(the last part of the path, slugged). A text may start with ``[html]``, ``[markdown]``,
``[plain]`` or ``[moodle]`` (the default, HTML with line breaks kept); every text is reduced to
plain text, HTML sanitised with nh3 first. ``\\~ \\= \\# \\{ \\} \\: \\\\`` are literal characters
and ``\\n`` a new line.

How each answer block maps (Moodle decides the type the same way, in this order):

- ``{}``: an essay; no braces at all: a description. Both are skipped, with their line.
- ``{#…}``: numeric. ``value:tolerance``, ``min..max`` or ``value``; several ``=%w%`` answers
  are graded bands, in order (the first that holds a response counts, as in Moodle).
- with ``~``: choices. With an ``=`` answer Moodle offers one choice: ``single_choice``, which
  scores 0 or 1, so partial credit or penalties on other answers skip the question. Without ``=``
  Moodle offers checkboxes: ``multiple_response`` keyed by the ``~%w%`` weights, whose positive
  part must add up to 100 %.
- ``=`` with ``->``: ``matching`` (a pair with nothing left of ``->`` adds a distractor).
- ``T``, ``TRUE``, ``F``, ``FALSE`` (optionally ``#feedback``): ``true_false``.
- anything else: ``short_answer``, each ``=`` answer accepted with its ``%w%`` credit; a
  zero-credit catch-all ``=%0%*`` after them (as Moodle's GIFT export writes) is left out, its
  feedback becoming the general feedback.

``####text`` at the end of a block is the general feedback (kept as ``feedback``); the per-answer
``#feedback`` is dropped, and the import report says so (every change made to a question is in
:attr:`ImportResult.imported`). An answer block within the text ("missing word") leaves ``_____``
in the stem. An ``<img>`` in the question text with a ``data:`` URI becomes an item image (a GIFT
file carries no other files); any other image, audio, video or link to media skips the question.
``<pre>`` keeps its lines and indentation. A question elearn cannot hold as its author meant it
is skipped with the reason; a block GIFT itself cannot read raises :class:`ImportSyntaxError`
and nothing is imported.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NoReturn

from markdown_it import MarkdownIt
from pydantic import ValidationError

from elearn.content.importing import (
    IdAllocator,
    Imported,
    ImportResult,
    ImportSyntaxError,
    MediaRefused,
    Skipped,
    TakenImage,
    formatting_dropped,
    html_to_text,
    image_fields,
    lines_of,
    slug,
    source_note,
    take_images,
)
from elearn.domain.content import LANGUAGES, ItemSpec
from elearn.domain.itemtypes import get_item_type
from elearn.domain.itemtypes.base import first_claiming
from elearn.domain.itemtypes.formats import GiftAnswer, Skip

FORMAT_NAME = "GIFT"

# Escaped characters become placeholders (Unicode noncharacters) while the block is split, so that
# ``\~`` is never a separator; the same code points already in the input become U+FFFD first.
_CODES = {
    "~": "\ufdd0",
    "=": "\ufdd1",
    "#": "\ufdd2",
    "{": "\ufdd3",
    "}": "\ufdd4",
    ":": "\ufdd5",
    "\\": "\ufdd6",
    "n": "\ufdd7",
}
_ESCAPE = re.compile(r"\\([~=#{}:\\n])")
_STRAY = re.compile("[\ufdd0-\ufdd7]")
_RESTORE = str.maketrans({code: ("\n" if ch == "n" else ch) for ch, code in _CODES.items()})

_FORMATS = ("moodle", "html", "plain", "markdown")
_FORMAT = re.compile(r"\[([a-z]*)\]")
_WEIGHT = re.compile(r"%(-?\d+(?:\.\d*)?)%")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_MEDIA = re.compile(
    r"<\s*(img|video|audio|iframe|object|embed|svg|picture|canvas|math)\b", re.IGNORECASE
)
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
_Skip = Skip  # a question elearn cannot hold as its author meant it: skipped, not fatal


@dataclass(frozen=True)
class _Block:
    """One question: its lines joined, stripped, comment lines blanked and escapes protected."""

    line: int  # 1-based line of its first line that is not a comment
    text: str
    topic: str

    def line_at(self, offset: int) -> int:
        return self.line + self.text.count("\n", 0, max(0, offset))


@dataclass(frozen=True)
class _Reader:
    """One block's answers as an item type reads them (:class:`GiftBlock`)."""

    block: _Block
    answer_text: str
    lo: int
    fmt: str
    notes: list[str] = field(default_factory=list)
    kept_feedback: set[int] = field(default_factory=set)

    def note(self, change: str) -> None:
        if change not in self.notes:
            self.notes.append(change)

    def feedback_used(self, offset: int) -> None:
        self.kept_feedback.add(offset)

    def answers(
        self, markers: str, weights: bool, text: str | None = None, lo: int | None = None
    ) -> list[GiftAnswer]:
        return _answers(
            self.lo if lo is None else lo,
            self.answer_text if text is None else text,
            markers,
            weights,
        )

    def to_text(self, raw: str, fmt: str) -> str:
        if fmt != "plain":
            dropped = formatting_dropped(_markup(raw, fmt))
            if dropped:
                self.note(dropped)
        return _to_text(raw, fmt)

    def plain(self, raw: str) -> str:
        return _plain(raw)

    def split_format(self, raw: str, default: str) -> tuple[str, str]:
        return _split_format(raw, default)

    def restore(self, raw: str) -> str:
        return _restore(raw)

    def number(self, offset: int, text: str) -> int | float:
        return _number(self.block, offset, text)

    def syntax_error(self, offset: int, message: str) -> NoReturn:
        raise ImportSyntaxError(self.block.line_at(offset), message)


def parse_gift(
    text: str, *, lang: str, default_topic: str, prefix: str = "gift", source_name: str = ""
) -> ImportResult:
    """GIFT text -> items in one language, plus the questions skipped and why.

    Raises :class:`ImportSyntaxError` naming the line of the first block GIFT cannot read; then
    nothing is imported. ``lang`` and ``default_topic`` are the caller's, not the file's: a
    language elearn does not know or a topic that is not a slug is a ``ValueError``.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{lang}'")
    if not _SLUG.fullmatch(default_topic):
        raise ValueError(f"the default topic '{default_topic}' is not a slug")
    ids = IdAllocator(slug(prefix, "gift"))
    items: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    imported: list[Imported] = []
    categories: list[tuple[str, str]] = []
    files: dict[str, bytes] = {}
    for number, block in enumerate(_blocks(lines_of(text), default_topic, categories), start=1):
        try:
            body = _question(block, lang)
            _check(body)
        except _Skip as skip:
            skipped.append(Skipped(block.line, skip.reason))
            continue
        imported.append(Imported(block.line, tuple(body["notes"])))
        produced = {
            "id": ids.take(body["name"], number),
            "topic": block.topic,
            "type": body["type"],
            "key": body["key"],
            "source": source_note(FORMAT_NAME, source_name, block.line),
        }
        if body["images"]:
            produced["images"] = image_fields(body["images"], lang, files)
        produced["text"] = body["text"]
        items.append(produced)
    return ImportResult(
        items=items, skipped=skipped, imported=imported, categories=categories, files=files
    )


# --- reading the file into blocks ----------------------------------------------------------------


def _protect(text: str) -> str:
    return _ESCAPE.sub(lambda m: _CODES[m.group(1)], _STRAY.sub("\ufffd", text))


def _restore(text: str) -> str:
    return text.translate(_RESTORE)


def _blocks(
    lines: list[str], default_topic: str, categories: list[tuple[str, str]]
) -> list[_Block]:
    """The questions of the file, with the topic that ``$CATEGORY:`` lines give each; each
    category met is added to ``categories`` as (topic, title)."""
    out: list[_Block] = []
    topic, title = default_topic, ""
    current: list[str] = []
    start = 0

    def flush() -> None:
        while current and not current[-1]:
            current.pop()  # trailing comment lines
        if current:
            out.append(_Block(start, _protect("\n".join(current)), topic))
            if title and all(topic != seen for seen, _ in categories):
                categories.append((topic, title))
        current.clear()

    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if number == 1:
            line = line.removeprefix("\ufeff").strip()
        if not line:
            flush()
        elif line.startswith("//"):
            if current:
                current.append("")  # keeps the line numbers of what follows
        elif not current and line.startswith("$CATEGORY:"):
            topic, title = _category_topic(line.removeprefix("$CATEGORY:"), default_topic)
        else:
            if not current:
                start = number
            # Only the start of a block is trimmed: indentation in a <pre> is content.
            current.append(line if not current else raw.rstrip())
    flush()
    return out


def _category_topic(path: str, default_topic: str) -> tuple[str, str]:
    """``$course$/top/Goals and targets`` -> ``("goals-and-targets", "Goals and targets")``
    (``//`` is a slash in a name); Moodle's own levels (``$course$``, ``top``) carry no topic."""
    parts = _restore(_protect(path)).replace("//", "\0").split("/")
    names = [p.replace("\0", "/").strip() for p in parts if p.strip()]
    last = names[-1] if names else ""
    if not last or last == "top" or (last.startswith("$") and last.endswith("$")):
        return default_topic, ""
    return slug(last, default_topic), (last if slug(last, "") else "")


# --- one question --------------------------------------------------------------------------------
#
# Each reader checks the whole block for what GIFT cannot read (ImportSyntaxError) before it
# maps anything, so that a question which would be skipped still reports a syntax error.


def _question(block: _Block, lang: str) -> dict[str, Any]:
    """The item of one block (without id, topic and source; with ``name``); raises _Skip."""
    s = block.text
    name, begin = _name(block)
    opening = s.find("{", begin)
    closing = s.find("}", begin)
    if opening < 0 and closing < 0:
        raise _Skip("a description (text without an answer block) is not a question")
    if opening < 0 or 0 <= closing < opening:
        raise ImportSyntaxError(
            block.line_at(closing), "'}' without an opening '{' (write \\} for a literal brace)"
        )
    if closing < 0:
        raise ImportSyntaxError(block.line_at(opening), "'{' is never closed with '}'")
    if s.find("{", opening + 1, closing) >= 0:
        raise ImportSyntaxError(
            block.line_at(opening), "'{' is not closed before the next '{' begins"
        )
    extra = [i for i in (s.find("{", closing), s.find("}", closing + 1)) if i >= 0]
    if extra:
        raise ImportSyntaxError(
            block.line_at(min(extra)),
            "a second answer block: a question has one '{…}', and a blank line must separate"
            " questions (write \\{ and \\} for literal braces)",
        )

    after = s[closing + 1 :]
    stem_raw = s[begin:opening] + ("_____" + after if after.strip() else "")  # missing word
    lo, hi = opening + 1, closing
    general = s.rfind("####", lo, hi)
    feedback_raw = s[general + 4 : hi] if general >= 0 else ""
    hi = general if general >= 0 else hi
    while lo < hi and s[lo].isspace():
        lo += 1
    while hi > lo and s[hi - 1].isspace():
        hi -= 1
    answer_text = s[lo:hi]
    fmt, stem_body = _split_format(stem_raw.strip(), "moodle")

    if answer_text == "":
        raise _Skip("essay questions cannot be scored")
    kind = first_claiming(lambda t: t.gift_claims(answer_text), lambda t: t.gift_order)
    if kind is None:  # the short-answer type claims whatever no other type does
        raise _Skip("no item type reads this answer block")
    reader = _Reader(block, answer_text, lo, fmt)
    key, text = kind.read_gift(reader)

    stem, images = _stem_text(stem_body, fmt, reader.notes)
    if not stem:
        raise _Skip(
            "the question has no text once its HTML is reduced to plain text"
            if _restore(stem_body).strip()
            else "the question has no text"
        )
    feedback_fmt, feedback_body = _split_format(feedback_raw.strip(), fmt)
    feedback = reader.to_text(feedback_body, feedback_fmt)
    if feedback and "feedback" in text:
        reader.note(
            "the catch-all answer's feedback was dropped: the question has general feedback"
        )
    dropped = [a for a in _answer_feedback(reader) if a not in reader.kept_feedback]
    if dropped:
        reader.note(
            f"the feedback of {len(dropped)} answer(s) was dropped (elearn shows one general"
            " feedback per question)"
        )
    return {
        "name": name,
        "type": kind.name,
        "key": key,
        "text": {lang: {"stem": stem, **text, **({"feedback": feedback} if feedback else {})}},
        "notes": reader.notes,
        "images": images,
    }


def _answer_feedback(reader: _Reader) -> list[int]:
    """Where the answers that carry their own ``#feedback`` begin."""
    out = []
    for answer in _answers(reader.lo, reader.answer_text, "=~", weights=False):
        body = answer.body.removeprefix("#") if answer.body.startswith("#") else answer.body
        if "#" in body and _restore(body.split("#", 1)[1]).strip():
            out.append(answer.offset)
    return out


def _name(block: _Block) -> tuple[str, int]:
    """The ``::name::`` of a block and where its text begins after it."""
    s = block.text
    if not s.startswith("::"):
        return "", 0
    opening = s.find("{")
    end = s.find("::", 2, len(s) if opening < 0 else opening)
    if end < 0:
        raise ImportSyntaxError(
            block.line,
            "the question name has no closing '::' before its answers (write \\: for a colon)",
        )
    return " ".join(_restore(s[2:end]).split()), end + 2


def _check(item: dict[str, Any]) -> None:
    """What the content loader would refuse is skipped here, never returned."""
    probe = {k: v for k, v in item.items() if k not in ("name", "notes", "images")}
    try:
        spec = ItemSpec.model_validate({"id": "x", "topic": "x", "source": "x", **probe})
    except ValidationError as exc:
        errors = "; ".join(str(e["msg"]) for e in exc.errors())
        raise _Skip(f"not a valid item: {errors}") from None
    problems = get_item_type(spec.type).validate(spec)
    if problems:
        raise _Skip("; ".join(p.message for p in problems))


# --- texts ---------------------------------------------------------------------------------------


def _split_format(raw: str, default: str) -> tuple[str, str]:
    """``[html]<p>…</p>`` -> ("html", "<p>…</p>"); an unknown ``[…]`` is text."""
    match = _FORMAT.match(raw)
    if match and match.group(1) in _FORMATS:
        return match.group(1), raw[match.end() :]
    return default, raw


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True})


def _tidy(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _markup(raw: str, fmt: str) -> str:
    """One GIFT text in its format (not plain) as HTML."""
    body = _restore(raw)
    if fmt == "markdown":
        return _spaces(_markdown().render(body))
    if fmt == "html":
        return _spaces(body)  # line breaks in HTML source are spaces
    return body  # moodle: HTML in which a line break is kept


def _to_text(raw: str, fmt: str) -> str:
    """Plain text of one GIFT text in its format; embedded images and media skip the question."""
    if fmt == "plain":
        return _tidy(_restore(raw))
    markup = _markup(raw, fmt)
    media = _MEDIA.search(markup)
    if media:
        raise _Skip(
            f"embedded media (<{media.group(1).lower()}>) in an answer or feedback is not supported"
        )
    if "@@PLUGINFILE@@" in markup:
        raise _Skip("embedded file (@@PLUGINFILE@@) not supported")
    return html_to_text(markup)


def _stem_text(raw: str, fmt: str, notes: list[str]) -> tuple[str, list[TakenImage]]:
    """The question text as plain text and its images (``<img>`` with a ``data:`` URI: a GIFT
    file carries no other files); audio, video and links to media skip the question."""
    if fmt == "plain":
        return _tidy(_restore(raw)), []
    markup = _markup(raw, fmt)
    dropped = formatting_dropped(markup)
    if dropped:
        notes.append(dropped)
    try:
        rest, taken = take_images(markup, lambda src: None, notes)
    except MediaRefused as refused:
        raise _Skip(str(refused)) from None
    if "@@PLUGINFILE@@" in rest:
        raise _Skip("embedded file (@@PLUGINFILE@@) not supported")
    return html_to_text(rest), taken


_PRE_BLOCK = re.compile(r"(<pre\b.*?</pre\s*>)", re.IGNORECASE | re.DOTALL)


def _spaces(markup: str) -> str:
    """Line breaks in HTML source as spaces, but within ``<pre>``, where they are lines."""
    parts = _PRE_BLOCK.split(markup)
    return "".join(p if i % 2 else p.replace("\n", " ") for i, p in enumerate(parts))


def _plain(raw: str) -> str:
    """An answer as typed: Moodle compares short answers and shows matching answers as text."""
    return _tidy(_restore(_split_format(raw.strip(), "plain")[1]))


# --- answers -------------------------------------------------------------------------------------


def _answers(lo: int, text: str, markers: str, weights: bool) -> list[GiftAnswer]:
    """Split an answer block before each marker as Moodle does: an empty lead is dropped."""
    parts: list[tuple[str, int, str]] = []
    marker, begin = "", 0
    for i, ch in enumerate(text):
        if ch in markers:
            parts.append((marker, begin, text[begin:i]))
            marker, begin = ch, i + 1
    parts.append((marker, begin, text[begin:]))
    if not parts[0][2].strip():
        parts.pop(0)
    out: list[GiftAnswer] = []
    for marker, begin, part in parts:
        body = part.strip()
        offset = lo + begin + len(part) - len(part.lstrip())
        weight: float | None = None
        match = _WEIGHT.match(body) if weights else None
        if match:
            weight = float(match.group(1)) / 100
            body = body[match.end() :].strip()
        out.append(GiftAnswer(marker, offset, weight, body))
    return out


def _number(block: _Block, offset: int, text: str) -> int | float:
    value = text.strip()
    if not _NUMBER.fullmatch(value):
        hint = " (write a point for decimals)" if re.fullmatch(r"[+-]?\d+,\d+", value) else ""
        raise ImportSyntaxError(block.line_at(offset), f"'{value[:40]}' is not a number{hint}")
    if _INTEGER.fullmatch(value):
        return int(value)
    number = float(value)
    if not math.isfinite(number):
        raise ImportSyntaxError(block.line_at(offset), f"'{value[:40]}' is out of range")
    return number
