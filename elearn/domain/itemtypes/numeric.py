"""``numeric``: a number to work out; ``key: {value: 1250, tolerance: 5}`` or ``{min:, max:}``.

A key may also be a list of graded bands, as Moodle's numerical question holds them: each a
``{value, tolerance}`` or ``{min, max}`` with its ``credit`` (default 1), the first band that
holds the response giving its credit (Moodle's semantics: answers are tried in order), e.g.
``[{value: 1822, tolerance: 0}, {value: 1822, tolerance: 2, credit: 0.5}]``.

The learner types the number as their language writes it ("12 500,5" in Norwegian and Danish,
"12,500.5" in English). GIFT ``{#value:tolerance}`` / ``{#min..max}`` / ``{#=%50%1822:2 …}``,
Moodle ``numerical`` (a range as its middle ± half, a band per answer with its fraction), QTI
``qti-text-entry-interaction`` of base type float (a branch per band).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from elearn.domain.content import ItemSpec
from elearn.domain.errors import N_
from elearn.domain.itemtypes.base import (
    IncompleteResponse,
    InvalidResponse,
    ItemType,
    RawAnswer,
    Response,
    Served,
    forbid,
    one,
    parse_number,
    register,
    text_in,
)
from elearn.domain.itemtypes.formats import (
    GiftBlock,
    MoodleQuestion,
    QtiItemParts,
    QtiRead,
    Skip,
    base_value,
    el,
    finite,
    inline,
    moodle_answer,
    moodle_simple,
    number,
    percent,
    same,
    set_outcome,
    whole,
)
from elearn.domain.problems import LocatedMessage

_FULL = 1e-9
NOT_A_NUMBER = N_("Write a number, for example 1 234,5 or 1234.5.")
_GROUPED = {
    # English groups thousands with commas ("12,500"); Danish and Norwegian with dots or spaces.
    "en": re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"),
    "da": re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?"),
    "nb": re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?"),
}


def normalise_number(text: str, lang: str) -> str:
    """A number as the learner's language writes it, without its thousands separators."""
    compact = re.sub(r"[\s\u00a0\u202f]", "", text)
    pattern = _GROUPED.get(lang)
    if pattern is not None and pattern.fullmatch(compact):
        return compact.replace("," if lang == "en" else ".", "")
    return compact


def interval(key: dict[str, float]) -> tuple[float, float]:
    """The values a band (or a one-band key) accepts, as (low, high)."""
    if "value" in key:
        return key["value"] - key["tolerance"], key["value"] + key["tolerance"]
    return key["min"], key["max"]


def bands(key: Any) -> list[dict[str, Any]]:
    """A key as its graded bands, in order: a one-band key is that band with credit 1."""
    if isinstance(key, list):
        return [{**band, "credit": band.get("credit", 1.0)} for band in key]
    return [{**key, "credit": 1.0}]


def _full(band: dict[str, Any]) -> bool:
    return abs(band["credit"] - 1) <= _FULL


def _band_problem(band: Any) -> str | None:
    if not isinstance(band, dict):
        return "the key must be {value, tolerance} or {min, max}"
    shape = set(band) - {"credit"}
    if shape == {"value", "tolerance"}:
        if not (
            _is_number(band["value"]) and _is_number(band["tolerance"]) and band["tolerance"] >= 0
        ):
            return "value and tolerance must be numbers, tolerance >= 0"
    elif shape == {"min", "max"}:
        if not (_is_number(band["min"]) and _is_number(band["max"]) and band["min"] <= band["max"]):
            return "min and max must be numbers with min <= max"
    else:
        return "the key must be {value, tolerance} or {min, max}"
    return None


def _band_text(band: dict[str, Any]) -> str:
    if "value" in band:
        return f"{band['value']:g} (± {band['tolerance']:g})"
    return f"{band['min']:g} – {band['max']:g}"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@register
