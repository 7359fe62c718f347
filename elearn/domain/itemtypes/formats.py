"""The vocabulary item types speak to other systems' formats: GIFT, Moodle XML and QTI 3.0.

A type writes and reads its own questions with these pure builders and through the reading
protocols below; the importers and exporters in :mod:`elearn.content` handle what surrounds a
question (files, categories, packages, manifests, line numbers) and implement the protocols.
"""

from __future__ import annotations

import html
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn, Protocol

# --- reading: what an importer gives a type ------------------------------------------------------


class Skip(Exception):
    """A question elearn cannot hold as its author meant it: skipped with the reason, not fatal."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


EPSILON = 1e-9  # how near a grade must be to count as exactly that grade


def same(value: float, target: float) -> bool:
    return abs(value - target) <= EPSILON


def exact(value: float) -> float:
    """A fraction read from text, with 1 and 0 exact (``99.99999`` % is full credit)."""
    return 1.0 if same(value, 1.0) else 0.0 if same(value, 0.0) else value


# Moodle's grade options (question_bank::fraction_options_full), the only fractions its import
# accepts: an answer's fraction within 0.00001 of one of them is that option, any other refuses
# the question (match_grade_options with 'error', the default of every Moodle import).
MOODLE_GRADES: tuple[float, ...] = tuple(
    sign * value
    for value in (
        1.0, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333, 0.3, 0.25,
        0.2, 0.1666667, 0.1428571, 0.125, 0.1111111, 0.1, 0.05, 0.0,
    )
    for sign in (1, -1)
    if sign == 1 or value
)  # fmt: skip
MOODLE_GRADE_SLACK = 0.00001


def moodle_grade(value: float) -> float | None:
    """The Moodle grade option ``value`` stands for, or None when Moodle's import refuses it."""
    for option in MOODLE_GRADES:
        if abs(value - option) < MOODLE_GRADE_SLACK:
            return option
    return None


def whole(value: float) -> int | float:
    """Whole numbers as ints, so that a key reads ``42``, not ``42.0``."""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def finite(given: str, what: str) -> float:
    """A number written in a file; anything else skips the question, naming ``what``."""
    try:
        value = float(given)
    except ValueError:
        raise Skip(f"the {what} {given!r} is not a number") from None
    if not math.isfinite(value):
        raise Skip(f"the {what} {given!r} is not a finite number")
    return value


def letter_id(index: int) -> str:
    """Option ids as importers give them: a, b, … z, aa, ab, …"""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("a") + rest) + name
    return name


def percent_text(weight: float) -> str:
    return f"{weight * 100:g} %"


@dataclass(frozen=True)
class GiftAnswer:
    marker: str  # "=", "~" or "" for text before the first marker
    offset: int  # in the block's text, where the answer (after its marker) begins
    weight: float | None  # from %w%, None when not given
    body: str  # the answer without marker and weight; escapes still protected


class GiftBlock(Protocol):
    """One GIFT question's answer block, as the GIFT importer hands it to a type."""

    @property
    def answer_text(self) -> str: ...  # between the braces, without general feedback, trimmed
    @property
    def lo(self) -> int: ...  # where answer_text begins in the block (for line numbers)
    @property
    def fmt(self) -> str: ...  # the question text's format, the default of its answers

    def answers(
        self, markers: str, weights: bool, text: str | None = None, lo: int | None = None
    ) -> list[GiftAnswer]: ...  # split before each marker (default: the whole answer text)
    def to_text(self, raw: str, fmt: str) -> str: ...
    def plain(self, raw: str) -> str: ...
    def split_format(self, raw: str, default: str) -> tuple[str, str]: ...
    def restore(self, raw: str) -> str: ...
    def number(self, offset: int, text: str) -> int | float: ...
    def syntax_error(self, offset: int, message: str) -> NoReturn: ...
    def note(self, change: str) -> None: ...  # a change made in taking the question, reported
    def feedback_used(self, offset: int) -> None: ...  # an answer's feedback was kept


