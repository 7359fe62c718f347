"""The registry of item types: what a valid item looks like, how an answer is read, how it scores.

Each type has three pure functions. ``validate`` checks an item as authored; ``parse`` turns the
fields a browser posted into a response, refusing anything the item does not offer; ``score``
gives the response a mark from 0 to 1. The lookup raises on an unknown name, so a typo in a
content file is an error, not an item that can never be answered.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from elearn.domain.content import ItemSpec, ItemText
from elearn.domain.problems import LocatedMessage

Validator = Callable[[ItemSpec], list[LocatedMessage]]
# Posted fields by name, each with its values (a browser may send a name several times).
RawAnswer = Mapping[str, Sequence[str]]
Response = Any  # str | list[str] | bool | float | dict[str, str] | None (unanswered)
Parser = Callable[[ItemSpec, RawAnswer], Response]
Scorer = Callable[[ItemSpec, Response, str], float]


class InvalidResponse(ValueError):
    """A posted answer the item does not offer (a forged option, text where a number goes)."""


@dataclass(frozen=True)
class ItemType:
    name: str
    validate: Validator
    parse: Parser
    score: Scorer


_VALIDATORS: dict[str, Validator] = {}
_REGISTRY: dict[str, ItemType] = {}


def register(name: str) -> Callable[[Validator], Validator]:
    """Register a type's validator; ``scoring`` adds its parser and scorer."""

    def decorator(validate: Validator) -> Validator:
        if name in _VALIDATORS:
            raise ValueError(f"item type '{name}' is registered twice")
        _VALIDATORS[name] = validate
        return validate

    return decorator


def scoring(name: str, parse: Parser) -> Callable[[Scorer], Scorer]:
    def decorator(score: Scorer) -> Scorer:
        _REGISTRY[name] = ItemType(name, _VALIDATORS[name], parse, score)
        return score

    return decorator


def get_item_type(name: str) -> ItemType:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown item type '{name}' (known: {known})") from None


def item_type_names() -> list[str]:
    return sorted(_REGISTRY)


def clamp(mark: float) -> float:
    return min(1.0, max(0.0, mark))


# --- shared checks ----------------------------------------------------------------------------


def _same_ids(item: ItemSpec, field: str, minimum: int) -> tuple[list[str], list[LocatedMessage]]:
    """The ids of ``options`` or ``prompts``, which every language must give alike, in order."""
    out: list[LocatedMessage] = []
    reference: list[str] | None = None
    for lang, text in item.text.items():
        ids = list(getattr(text, field) or {})
        loc = ("text", lang, field)
        if len(ids) < minimum:
            out.append(LocatedMessage(loc, f"needs at least {minimum} {field}"))
        if reference is None:
            reference = ids
        elif ids != reference:
            out.append(
                LocatedMessage(
                    loc,
                    f"{field} {ids} differ from the first language's {reference}"
                    " (same ids, same order in every language)",
                )
            )
    return reference or [], out


def _forbid(item: ItemSpec, *fields: str) -> list[LocatedMessage]:
    return [
        LocatedMessage(("text", lang, field), f"'{field}' has no meaning for a {item.type} item")
        for lang, text in item.text.items()
        for field in fields
        if getattr(text, field) is not None
    ]


def _pinned(item: ItemSpec, options: list[str]) -> list[LocatedMessage]:
    return [
        LocatedMessage(("pinned", i), f"pinned option '{p}' is not an option")
        for i, p in enumerate(item.pinned)
        if p not in options
    ]


# --- the types ---------------------------------------------------------------------------------


@register("single_choice")
def _single_choice(item: ItemSpec) -> list[LocatedMessage]:
    options, out = _same_ids(item, "options", 2)
    out += _forbid(item, "prompts", "accepted") + _pinned(item, options)
    if not isinstance(item.key, str):
        out.append(LocatedMessage(("key",), "the key must be one option id"))
    elif options and item.key not in options:
        out.append(LocatedMessage(("key",), f"the key '{item.key}' is not an option"))
    return out