class Numeric(ItemType):
    name = "numeric"
    template = "numeric.html"
    gift_order = 10
    moodle_qtype = "numerical"
    qti_interaction = "qti-text-entry-interaction"

    def validate(self, item: ItemSpec) -> list[LocatedMessage]:
        out = forbid(item, "options", "prompts", "accepted")
        key = item.key
        if isinstance(key, dict):
            problem = _band_problem(key)
            if problem is None and "credit" in key:
                problem = "a single key has no credit: list graded bands instead"
            if problem:
                out.append(LocatedMessage(("key",), problem))
            return out
        if not isinstance(key, list) or not key:
            out.append(
                LocatedMessage(
                    ("key",), "the key must be {value, tolerance}, {min, max} or a list of bands"
                )
            )
            return out
        for i, band in enumerate(key):
            problem = _band_problem(band)
            if problem is None and "credit" in band:
                credit = band["credit"]
                if not (_is_number(credit) and 0 <= credit <= 1):
                    problem = "a band's credit must be a number from 0 to 1"
            if problem:
                out.append(LocatedMessage(("key", i), problem))
        if not out and not any(_full(b) for b in bands(key)):
            out.append(LocatedMessage(("key",), "needs a band with credit 1"))
        elif not out and self.score(item, self.key_response(item, ""), "") < 1:
            out.append(
                LocatedMessage(
                    ("key",),
                    "a band before the first full-credit band holds its value, so the right"
                    " answer scores less than 1 (the first band that holds a response counts)",
                )
            )
        return out

    def decode(self, raw: RawAnswer, served: Served, lang: str) -> dict[str, list[str]]:
        """Numbers as the answer's language writes them: "12,500" is 12500 in English, "12.500"
        in Danish and Norwegian."""
        return {name: [normalise_number(v, lang) for v in values] for name, values in raw.items()}

    def parse(self, item: ItemSpec, raw: RawAnswer) -> Response:
        value = one(raw)
        if value is None or not value.strip():
            return None
        try:
            return parse_number(value)
        except InvalidResponse:  # a typo, not a forgery: say so and show it back
            raise IncompleteResponse(NOT_A_NUMBER, partial=value) from None

    def score(self, item: ItemSpec, response: Response, lang: str) -> float:
        if response is None:
            return 0.0
        for band in bands(item.key):  # the first band that holds the response counts
            low, high = interval(band)
            # A tiny slack so that 0.1 + 0.2 style float noise never fails an exact answer.
            if low - 1e-9 <= response <= high + 1e-9:
                return float(band["credit"])
        return 0.0

    def key_response(self, item: ItemSpec, lang: str) -> Response:
        band = next(b for b in bands(item.key) if _full(b))
        return band["value"] if "value" in band else (band["min"] + band["max"]) / 2

    def random_guess_score(self, item: ItemSpec) -> float | None:
        """0, as Moodle's numerical: it gives the credit of a catch-all answer ("*"), which an
        elearn item has not, so a guessed number scores nothing."""
        return 0.0

    def value_text(self, response: Response) -> str | None:
        if isinstance(response, str):  # an unfinished answer: the text as typed
            return response
        return None if response is None else f"{response:g}"

    def describe(self, item: ItemSpec, lang: str) -> tuple[str, ...]:
        out = []
        for band in bands(item.key):
            text = _band_text(band)
            out.append(text if _full(band) else f"{text}: {band['credit'] * 100:g} %")
        return tuple(out)

    # -- GIFT

    def gift_claims(self, answer_text: str) -> bool:
        return answer_text.startswith("#")

    def read_gift(self, block: GiftBlock) -> tuple[Any, dict[str, Any]]:
        text = block.answer_text[1:]
        lo = block.lo + 1
        wrong = text.find("~")  # what follows is feedback for any other answer
        answers = _gift_answers(block, lo, text if wrong < 0 else text[:wrong])
        if not answers:
            block.syntax_error(lo, "the numeric answer block holds no number")
        fields: dict[str, Any] = {}
        if wrong >= 0:  # "~#feedback": Moodle's catch-all answer ("*", 0 %) with that feedback
            (other,) = block.answers("~", weights=False, text=text[wrong:], lo=lo + wrong)[-1:]
            answers.append((0.0, "*", other.offset, "#" + other.body.split("#", 1)[-1]))
        read: list[tuple[float, str, dict[str, int | float] | None]] = []
        for weight, body, at, _feedback in answers:
            key: dict[str, int | float] | None
            if body == "*":
                key = None  # any other answer: Moodle's catch-all for feedback
            elif not body:
                block.syntax_error(at, "a numeric answer has no number")
            elif body.find("..") > 0:
                low, high = body.split("..", 1)
                key = {"min": block.number(at, low), "max": block.number(at, high)}
            elif body.find(":") > 0:
                value, tolerance = body.split(":", 1)
                key = {
                    "value": block.number(at, value),
                    "tolerance": abs(block.number(at, tolerance)),
                }
            else:
                key = {"value": block.number(at, body), "tolerance": 0}
            read.append((weight, body, key))
        out: list[dict[str, Any]] = []
        for (credit, body, key), (_w, _b, at, feedback) in zip(read, answers, strict=True):
            if key is None:
                if credit > 0:
                    raise Skip("a catch-all '*' answer with credit cannot be scored")
                if body == "*" and not out:
                    raise Skip(_LEADING_CATCH_ALL)
                block.note(_CATCH_ALL)
                said = feedback.removeprefix("#")
                if block.restore(said).strip() and "feedback" not in fields:
                    fmt, raw = block.split_format(said.strip(), block.fmt)
                    fields["feedback"] = block.to_text(raw, fmt)
                    block.feedback_used(at)
                    block.note(_CATCH_ALL_FEEDBACK)
                continue
            if "min" in key and key["min"] > key["max"]:
                raise Skip(f"the range {body} has its minimum above its maximum")
            out.append(_band(key, credit))
        return _key(out, block.note), fields

    def write_gift(self, item: ItemSpec, lang: str) -> list[str]:
        key = item.key
        if isinstance(key, dict):
            return [_gift_band(key)]
        return ["#", *(f"=%{percent(b['credit'])}%{_gift_band(b)[1:]}" for b in bands(key))]

    # -- Moodle XML

    def read_moodle(self, question: MoodleQuestion) -> tuple[Any, dict[str, Any]]:
        out: list[dict[str, Any]] = []
        fields: dict[str, Any] = {}
        for answer in question.children("answer"):
            credit = answer.fraction()
            body = answer.plain()
            if body == "*":
                if credit > 0:
                    raise Skip("a catch-all '*' answer with credit cannot be scored")
                if not out:
                    raise Skip(_LEADING_CATCH_ALL)
                question.note(_CATCH_ALL)
                feedback = answer.child("feedback")
                said = feedback.rich() if feedback is not None else ""
                if said and "feedback" not in fields:
                    fields["feedback"] = said
                    question.note(_CATCH_ALL_FEEDBACK)
                continue
            if credit < 0:
                raise Skip("negative credit in a numerical question is not supported")
            value = finite(body, "answer")
            tolerance = abs(finite(answer.value("tolerance") or "0", "tolerance"))
            out.append(_band({"value": whole(value), "tolerance": whole(tolerance)}, credit))
        units = [u for units in question.children("units") for u in units.children("unit")]
        if len(units) > 1:
            raise Skip("several units are not supported")
        for unit in units:
            if not same(finite(unit.value("multiplier") or "1", "unit multiplier"), 1.0):
                raise Skip("unit multipliers are not supported")
        return _key(out, question.note), fields

    def write_moodle(self, question: ET.Element, item: ItemSpec, lang: str) -> None:
        for band in bands(item.key):
            low, high = interval(band)
            if "value" in band:
                value, tolerance = band["value"], band["tolerance"]
            else:
                value, tolerance = (low + high) / 2, (high - low) / 2
            node = moodle_answer(question, band["credit"], number(value), "moodle_auto_format")
            moodle_simple(node, "tolerance", number(tolerance))
        moodle_simple(question, "unitgradingtype", "0")
        moodle_simple(question, "showunits", "3")

    # -- QTI

    def write_qti(self, parts: QtiItemParts, item: ItemSpec, lang: str) -> None:
        parts.declare("single", "float", number(self.key_response(item, lang)))
        block = el(parts.body, "div")
        inline(el(block, "p"), text_in(item, lang).stem)
        entry = el(block, "p")
        el(
            entry,
            "qti-text-entry-interaction",
            response_identifier="RESPONSE",
            expected_length="15",
        )
        condition = parts.if_null_zero()
        for band in bands(item.key):  # the first branch that holds wins, as in Moodle
            low, high = interval(band)
            branch = el(condition, "qti-response-else-if")
            both = el(branch, "qti-and")
            for comparison, bound in (("qti-gte", low), ("qti-lte", high)):
                test = el(both, comparison)
                el(test, "qti-variable", identifier="RESPONSE")
                base_value(test, number(bound), "float")
            set_outcome(branch, "SCORE", number(band["credit"]))
        set_outcome(el(condition, "qti-response-else"), "SCORE", "0")

    def qti_claims(self, read: QtiRead) -> bool:
        return read.base_type in ("float", "integer")

    def read_qti(self, read: QtiRead) -> tuple[Any, dict[str, Any]]:
        if read.scoring.startswith("bands:"):
            out = []
            for band in read.scoring.removeprefix("bands:").split(";"):
                low, high, credit = (float(v) for v in band.split(":"))
                out.append(_band(_range(low, high), credit))
            return _key(out, lambda change: None), {}
        if read.scoring.startswith("interval:"):
            low, high = (float(v) for v in read.scoring.removeprefix("interval:").split(":"))
        elif read.scoring == "match_correct" and len(read.correct) == 1:
            low = high = finite(read.correct[0], "correct response")
        else:
            raise Skip("a numeric item must score its one correct value or an interval")
        return _range(low, high), {}