class MoodleNode(Protocol):
    """An element of a Moodle XML question, as the Moodle XML importer hands it to a type."""

    @property
    def tag(self) -> str: ...
    @property
    def attrs(self) -> Mapping[str, str]: ...
    def children(self, tag: str) -> Sequence[MoodleNode]: ...
    def child(self, tag: str) -> MoodleNode | None: ...
    def plain(self) -> str: ...  # its <text> child as typed, spacing tidied
    def rich(self) -> str: ...  # its <text> child in its format, as plain text (media: Skip)
    def fraction(self) -> float: ...  # an <answer>'s fraction attribute as 0..1 (bad: Skip)
    def value(self, tag: str) -> str: ...  # the text of a child element, e.g. <tolerance>
    def flag(self, tag: str, default: bool) -> bool: ...  # <single>true</single> and the like
    def note(self, change: str) -> None: ...  # a change made in taking the question, reported


MoodleQuestion = MoodleNode


# --- GIFT ----------------------------------------------------------------------------------------

_GIFT_SPECIAL = "~=#{}:"


def gift_escape(text: str) -> str:
    """Text with GIFT's special characters escaped (``\\~ \\= \\# \\{ \\} \\: \\\\``, ``\\n``)."""
    out = text.replace("\\", "\\\\")
    for ch in _GIFT_SPECIAL:
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", "\\n")


def gift_html(text: str) -> str:
    return gift_escape(as_html(text))


def gift_plain(text: str) -> str:
    """An answer Moodle compares as typed: ``*`` is literal, not a wildcard."""
    return gift_escape(" ".join(text.split())).replace("*", "\\*")


def gift_choice(marker: str, text: str) -> str:
    """``=right`` or ``~wrong``; a text that begins like ``%weight%`` gets its weight written."""
    if text.startswith("%"):
        return f"{marker}%{'100' if marker == '=' else '0'}%{text}"
    return marker + text


# --- shared by the writers -----------------------------------------------------------------------


def percent(fraction: float) -> str:
    """A fraction as Moodle writes a grade: 1/3 -> "33.33333", -0.5 -> "-50", 1 -> "100"."""
    text = f"{fraction * 100:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def number(value: float) -> str:
    """A key's number as written: 42, 0.1, 1e-07; never a float's noise (repr is exact)."""
    if isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def as_html(text: str) -> str:
    """Plain text as an HTML fragment that reads the same: escaped, new lines as ``<br>``.

    Lines whose spacing counts (indented, or with runs of spaces), and the line before the
    first of them, are one ``<pre>`` block, which keeps line breaks and indentation.
    """
    lines = text.split("\n")
    spaced = [i for i, line in enumerate(lines) if line[:1] in (" ", "\t") or "  " in line]
    if not spaced:
        return _br(lines)
    start, end = max(0, spaced[0] - 1), spaced[-1] + 1
    block = html.escape("\n".join(lines[start:end]), quote=False)
    return _br(lines[:start]) + f"<pre>{block}</pre>" + _br(lines[end:])


def _br(lines: list[str]) -> str:
    return "<br>".join(html.escape(line, quote=False) for line in lines)


# --- Moodle XML ----------------------------------------------------------------------------------


def moodle_text(parent: ET.Element, tag: str, value: str, fmt: str | None = "html") -> ET.Element:
    """``<tag format="fmt"><text>value</text></tag>``."""
    node = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(node, "text").text = value
    return node