@register("multiple_response")
def _multiple_response(item: ItemSpec) -> list[LocatedMessage]:
    options, out = _same_ids(item, "options", 2)
    out += _forbid(item, "prompts", "accepted") + _pinned(item, options)
    key = item.key
    if isinstance(key, list) and all(isinstance(k, str) for k in key):
        weights = {k: 1.0 for k in key}
    elif isinstance(key, dict) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in key.values()
    ):
        weights = {str(k): float(v) for k, v in key.items()}
    else:
        out.append(
            LocatedMessage(("key",), "the key must be a list of option ids or a map id -> fraction")
        )
        return out
    for option_id in weights:
        if options and option_id not in options:
            out.append(LocatedMessage(("key",), f"the key '{option_id}' is not an option"))
    positive = sum(w for w in weights.values() if w > 0)
    if positive == 0:
        out.append(LocatedMessage(("key",), "the key gives no option positive credit"))
    elif isinstance(key, dict) and abs(positive - 1) > 1e-6:
        out.append(LocatedMessage(("key",), "the positive fractions must add up to 1"))
    if any(abs(w) > 1 for w in weights.values()):
        out.append(LocatedMessage(("key",), "a fraction must lie within -1..1"))
    return out


@register("true_false")
def _true_false(item: ItemSpec) -> list[LocatedMessage]:
    out = _forbid(item, "options", "prompts", "accepted")
    if not isinstance(item.key, bool):
        out.append(LocatedMessage(("key",), "the key must be true or false"))
    return out


@register("numeric")
def _numeric(item: ItemSpec) -> list[LocatedMessage]:
    out = _forbid(item, "options", "prompts", "accepted")
    key = item.key

    def number(value: object) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    if isinstance(key, dict) and set(key) == {"value", "tolerance"}:
        if not (number(key["value"]) and number(key["tolerance"]) and key["tolerance"] >= 0):
            out.append(
                LocatedMessage(("key",), "value and tolerance must be numbers, tolerance >= 0")
            )
    elif isinstance(key, dict) and set(key) == {"min", "max"}:
        if not (number(key["min"]) and number(key["max"]) and key["min"] <= key["max"]):
            out.append(LocatedMessage(("key",), "min and max must be numbers with min <= max"))
    else:
        out.append(LocatedMessage(("key",), "the key must be {value, tolerance} or {min, max}"))
    return out


@register("matching")
def _matching(item: ItemSpec) -> list[LocatedMessage]:
    prompts, out = _same_ids(item, "prompts", 2)
    options, more = _same_ids(item, "options", 2)
    out += more + _forbid(item, "accepted")
    if not isinstance(item.key, dict):
        out.append(LocatedMessage(("key",), "the key must map each prompt id to an option id"))
        return out
    for prompt_id in prompts:
        if prompt_id not in item.key:
            out.append(LocatedMessage(("key",), f"prompt '{prompt_id}' has no key"))
    for prompt_id, option_id in item.key.items():
        if prompt_id not in prompts:
            out.append(LocatedMessage(("key", prompt_id), f"'{prompt_id}' is not a prompt"))
        elif option_id not in options:
            out.append(
                LocatedMessage(("key", prompt_id), f"the key '{option_id}' is not an option")
            )
    return out


@register("short_answer")
def _short_answer(item: ItemSpec) -> list[LocatedMessage]:
    out = _forbid(item, "options", "prompts")
    if item.key is not None:
        out.append(LocatedMessage(("key",), "short answers are keyed per language in 'accepted'"))
    for lang, text in item.text.items():
        accepted = text.accepted or []
        if not any(a.credit == 1.0 for a in accepted):
            out.append(
                LocatedMessage(("text", lang, "accepted"), "needs an accepted answer with credit 1")
            )
    return out


# --- reading answers and scoring ----------------------------------------------------------------


def text_in(item: ItemSpec, lang: str) -> ItemText:
    """The item's text in ``lang``, else in its first language."""
    texts = cast(dict[str, ItemText], item.text)
    return texts.get(lang) or next(iter(texts.values()))


def option_ids(item: ItemSpec) -> list[str]:
    return list(next(iter(item.text.values())).options or {})


def prompt_ids(item: ItemSpec) -> list[str]:
    return list(next(iter(item.text.values())).prompts or {})


def _one(raw: RawAnswer, name: str = "answer") -> str | None:
    values = [v for v in raw.get(name, ()) if v != ""]
    if len(values) > 1:
        raise InvalidResponse("one answer expected")
    return values[0] if values else None


def _parse_choice(item: ItemSpec, raw: RawAnswer) -> Response:
    value = _one(raw)
    if value is not None and value not in option_ids(item):
        raise InvalidResponse("not an option of this question")
    return value


def _parse_choices(item: ItemSpec, raw: RawAnswer) -> Response:
    values = [v for v in raw.get("answer", ()) if v != ""]
    offered = option_ids(item)
    if any(v not in offered for v in values) or len(set(values)) != len(values):
        raise InvalidResponse("not an option of this question")
    return sorted(values, key=offered.index) or None