_LEADING_CATCH_ALL = (
    "a catch-all answer ('*') before the credited answers would take every response"
    " (Moodle takes the first answer that matches)"
)
_CATCH_ALL = "the zero-credit catch-all answer ('*') was left out: other answers score 0 anyway"
_CATCH_ALL_FEEDBACK = "the catch-all answer's feedback became the question's general feedback"


def _range(low: float, high: float) -> dict[str, int | float]:
    if low == high:
        return {"value": whole(low), "tolerance": 0}
    return {"min": whole(low), "max": whole(high)}


def _band(key: dict[str, int | float], credit: float) -> dict[str, Any]:
    if not 0 <= credit <= 1 + _FULL:
        raise Skip(f"a credit of {credit * 100:g} % is not within 0..100 %")
    return {**key, "credit": 1.0 if abs(credit - 1) <= _FULL else whole(credit)}


def _key(read: list[dict[str, Any]], note: Callable[[str], None]) -> Any:
    """The key of the bands read, in order: one full-credit band is a plain key; bands worth 0
    at the end are left out (a response they hold scores 0 anyway)."""
    while read and read[-1]["credit"] == 0:
        read.pop()
        note("numeric answers worth 0 % were left out: other numbers score 0 anyway")
    if not any(b["credit"] == 1.0 for b in read):
        raise Skip("no numeric answer gets full credit (100 %)")
    if len(read) == 1:
        return {k: v for k, v in read[0].items() if k != "credit"}
    return [{k: v for k, v in band.items() if k != "credit" or v != 1.0} for band in read]


def _gift_band(band: dict[str, Any]) -> str:
    if "value" in band:
        return f"#{number(band['value'])}:{number(band['tolerance'])}"
    return f"#{number(band['min'])}..{number(band['max'])}"


def _gift_answers(block: GiftBlock, lo: int, text: str) -> list[tuple[float, str, int, str]]:
    """The ``=`` answers of a numeric block: (credit, the answer without feedback, offset, its
    ``#feedback`` as written)."""
    out = []
    for answer in block.answers("=", weights=True, text=text, lo=lo):
        given, _, feedback = answer.body.partition("#")
        body = block.restore(given).strip()
        credit = 1.0 if answer.weight is None else answer.weight
        out.append((credit, body, answer.offset, "#" + feedback if feedback else ""))
    return out
