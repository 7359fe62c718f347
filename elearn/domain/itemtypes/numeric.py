"""``numeric``: a number to work out; ``key: {value: 1250, tolerance: 5}`` or ``{min:, max:}``.

The learner types the number as their language writes it ("12 500,5" in Norwegian and Danish,
"12,500.5" in English). GIFT ``{#value:tolerance}`` / ``{#min..max}``, Moodle ``numerical``
(a range as its middle ± half), QTI ``qti-text-entry-interaction`` of base type float.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
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
    """The values a numeric key accepts, as (low, high)."""
    if "value" in key:
        return key["value"] - key["tolerance"], key["value"] + key["tolerance"]
    return key["min"], key["max"]


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
        if isinstance(key, dict) and set(key) == {"value", "tolerance"}:
            if not (
                _is_number(key["value"]) and _is_number(key["tolerance"]) and key["tolerance"] >= 0
            ):
                out.append(
                    LocatedMessage(("key",), "value and tolerance must be numbers, tolerance >= 0")
                )
        elif isinstance(key, dict) and set(key) == {"min", "max"}:
            if not (_is_number(key["min"]) and _is_number(key["max"]) and key["min"] <= key["max"]):
                out.append(LocatedMessage(("key",), "min and max must be numbers with min <= max"))
        else:
            out.append(LocatedMessage(("key",), "the key must be {value, tolerance} or {min, max}"))
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
        low, high = interval(item.key)
        # A tiny slack so that 0.1 + 0.2 style float noise never fails an exact answer.
        return 1.0 if low - 1e-9 <= response <= high + 1e-9 else 0.0

    def key_response(self, item: ItemSpec, lang: str) -> Response:
        key = item.key
        return key["value"] if "value" in key else (key["min"] + key["max"]) / 2

    def random_guess_score(self, item: ItemSpec) -> float | None:
        """0, as Moodle's numerical: it gives the credit of a catch-all answer ("*"), which an
        elearn item has not, so a guessed number scores nothing."""
        return 0.0

    def value_text(self, response: Response) -> str | None:
        if isinstance(response, str):  # an unfinished answer: the text as typed
            return response
        return None if response is None else f"{response:g}"

    def describe(self, item: ItemSpec, lang: str) -> tuple[str, ...]:
        key = item.key
        if "value" in key:
            return (f"{key['value']:g} (± {key['tolerance']:g})",)
        return (f"{key['min']:g} – {key['max']:g}",)

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
        read: list[tuple[float, str, dict[str, int | float] | None]] = []
        for weight, body, at in answers:
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
        keys: list[dict[str, int | float]] = []
        for credit, body, key in read:
            if key is None:
                if credit > 0:
                    raise Skip("a catch-all '*' answer with credit cannot be scored")
            elif "min" in key and key["min"] > key["max"]:
                raise Skip(f"the range {body} has its minimum above its maximum")
            elif abs(credit - 1) <= _FULL:
                keys.append(key)
        if not keys:
            raise Skip("no numeric answer gets full credit (100 %)")
        if len(keys) > 1:
            raise Skip(
                "more than one numeric answer gets full credit, but elearn's numeric key is one"
                " value or range"
            )
        return keys[0], {}

    def write_gift(self, item: ItemSpec, lang: str) -> list[str]:
        key = item.key
        if "value" in key:
            return [f"#{number(key['value'])}:{number(key['tolerance'])}"]
        return [f"#{number(key['min'])}..{number(key['max'])}"]

    # -- Moodle XML

    def read_moodle(self, question: MoodleQuestion) -> tuple[Any, dict[str, Any]]:
        full = []
        for answer in question.children("answer"):
            credit = answer.fraction()
            if same(credit, 1.0):
                full.append(answer)
            elif credit < 0 or not same(credit, 0.0):
                raise Skip("partial or negative credit in a numerical question is not supported")
        if not full:
            raise Skip("no answer gets full credit")
        if len(full) > 1:
            raise Skip("more than one answer gets full credit")
        units = [u for units in question.children("units") for u in units.children("unit")]
        if len(units) > 1:
            raise Skip("several units are not supported")
        for unit in units:
            if not same(finite(unit.value("multiplier") or "1", "unit multiplier"), 1.0):
                raise Skip("unit multipliers are not supported")
        value = finite(full[0].plain(), "answer")
        tolerance = abs(finite(full[0].value("tolerance") or "0", "tolerance"))
        return {"value": whole(value), "tolerance": whole(tolerance)}, {}

    def write_moodle(self, question: ET.Element, item: ItemSpec, lang: str) -> None:
        low, high = interval(item.key)
        if "value" in item.key:
            value, tolerance = item.key["value"], item.key["tolerance"]
        else:
            value, tolerance = (low + high) / 2, (high - low) / 2
        node = moodle_answer(question, 1.0, number(value), "moodle_auto_format")
        moodle_simple(node, "tolerance", number(tolerance))
        moodle_simple(question, "unitgradingtype", "0")
        moodle_simple(question, "showunits", "3")

    # -- QTI

    def write_qti(self, parts: QtiItemParts, item: ItemSpec, lang: str) -> None:
        low, high = interval(item.key)
        correct = item.key["value"] if "value" in item.key else (low + high) / 2
        parts.declare("single", "float", number(correct))
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
        branch = el(condition, "qti-response-else-if")
        both = el(branch, "qti-and")
        for comparison, bound in (("qti-gte", low), ("qti-lte", high)):
            test = el(both, comparison)
            el(test, "qti-variable", identifier="RESPONSE")
            base_value(test, number(bound), "float")
        set_outcome(branch, "SCORE", "1")
        set_outcome(el(condition, "qti-response-else"), "SCORE", "0")

    def qti_claims(self, read: QtiRead) -> bool:
        return read.base_type in ("float", "integer")

    def read_qti(self, read: QtiRead) -> tuple[Any, dict[str, Any]]:
        if read.scoring.startswith("interval:"):
            low, high = (float(v) for v in read.scoring.removeprefix("interval:").split(":"))
        elif read.scoring == "match_correct" and len(read.correct) == 1:
            low = high = finite(read.correct[0], "correct response")
        else:
            raise Skip("a numeric item must score its one correct value or an interval")
        if low == high:
            return {"value": whole(low), "tolerance": 0}, {}
        return {"min": whole(low), "max": whole(high)}, {}


def _gift_answers(block: GiftBlock, lo: int, text: str) -> list[tuple[float, str, int]]:
    """The ``=`` answers of a numeric block: (credit, the answer without feedback, offset)."""
    out = []
    for answer in block.answers("=", weights=True, text=text, lo=lo):
        body = block.restore(answer.body.split("#", 1)[0]).strip()
        out.append((1.0 if answer.weight is None else answer.weight, body, answer.offset))
    return out
