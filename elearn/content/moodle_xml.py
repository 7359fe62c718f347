"""Import questions from Moodle XML (``<quiz><question type="...">…</question></quiz>``).

Each item type reads the question type it names (``moodle_qtype`` in
:mod:`elearn.domain.itemtypes`): ``multichoice`` (one answer -> single_choice, several ->
multiple_response with the fractions), ``truefalse``, ``shortanswer``, ``numerical``,
``matching`` and ``ordering``; a ``<question type="category">`` sets the topic of the questions
after it. Everything else (essays,
descriptions, cloze, calculated, drag and drop, …), audio, video and links to media, files in
answers or feedback, and scoring the content format cannot express exactly, is skipped with its
line and the reason. Images in the question text (``<file encoding="base64">`` with
``@@PLUGINFILE@@``, Moodle 1.x ``<image_base64>``) become item images. A fraction must be one of
Moodle's grade options, as Moodle's own import requires; ``<defaultgrade>`` is the item's mark.

The XML is read with expat straight from the text, so that every question knows its line, and a
DOCTYPE (and with it any ENTITY declaration) is refused before anything is expanded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from elearn.content.importing import (
    PLACEHOLDER_NOTE,
    IdAllocator,
    Imported,
    ImportResult,
    ImportSyntaxError,
    MediaRefused,
    Skipped,
    TakenImage,
    decode_base64,
    formatting_dropped,
    html_to_text,
    image_fields,
    lines_of,
    media_refusal,
    resolver,
    slug,
    source_note,
    take_images,
)
from elearn.domain.images import PLACEHOLDER_ALT, image_name, image_problem
from elearn.domain.itemtypes import item_types
from elearn.domain.itemtypes.formats import Skip, moodle_grade

FORMAT_NAME = "Moodle XML"
EMBEDDED_FILE = "embedded file not supported"

_UNSUPPORTED = {
    "essay": "essay questions cannot be scored automatically",
    "description": "a description is not a question",
    "multianswer": "cloze (embedded answers) questions are not supported",
    "calculated": "calculated questions are not supported",
    "calculatedsimple": "calculated questions are not supported",
    "calculatedmulti": "calculated questions are not supported",
    "random": "random questions are not supported",
    "randomsamatch": "random short-answer matching questions are not supported",
    "ddwtos": "drag-and-drop questions are not supported",
    "ddimageortext": "drag-and-drop questions are not supported",
    "ddmarker": "drag-and-drop questions are not supported",
    "gapselect": "gap-select questions are not supported",
}
_MEDIA = re.compile(r"<\s*(?:img|image|svg|video|audio|iframe|object|embed|math)\b", re.IGNORECASE)
_EPSILON = 1e-9
_SHUFFLED = ("single_choice", "multiple_response")  # types whose options a draw shuffles


# --- reading the XML ----------------------------------------------------------------------------


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    line: int
    parts: list[str | _Node] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # changes made in taking it, reported

    def children(self, tag: str) -> list[_Node]:
        return [p for p in self.parts if isinstance(p, _Node) and p.tag == tag]

    def child(self, tag: str) -> _Node | None:
        found = self.children(tag)
        return found[0] if found else None

    def descendants(self) -> Iterator[_Node]:
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed([p for p in node.parts if isinstance(p, _Node)]))

    def all_text(self) -> str:
        """Every piece of character data inside, in document order (no recursion: any depth)."""
        out: list[str] = []
        stack: list[str | _Node] = [self]
        while stack:
            part = stack.pop()
            if isinstance(part, str):
                out.append(part)
            else:
                stack.extend(reversed(part.parts))
        return "".join(out)

    # What an item type reads of a question (elearn.domain.itemtypes.formats.MoodleNode).

    def plain(self) -> str:
        return _plain(_text_node(self))

    def rich(self) -> str:
        return _rich(self)

    def fraction(self) -> float:
        return _fraction(self)

    def value(self, tag: str) -> str:
        node = self.child(tag)
        return _plain(node.all_text()) if node is not None else ""

    def flag(self, tag: str, default: bool) -> bool:
        return _flag(self, tag, default)

    def note(self, change: str) -> None:
        if change not in self.notes:
            self.notes.append(change)


class _Refused(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _parse_xml(text: str) -> _Node:
    lines_of(text)  # refuses text that is not valid Unicode, naming its line
    parser = expat.ParserCreate()
    stack: list[_Node] = []
    roots: list[_Node] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = _Node(tag, attrs, parser.CurrentLineNumber)
        (stack[-1].parts if stack else roots).append(node)
        stack.append(node)

    def end(tag: str) -> None:
        stack.pop()

    def data(chunk: str) -> None:
        if stack:
            stack[-1].parts.append(chunk)

    def refuse(*args: object) -> None:
        raise _Refused(parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    try:
        parser.Parse(text, True)
    except _Refused as exc:
        raise ImportSyntaxError(
            exc.line, "DTDs are not accepted (no DOCTYPE or ENTITY declarations)"
        ) from None
    except expat.ExpatError as exc:
        reason = expat.ErrorString(exc.code) or "not well-formed"
        raise ImportSyntaxError(
            exc.lineno, f"malformed XML: {reason} (column {exc.offset + 1})"
        ) from None
    root = roots[0]  # expat refuses a document without exactly one root element
    if root.tag != "quiz":
        raise ImportSyntaxError(root.line, f"the root element must be <quiz>, not <{root.tag}>")
    return root


# --- reading one question -----------------------------------------------------------------------


_Skip = Skip


def _plain(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _text_node(node: _Node | None) -> str:
    """The raw content of ``node``'s ``<text>`` child ("" when there is none)."""
    inner = node.child("text") if node is not None else None
    return inner.all_text() if inner is not None else ""