def moodle_simple(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = value


def moodle_answer(parent: ET.Element, fraction: float, value: str, fmt: str) -> ET.Element:
    """An ``<answer>`` with its grade as Moodle writes it and an empty feedback."""
    node = ET.SubElement(parent, "answer", {"fraction": percent(fraction), "format": fmt})
    ET.SubElement(node, "text").text = value
    moodle_text(node, "feedback", "", fmt="html")
    return node


# --- QTI 3.0 -------------------------------------------------------------------------------------


_NOT_NAME_START = re.compile(r"^[^A-Za-z_]")


def qti_identifier(value: str) -> str:
    """A slug as a QTI identifier, which may not begin with a digit: ``2030`` -> ``_2030``."""
    return "_" + value if _NOT_NAME_START.match(value) else value


def el(parent: ET.Element | None, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """An element; ``base_type=`` becomes ``base-type=``."""
    attributes = {k.replace("_", "-"): v for k, v in attrs.items()}
    node = ET.Element(tag, attributes) if parent is None else ET.SubElement(parent, tag, attributes)
    if text is not None:
        node.text = text
    return node


def inline(parent: ET.Element, text: str) -> None:
    """Plain text inside ``parent``, a new line as ``<br/>``."""
    lines = text.split("\n")
    parent.text = lines[0]
    for line in lines[1:]:
        el(parent, "br").tail = line


def base_value(parent: ET.Element, value: str, base_type: str) -> ET.Element:
    return el(parent, "qti-base-value", value, base_type=base_type)


def set_outcome(parent: ET.Element, outcome: str, value: str, base_type: str = "float") -> None:
    base_value(el(parent, "qti-set-outcome-value", identifier=outcome), value, base_type)


@dataclass(frozen=True)
class QtiItemParts:
    """The three places of a QTI item a type fills in."""

    declaration: ET.Element  # qti-response-declaration identifier="RESPONSE"
    body: ET.Element  # qti-item-body
    processing: ET.Element  # qti-response-processing

    def declare(self, cardinality: str, base_type: str, *correct: str) -> None:
        self.declaration.set("cardinality", cardinality)
        self.declaration.set("base-type", base_type)
        values = el(self.declaration, "qti-correct-response")
        for value in correct:
            el(values, "qti-value", value)

    def mapping(self, entries: Iterable[tuple[str, float]], **extra: str) -> None:
        mapping = el(
            self.declaration,
            "qti-mapping",
            lower_bound="0",
            upper_bound="1",
            default_value="0",
        )
        for key, value in entries:
            el(mapping, "qti-map-entry", map_key=key, mapped_value=number(value), **extra)

    def prompt(self, interaction: ET.Element, stem: str) -> None:
        inline(el(interaction, "qti-prompt"), stem)

    def if_null_zero(self) -> ET.Element:
        """``if RESPONSE is NULL: SCORE = 0``; returns the condition for its else branches."""
        condition = el(self.processing, "qti-response-condition")
        branch = el(condition, "qti-response-if")
        el(el(branch, "qti-is-null"), "qti-variable", identifier="RESPONSE")
        set_outcome(branch, "SCORE", "0")
        return condition

    def score_match_correct(self) -> None:
        """SCORE 1 when the response equals the correct response, else 0."""
        condition = el(self.processing, "qti-response-condition")
        branch = el(condition, "qti-response-if")
        match = el(branch, "qti-match")
        el(match, "qti-variable", identifier="RESPONSE")
        el(match, "qti-correct", identifier="RESPONSE")
        set_outcome(branch, "SCORE", "1")
        set_outcome(el(condition, "qti-response-else"), "SCORE", "0")

    def score_mapped(self) -> None:
        """SCORE is the mapped response (bounded by the mapping), 0 when unanswered."""
        condition = self.if_null_zero()
        otherwise = el(condition, "qti-response-else")
        el(
            el(otherwise, "qti-set-outcome-value", identifier="SCORE"),
            "qti-map-response",
            identifier="RESPONSE",
        )


class QtiRead(Protocol):
    """A QTI 3.0 item as the QTI importer hands it to a type."""

    interaction: ET.Element  # the item's one interaction
    cardinality: str
    base_type: str
    correct: list[str]  # the correct response's values, in order
    mapping: dict[str, float]  # map-key -> mapped value (empty when there is no mapping)
    scoring: str  # "match_correct", "map_response", or the name of a recognised custom pattern

    def text(self, element: ET.Element | None) -> str: ...  # plain text of an element
    def choices(self, tag: str) -> dict[str, str]: ...  # id -> text of the interaction's ``tag``s
    def choices_of(self, parent: ET.Element) -> dict[str, str]: ...  # the same within ``parent``
