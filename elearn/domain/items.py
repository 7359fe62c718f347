"""The registry of item types: each knows what a valid item of its kind looks like.

Scoring joins each type in the exam engine; the lookup raises on an unknown name so that a typo
in a content file is an error, not an item that can never be answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from elearn.domain.content import ItemSpec
from elearn.domain.problems import LocatedMessage

Validator = Callable[[ItemSpec], list[LocatedMessage]]


@dataclass(frozen=True)
class ItemType:
    name: str
    validate: Validator


_REGISTRY: dict[str, ItemType] = {}


def register(name: str) -> Callable[[Validator], Validator]:
    def decorator(validate: Validator) -> Validator:
        if name in _REGISTRY:
            raise ValueError(f"item type '{name}' is registered twice")
        _REGISTRY[name] = ItemType(name, validate)
        return validate

    return decorator


def get_item_type(name: str) -> ItemType:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown item type '{name}' (known: {known})") from None


def item_type_names() -> list[str]:
    return sorted(_REGISTRY)


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
    if not any(w > 0 for w in weights.values()):
        out.append(LocatedMessage(("key",), "the key gives no option positive credit"))
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