def _rich(node: _Node | None) -> str:
    """A text field in its declared format, reduced to plain text; media makes the question go."""
    if node is None:
        return ""
    raw = _text_node(node)
    fmt = node.attrs.get("format", "html")
    if fmt in ("plain_text", "markdown"):
        return _plain(raw)
    if _MEDIA.search(raw):
        raise _Skip("images and media are not supported")
    if fmt == "moodle_auto_format":
        raw = raw.replace("\n", "<br>")
    dropped = formatting_dropped(raw)
    if dropped:
        node.note(dropped)
    return html_to_text(raw)


def _fraction(answer: _Node) -> float:
    """An answer's fraction as Moodle's import takes it: one of its grade options, else the
    question is refused (Moodle says "invalid grade" and skips it; nothing is rescaled)."""
    given = answer.attrs.get("fraction", "0").strip() or "0"
    try:
        value = float(given) / 100
    except ValueError:
        raise _Skip(f"answer fraction {given!r} is not a number") from None
    if not math.isfinite(value) or abs(value) > 1 + _EPSILON:
        raise _Skip(f"answer fraction {given!r} is outside -100..100")
    grade = moodle_grade(value)
    if grade is None:
        raise _Skip(
            f"line {answer.line}: answer fraction {given!r} is not one of Moodle's grades"
            " (100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20,"
            " 16.66667, 14.28571, 12.5, 11.11111, 10, 5, 0 or their negatives); Moodle refuses"
            " it too"
        )
    return grade


def _flag(question: _Node, name: str, default: bool) -> bool:
    """A yes/no setting given as ``<single>true</single>`` (or as an attribute)."""
    node = question.child(name)
    given = node.all_text() if node is not None else question.attrs.get(name, "")
    if not given.strip():
        return default
    return given.strip().lower() in ("true", "1", "yes")


def _has_embedded_file(node: _Node) -> bool:
    return any(
        inner.tag == "file"
        or any(isinstance(p, str) and "@@PLUGINFILE@@" in p for p in inner.parts)
        or any("@@PLUGINFILE@@" in v for v in inner.attrs.values())
        for inner in node.descendants()
    )


def _stem(question: _Node) -> tuple[str, list[TakenImage]]:
    """The question text as plain text, and the images taken out of it.

    Images come from ``<img src="@@PLUGINFILE@@/name">`` with the ``<file name="name"
    encoding="base64">`` beside the text (Moodle 2+), from ``data:`` URIs, and from the
    ``<image>``/``<image_base64>`` of Moodle 1.x, which had no alt text."""
    node = question.child("questiontext")
    others = [c for c in question.parts if isinstance(c, _Node) and c is not node]
    if any(c.tag not in ("image", "image_base64") and _has_embedded_file(c) for c in others):
        raise _Skip("embedded files in answers or feedback are not supported")
    if node is None:
        return "", []
    files: dict[str, bytes] = {}
    for file in node.children("file"):
        if file.attrs.get("encoding", "base64") != "base64":
            raise _Skip(f"line {file.line}: an embedded file that is not base64")
        data = decode_base64(file.all_text())
        if data is None:
            raise _Skip(f"line {file.line}: the embedded file is not valid base64")
        files[file.attrs.get("name", "")] = data
    raw = _text_node(node)
    fmt = node.attrs.get("format", "html")
    taken: list[TakenImage] = []
    try:
        if fmt in ("plain_text", "markdown"):
            refusal = media_refusal(raw)
            if refusal:
                raise MediaRefused(refusal)
            text = _plain(raw)
        else:
            if fmt == "moodle_auto_format":
                raw = raw.replace("\n", "<br>")
            dropped = formatting_dropped(raw)
            if dropped:
                question.note(dropped)
            rest, taken = take_images(raw, resolver(files), question.notes)
            text = html_to_text(rest)
    except MediaRefused as refused:
        raise _Skip(str(refused)) from None
    legacy = _plain(question.value("image"))
    if legacy:  # Moodle 1.x: one image beside the text, no alt text
        data = decode_base64(question.value("image_base64"))
        if data is None:
            raise _Skip(f"the image {legacy[:80]!r} is not in the file")
        problem = image_problem(data)
        if problem:
            raise _Skip(f"the image {legacy[:80]!r}: {problem}")
        question.note(PLACEHOLDER_NOTE)
        taken.append(TakenImage(image_name(data), data, PLACEHOLDER_ALT))
    return text, taken


