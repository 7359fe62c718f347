"""Import questions from Moodle XML (``<quiz><question type="...">…</question></quiz>``).

Mapped: ``multichoice`` (one answer -> single_choice, several -> multiple_response with the
fractions), ``truefalse``, ``shortanswer``, ``numerical`` and ``matching``; a
``<question type="category">`` sets the topic of the questions after it. Everything else (essays,
descriptions, cloze, calculated, drag and drop, …), questions with embedded files or images, and
scoring the content format cannot express exactly, is skipped with its line and the reason.

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
    IdAllocator,
    ImportResult,
    ImportSyntaxError,
    Skipped,
    html_to_text,
    lines_of,
    slug,
    source_note,
)

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
_WILDCARD = re.compile(r"(?<!\\)\*")
_EPSILON = 1e-9


# --- reading the XML ----------------------------------------------------------------------------


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    line: int
    parts: list[str | _Node] = field(default_factory=list)

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


class _Skip(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


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
    return html_to_text(raw)


def _fraction(answer: _Node) -> float:
    given = answer.attrs.get("fraction", "0").strip() or "0"
    try:
        value = float(given) / 100
    except ValueError:
        raise _Skip(f"answer fraction {given!r} is not a number") from None
    if not math.isfinite(value) or abs(value) > 1 + _EPSILON:
        raise _Skip(f"answer fraction {given!r} is outside -100..100")
    return value


def _is(value: float, target: float) -> bool:
    return abs(value - target) <= _EPSILON


def _number(value: float) -> int | float:
    """Whole numbers as ints, so that a key reads ``42``, not ``42.0``."""
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _flag(question: _Node, name: str, default: bool) -> bool:
    """A yes/no setting given as ``<single>true</single>`` (or as an attribute)."""
    node = question.child(name)
    given = node.all_text() if node is not None else question.attrs.get(name, "")
    if not given.strip():
        return default
    return given.strip().lower() in ("true", "1", "yes")


def _exact(value: float) -> float:
    """A fraction read from text, with 1 and 0 exact (``99.99999`` % is full credit)."""
    return 1.0 if _is(value, 1.0) else 0.0 if _is(value, 0.0) else value


def _choices(question: _Node) -> tuple[dict[str, str], list[float]]:
    answers = question.children("answer")
    if len(answers) < 2:
        raise _Skip(f"needs at least 2 answers, found {len(answers)}")
    options: dict[str, str] = {}
    fractions: list[float] = []
    for i, answer in enumerate(answers):
        body = _rich(answer)
        if not body:
            raise _Skip("an answer has no text")
        options[chr(ord("a") + i) if i < 26 else f"o{i + 1}"] = body
        fractions.append(_fraction(answer))
    return options, fractions


def _multichoice(question: _Node) -> tuple[str, Any, dict[str, Any]]:
    options, fractions = _choices(question)
    ids = list(options)
    if _flag(question, "single", default=True):
        full = [i for i, f in enumerate(fractions) if _is(f, 1.0)]
        if not full:
            raise _Skip("no answer gets full credit")
        if len(full) > 1:
            raise _Skip("more than one answer gets full credit in a single-answer question")
        if any(not _is(f, 0.0) and not _is(f, 1.0) for f in fractions):
            raise _Skip("partial or negative credit in a single-answer question is not supported")
        return "single_choice", ids[full[0]], {"options": options}
    weights = {ids[i]: f for i, f in enumerate(fractions) if not _is(f, 0.0)}
    positive = sum(w for w in weights.values() if w > 0)
    if positive <= 0:
        raise _Skip("no answer gets credit")
    if abs(positive - 1) > 0.01:  # Moodle's own tolerance; within it, shares are rescaled
        raise _Skip(f"the right answers' fractions add up to {positive * 100:g} %, not 100 %")
    if not _is(positive, 1.0):
        weights = {k: (w / positive if w > 0 else w) for k, w in weights.items()}
    return "multiple_response", {k: _exact(w) for k, w in weights.items()}, {"options": options}


def _truefalse(question: _Node) -> tuple[str, Any, dict[str, Any]]:
    credit: dict[str, float] = {}
    for answer in question.children("answer"):
        credit[_plain(_text_node(answer)).lower()] = _fraction(answer)
    if set(credit) != {"true", "false"}:
        raise _Skip("the answers of a true/false question must be 'true' and 'false'")
    right = [value for value in ("true", "false") if _is(credit[value], 1.0)]
    if len(right) != 1:
        raise _Skip("exactly one of true and false must get full credit")
    return "true_false", right[0] == "true", {}


def _shortanswer(question: _Node) -> tuple[str, Any, dict[str, Any]]:
    accepted: list[dict[str, Any]] = []
    for answer in question.children("answer"):
        credit = _fraction(answer)
        if credit <= 0:
            continue  # a wrong answer (often "*" with feedback): unlisted answers score 0 anyway
        body = _plain(_text_node(answer))
        if not body:
            raise _Skip("an accepted answer has no text")
        if _WILDCARD.search(body):
            raise _Skip("wildcard answers ('*') are not supported")
        accepted.append({"answer": body.replace("\\*", "*"), "credit": _exact(credit)})
    if not any(a["credit"] == 1.0 for a in accepted):
        raise _Skip("no answer gets full credit")
    return "short_answer", None, {"accepted": accepted}


def _numerical(question: _Node) -> tuple[str, Any, dict[str, Any]]:
    full: list[_Node] = []
    for answer in question.children("answer"):
        credit = _fraction(answer)
        if _is(credit, 1.0):
            full.append(answer)
        elif credit < 0 or not _is(credit, 0.0):
            raise _Skip("partial or negative credit in a numerical question is not supported")
    if not full:
        raise _Skip("no answer gets full credit")
    if len(full) > 1:
        raise _Skip("more than one answer gets full credit")
    units = [u for units in question.children("units") for u in units.children("unit")]
    if len(units) > 1:
        raise _Skip("several units are not supported")
    for unit in units:
        multiplier = unit.child("multiplier")
        given = _plain(multiplier.all_text()) if multiplier is not None else ""
        if not _is(_float(given or "1", "unit multiplier"), 1.0):
            raise _Skip("unit multipliers are not supported")
    value = _float(_plain(_text_node(full[0])), "answer")
    tolerance_node = full[0].child("tolerance")
    given = _plain(tolerance_node.all_text()) if tolerance_node is not None else ""
    tolerance = abs(_float(given or "0", "tolerance"))
    return "numeric", {"value": _number(value), "tolerance": _number(tolerance)}, {}


def _float(given: str, what: str) -> float:
    try:
        value = float(given)
    except ValueError:
        raise _Skip(f"the {what} {given!r} is not a number") from None
    if not math.isfinite(value):
        raise _Skip(f"the {what} {given!r} is not a finite number")
    return value


def _matching(question: _Node) -> tuple[str, Any, dict[str, Any]]:
    prompts: dict[str, str] = {}
    options: dict[str, str] = {}
    key: dict[str, str] = {}
    for sub in question.children("subquestion"):
        match = _plain(_text_node(sub.child("answer")))
        if not match:
            raise _Skip("a matching answer has no text")
        option_id = next((k for k, v in options.items() if v == match), None)
        if option_id is None:
            n = len(options)
            option_id = chr(ord("a") + n) if n < 26 else f"o{n + 1}"
            options[option_id] = match
        prompt = _rich(sub)
        if prompt:  # a subquestion without text only adds a distractor answer
            prompt_id = f"p{len(prompts) + 1}"
            prompts[prompt_id] = prompt
            key[prompt_id] = option_id
    if len(prompts) < 2 or len(options) < 2:
        raise _Skip("a matching question needs at least 2 pairs")
    return "matching", key, {"prompts": prompts, "options": options}


_MAPPERS = {
    "multichoice": _multichoice,
    "truefalse": _truefalse,
    "shortanswer": _shortanswer,
    "numerical": _numerical,
    "matching": _matching,
}


def _has_embedded_file(question: _Node) -> bool:
    return any(
        node.tag == "file"
        or any(isinstance(p, str) and "@@PLUGINFILE@@" in p for p in node.parts)
        or any("@@PLUGINFILE@@" in v for v in node.attrs.values())
        for node in question.descendants()
    )


def _topic(category: _Node, default_topic: str) -> str:
    """The last part of a category path ("$course$/top/Procurement law" -> "procurement-law")."""
    path = _plain(_text_node(category.child("category")))
    parts = [p.replace("//", "/").strip() for p in re.split(r"(?<!/)/(?!/)", path)]
    parts = [p for p in parts if p]
    last = parts[-1] if parts else ""
    if last == "top" or (last.startswith("$") and last.endswith("$")):
        return default_topic  # Moodle's invisible root categories carry no topic
    return slug(last, default_topic)


# --- the importer -------------------------------------------------------------------------------


def parse_moodle_xml(
    text: str, *, lang: str, default_topic: str, prefix: str = "moodle", source_name: str = ""
) -> ImportResult:
    """Moodle XML text -> items and skipped questions; raises :class:`ImportSyntaxError`."""
    quiz = _parse_xml(text)
    ids = IdAllocator(prefix)
    topic = default_topic
    items: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    number = 0
    for question in quiz.children("question"):
        qtype = question.attrs.get("type", "").strip()
        if qtype == "category":
            topic = _topic(question, default_topic)
            continue
        number += 1
        try:
            item_type, key, body = _item(question, qtype)
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
        produced["source"] = source_note(FORMAT_NAME, source_name, question.line)
        produced["text"] = {lang: body}
        items.append(produced)
    return ImportResult(items=items, skipped=skipped)


def _item(question: _Node, qtype: str) -> tuple[str, Any, dict[str, Any]]:
    if not qtype:
        raise _Skip("the question has no type")
    mapper = _MAPPERS.get(qtype)
    if mapper is None:
        raise _Skip(_UNSUPPORTED.get(qtype, f"{qtype} questions are not supported"))
    if _has_embedded_file(question):
        raise _Skip(EMBEDDED_FILE)
    stem = _rich(question.child("questiontext"))
    if not stem:
        raise _Skip("the question has no text")
    feedback = _rich(question.child("generalfeedback"))
    item_type, key, fields = mapper(question)
    body = {"stem": stem, **fields}
    if feedback:
        body["feedback"] = feedback
    return item_type, key, body