def _parse_true_false(item: ItemSpec, raw: RawAnswer) -> Response:
    value = _one(raw)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise InvalidResponse("answer true or false")
    return value == "true"


_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def parse_number(text: str) -> float:
    """A number as people type it: '1 234,5', '1234.5', '-3' (thousands spaces, comma or point)."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text)
    if not _NUMBER.match(cleaned):
        raise InvalidResponse("not a number")
    return float(cleaned.replace(",", "."))


def _parse_numeric(item: ItemSpec, raw: RawAnswer) -> Response:
    value = _one(raw)
    return None if value is None or not value.strip() else parse_number(value)


def _parse_matching(item: ItemSpec, raw: RawAnswer) -> Response:
    offered = option_ids(item)
    pairs: dict[str, str] = {}
    for prompt in prompt_ids(item):
        value = _one(raw, f"answer-{prompt}")
        if value is None:
            continue
        if value not in offered:
            raise InvalidResponse("not an option of this question")
        pairs[prompt] = value
    extra = {k for k in raw if k.startswith("answer-")} - {f"answer-{p}" for p in prompt_ids(item)}
    if extra:
        raise InvalidResponse("not a part of this question")
    return pairs or None


def _parse_text(item: ItemSpec, raw: RawAnswer) -> Response:
    value = _one(raw)
    if value is None or not value.strip():
        return None
    if len(value) > 500:
        raise InvalidResponse("the answer is too long")
    return value


def normalise_text(text: str) -> str:
    """Compare short answers as people mean them: case, spacing, accents form and end stops."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" .,;:!?\"'«»")


def weights(item: ItemSpec) -> dict[str, float]:
    """Per-option fractions of a multiple-response item.

    A list key shares 1 among the right options, and each wrong option chosen costs one share,
    so that ticking every box does not earn the mark.
    """
    key = item.key
    if isinstance(key, dict):
        return {str(k): float(v) for k, v in key.items()}
    share = 1.0 / len(key)
    return {o: (share if o in key else -share) for o in option_ids(item)}


@scoring("single_choice", _parse_choice)
def _score_single(item: ItemSpec, response: Response, lang: str) -> float:
    return 1.0 if response is not None and response == item.key else 0.0


@scoring("multiple_response", _parse_choices)
def _score_multiple(item: ItemSpec, response: Response, lang: str) -> float:
    if not response:
        return 0.0
    w = weights(item)
    return clamp(sum(w.get(o, 0.0) for o in response))


@scoring("true_false", _parse_true_false)
def _score_true_false(item: ItemSpec, response: Response, lang: str) -> float:
    return 1.0 if response is not None and response is item.key else 0.0


@scoring("numeric", _parse_numeric)
def _score_numeric(item: ItemSpec, response: Response, lang: str) -> float:
    if response is None:
        return 0.0
    key = item.key
    if "value" in key:
        # A tiny slack so that 0.1 + 0.2 style float noise never fails an exact answer.
        return 1.0 if abs(response - key["value"]) <= key["tolerance"] + 1e-9 else 0.0
    return 1.0 if key["min"] - 1e-9 <= response <= key["max"] + 1e-9 else 0.0


@scoring("matching", _parse_matching)
def _score_matching(item: ItemSpec, response: Response, lang: str) -> float:
    if not response:
        return 0.0
    prompts = prompt_ids(item)
    right = sum(1 for p in prompts if response.get(p) == item.key.get(p))
    return right / len(prompts)


@scoring("short_answer", _parse_text)
def _score_short(item: ItemSpec, response: Response, lang: str) -> float:
    if response is None:
        return 0.0
    text = text_in(item, lang)
    given = normalise_text(response)
    return max(
        (a.credit for a in text.accepted or [] if normalise_text(a.answer) == given), default=0.0
    )


def full_key_response(item: ItemSpec, lang: str) -> Response:
    """The response that the key gives full marks (for tests and the review of answers)."""
    key = item.key
    if item.type == "multiple_response":
        return [o for o, w in weights(item).items() if w > 0]
    if item.type == "numeric":
        return key["value"] if "value" in key else (key["min"] + key["max"]) / 2
    if item.type == "short_answer":
        text = text_in(item, lang)
        return next(a.answer for a in text.accepted or [] if a.credit == 1.0)
    if item.type == "matching":
        return dict(key)
    return key