def _topic(category: _Node, default_topic: str) -> tuple[str, str]:
    """The last part of a category path ("$course$/top/Procurement law" -> "procurement-law"),
    with its title as written ("" for Moodle's invisible root categories, which carry no topic).
    """
    path = _plain(_text_node(category.child("category")))
    parts = [p.replace("//", "/").strip() for p in re.split(r"(?<!/)/(?!/)", path)]
    parts = [p for p in parts if p]
    last = parts[-1] if parts else ""
    if last == "top" or (last.startswith("$") and last.endswith("$")) or not slug(last, ""):
        return default_topic, ""
    return slug(last, default_topic), last


# --- the importer -------------------------------------------------------------------------------


def parse_moodle_xml(
    text: str, *, lang: str, default_topic: str, prefix: str = "moodle", source_name: str = ""
) -> ImportResult:
    """Moodle XML text -> items and skipped questions; raises :class:`ImportSyntaxError`."""
    quiz = _parse_xml(text)
    ids = IdAllocator(prefix)
    topic, title = default_topic, ""
    items: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    imported: list[Imported] = []
    categories: list[tuple[str, str]] = []
    files: dict[str, bytes] = {}
    number = 0
    for question in quiz.children("question"):
        qtype = question.attrs.get("type", "").strip()
        if qtype == "category":
            topic, title = _topic(question, default_topic)
            continue
        number += 1
        try:
            item_type, key, body, images = _item(question, qtype)
            mark = _mark(question)
        except _Skip as skip:
            skipped.append(Skipped(question.line, skip.reason))
            continue
        produced: dict[str, Any] = {
            "id": ids.take(_plain(_text_node(question.child("name"))), number),
            "topic": topic,
            "type": item_type,
        }
        if item_type != "short_answer":  # short answers are keyed per language in `accepted`
            produced["key"] = key
        if item_type in _SHUFFLED and not question.flag("shuffleanswers", True):
            produced["pinned"] = list(body["options"])  # Moodle kept them in order: so do we
        produced["source"] = source_note(FORMAT_NAME, source_name, question.line)
        if mark != 1.0:
            produced["mark"] = mark
        if images:
            produced["images"] = image_fields(images, lang, files)
        produced["text"] = {lang: body}
        items.append(produced)
        imported.append(Imported(question.line, tuple(_notes(question))))
        if title and all(topic != seen for seen, _ in categories):
            categories.append((topic, title))
    return ImportResult(
        items=items, skipped=skipped, imported=imported, categories=categories, files=files
    )


def _mark(question: _Node) -> float:
    """``<defaultgrade>``, the question's maximum mark (1 when not given), as elearn's ``mark``."""
    given = question.value("defaultgrade")
    if not given:
        return 1.0
    try:
        mark = float(given)
    except ValueError:
        raise _Skip(f"the default mark {given!r} is not a number") from None
    if not (math.isfinite(mark) and 0 <= mark <= 100):
        raise _Skip(f"the default mark {given!r} is not within 0..100")
    return int(mark) if mark.is_integer() else mark


_COMBINED = ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback")


def _notes(question: _Node) -> list[str]:
    """Every change made in taking ``question``, and what of it elearn has no place for."""
    out: list[str] = []
    for node in question.descendants():
        out += [n for n in node.notes if n not in out]
    answers = [a for a in question.children("answer") if _text_node(a.child("feedback")).strip()]
    kept = any("feedback became" in n for n in out)
    if len(answers) > kept:
        out.append(
            f"the feedback of {len(answers) - kept} answer(s) was dropped (elearn shows one"
            " general feedback per question)"
        )
    combined = [t for t in _COMBINED if _text_node(question.child(t)).strip()]
    if combined:
        out.append(f"the {', '.join(combined)} was dropped (elearn has general feedback only)")
    hints = [h for h in question.children("hint") if _text_node(h).strip()]
    if hints:
        out.append(f"{len(hints)} hint(s) dropped: an exam gives one try, hints are never shown")
    return out


def _item(question: _Node, qtype: str) -> tuple[str, Any, dict[str, Any], list[TakenImage]]:
    if not qtype:
        raise _Skip("the question has no type")
    kinds = [t for t in item_types() if t.moodle_qtype == qtype]
    if not kinds:
        raise _Skip(_UNSUPPORTED.get(qtype, f"{qtype} questions are not supported"))
    stem, images = _stem(question)
    if not stem:
        raise _Skip("the question has no text")
    feedback = _rich(question.child("generalfeedback"))
    kind = next((t for t in kinds if t.moodle_claims(question)), kinds[0])
    key, fields = kind.read_moodle(question)
    body = {"stem": stem, **fields}
    if feedback:
        if "feedback" in fields:
            question.note(
                "the catch-all answer's feedback was dropped: the question has general feedback"
            )
        body["feedback"] = feedback
    return kind.name, key, body, images
