"""The item types, one module each, and the registry that is the one lookup of them.

``get_item_type(name)`` gives the type of an item; the functions below are what the rest of
elearn asks of an item through its type (check it, read a posted answer, present it, describe
its key). A new type is a new module here with its partial beside it, imported at the bottom.
"""

from __future__ import annotations

from collections.abc import Sequence

from elearn.domain.content import BankSpec, ItemSpec, missing_languages
from elearn.domain.images import PLACEHOLDER_ALT
from elearn.domain.itemtypes.base import (
    Choice,
    IncompleteResponse,
    InvalidResponse,
    ItemType,
    PresentedItem,
    RawAnswer,
    Response,
    Served,
    Unsupported,
    get_item_type,
    item_type_names,
    item_types,
    option_ids,
    parse_number,
    prompt_ids,
    register,
    text_in,
)
from elearn.domain.problems import LocatedMessage

__all__ = [
    "Choice",
    "IncompleteResponse",
    "InvalidResponse",
    "ItemType",
    "PresentedItem",
    "RawAnswer",
    "Response",
    "Served",
    "Unsupported",
    "check_item",
    "decode_answer",
    "describe_answer",
    "full_key_response",
    "get_item_type",
    "item_type_names",
    "item_types",
    "option_ids",
    "parse_number",
    "present",
    "prompt_ids",
    "read_answer",
    "register",
    "text_in",
]


def check_item(item: ItemSpec, bank: BankSpec, loc: tuple[str | int, ...]) -> list[LocatedMessage]:
    """Problems of one item against its bank: topic, languages, and its type's own rules."""
    out: list[LocatedMessage] = []
    if item.topic not in {t.id for t in bank.topics}:
        out.append(LocatedMessage((*loc, "topic"), f"unknown topic '{item.topic}'"))
    out += missing_languages(item.text, bank.languages, (*loc, "text"))
    for i, image in enumerate(item.images):  # WCAG 1.1.1: every image is described
        where = (*loc, "images", i, "alt")
        out += [
            LocatedMessage(where, f"the image {image.file} has no alt text in '{lang}'")
            for lang in item.text
            if lang not in image.alt
        ]
        out += [
            LocatedMessage(where, f"the alt text in '{lang}' is the import's placeholder")
            for lang, alt in image.alt.items()
            if PLACEHOLDER_ALT in alt
        ]
    try:
        item_type = get_item_type(item.type)
    except KeyError as exc:
        out.append(LocatedMessage((*loc, "type"), str(exc.args[0])))
        return out
    out += [LocatedMessage((*loc, *p.loc), p.message) for p in item_type.validate(item)]
    return out


def decode_answer(
    item_type: str,
    raw: RawAnswer,
    options: Sequence[str],
    prompts: Sequence[str],
    lang: str = "nb",
) -> dict[str, list[str]]:
    """Posted served positions back to authored ids; a position never offered is refused."""
    return get_item_type(item_type).decode(raw, Served.of(options, prompts), lang)


def read_answer(
    item: ItemSpec, raw: RawAnswer, options: Sequence[str], prompts: Sequence[str], lang: str
) -> Response:
    """What a page posted for an item, as the response to store: decoded, then read.

    Raises :class:`InvalidResponse` (or :class:`IncompleteResponse`) and changes nothing.
    """
    kind = get_item_type(item.type)
    return kind.parse(item, kind.decode(raw, Served.of(options, prompts), lang))


def present(
    item: ItemSpec,
    lang: str,
    options: Sequence[str],
    prompts: Sequence[str],
    response: Response = None,
) -> PresentedItem:
    """The item in ``lang`` (else its first language) in served order, with the saved answer.

    Inputs carry served positions, not option ids, so that the page says nothing about which
    authored option is which (an author who always keys "a" gives nothing away).
    """
    return get_item_type(item.type).present(item, lang, Served.of(options, prompts), response)


def describe_answer(item: ItemSpec, lang: str) -> tuple[str, ...]:
    """The right answer in words, one part per line, for the review of answers."""
    return get_item_type(item.type).describe(item, lang)


def full_key_response(item: ItemSpec, lang: str) -> Response:
    """The response that the key gives full marks (for tests and the review of answers)."""
    return get_item_type(item.type).key_response(item, lang)


def _load_types() -> None:
    """Import every module of this package: each type module registers its type on import, so
    that a new type is a new module here, and nothing else names it."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


_load_types()
