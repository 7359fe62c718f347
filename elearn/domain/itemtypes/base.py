"""What every item type is: the base class a type module fills in, and the one registry of them.

An item type is one module in this package (CTFd's challenge plugins have the same shape): a
subclass of :class:`ItemType` that says what a valid item looks like, how a posted answer is
decoded and read, how a response scores, how the item is presented and its key described, and
how it maps to the question formats of other systems (GIFT, Moodle XML, QTI 3.0). Its template
partial sits beside the module as ``<template>.html``. Everything here is pure: no web, database
or form library, so that content checks, imports and the benchmark use the same code as pages.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, cast

from elearn.domain.content import ItemSpec, ItemText
from elearn.domain.numbers import whole_number
from elearn.domain.problems import LocatedMessage

if TYPE_CHECKING:
    from elearn.domain.itemtypes.formats import GiftBlock, MoodleQuestion, QtiItemParts, QtiRead

# Posted fields by name, each with its values (a browser may send a name several times).
RawAnswer = Mapping[str, Sequence[str]]
Response = Any  # str | list[str] | bool | float | dict[str, str] | None (unanswered)


class InvalidResponse(ValueError):
    """A posted answer the item does not offer (a forged option, text where a number goes)."""


class IncompleteResponse(InvalidResponse):
    """An answer the learner has not finished in a way the item can hold (two steps in one place).

    Unlike a forged answer this is the learner's to correct: pages say why and show ``partial``
    (what was given, in a form the type's ``present`` takes) so that nothing typed is lost.
    """

    def __init__(self, message: str, partial: Response = None) -> None:
        super().__init__(message)
        self.partial = partial


class Unsupported(Exception):
    """The item cannot be written in a format without changing what it asks or how it scores."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Choice:
    id: str  # the served position, "1".."n": never the authored option id
    text: str
    selected: bool = False


@dataclass(frozen=True)
class PresentedItem:
    """What a candidate may see of an item: its text in the served order, never its key.

    Templates and JSON get only these objects, so that nothing secret can leak by accident.
    """

    type: str
    template: str  # the type's partial, e.g. "itemtypes/choice.html"
    lang: str
    stem: str
    options: tuple[Choice, ...] = ()
    prompts: tuple[Choice, ...] = ()
    # One choice per part, by served position: matching's prompt -> option, ordering's
    # step -> place.
    chosen: Mapping[str, str] = field(default_factory=dict)
    value: str | None = None  # true_false, numeric, short_answer: the saved answer as text
    multiple: bool = False  # choice items: any number of options may be ticked

    @property
    def answered(self) -> bool:
        return bool(self.value is not None or self.chosen or any(c.selected for c in self.options))


@dataclass(frozen=True)
class Served:
    """The order an attempt served an item's parts in: authored ids, first served first."""

    options: tuple[str, ...] = ()
    prompts: tuple[str, ...] = ()

    @staticmethod
    def of(options: Sequence[str], prompts: Sequence[str]) -> Served:
        return Served(tuple(options), tuple(prompts))


# --- helpers every type may use ------------------------------------------------------------------


def text_in(item: ItemSpec, lang: str) -> ItemText:
    """The item's text in ``lang``, else in its first language."""
    texts = cast(dict[str, ItemText], item.text)
    return texts.get(lang) or next(iter(texts.values()))


def language_of(item: ItemSpec, lang: str) -> str:
    """The language :func:`text_in` gives for ``lang``."""
    return lang if lang in item.text else next(iter(item.text))


def option_ids(item: ItemSpec) -> list[str]:
    return list(next(iter(item.text.values())).options or {})


def prompt_ids(item: ItemSpec) -> list[str]:
    return list(next(iter(item.text.values())).prompts or {})


def clamp(mark: float) -> float:
    return min(1.0, max(0.0, mark))


def one(raw: RawAnswer, name: str = "answer") -> str | None:
    """The single value posted under ``name``, or None; two values are a forged answer."""
    values = [v for v in raw.get(name, ()) if v != ""]
    if len(values) > 1:
        raise InvalidResponse("one answer expected")
    return values[0] if values else None


def positions(ids: Sequence[str]) -> dict[str, str]:
    """Authored id -> served position ("1".."n")."""
    return {authored: str(i) for i, authored in enumerate(ids, start=1)}


def at_position(position: str, ids: Sequence[str], what: str = "an option") -> str:
    """The authored id served at ``position``; a position the form never offered is refused."""
    served = whole_number(position, maximum=len(ids))
    if served is None or served < 1:
        raise InvalidResponse(f"not {what} of this question")
    return ids[served - 1]


def served_choices(
    text: Mapping[str, str] | None, ids: Sequence[str], picked: frozenset[str] = frozenset()
) -> tuple[Choice, ...]:
    """Choices in served order, numbered by served position, marked where picked."""
    labels = text or {}
    return tuple(
        Choice(str(i), labels[o], o in picked) for i, o in enumerate(ids, start=1) if o in labels
    )


def same_ids(
    item: ItemSpec, field_name: str, minimum: int
) -> tuple[list[str], list[LocatedMessage]]:
    """The ids of ``options`` or ``prompts``, which every language must give alike, in order."""
    out: list[LocatedMessage] = []
    reference: list[str] | None = None
    for lang, text in item.text.items():
        ids = list(getattr(text, field_name) or {})
        loc = ("text", lang, field_name)
        if len(ids) < minimum:
            out.append(LocatedMessage(loc, f"needs at least {minimum} {field_name}"))
        if reference is None:
            reference = ids
        elif ids != reference:
            out.append(
                LocatedMessage(
                    loc,
                    f"{field_name} {ids} differ from the first language's {reference}"
                    " (same ids, same order in every language)",
                )
            )
    return reference or [], out


def forbid(item: ItemSpec, *fields: str) -> list[LocatedMessage]:
    """A problem for each of ``fields`` that an item of this type may not carry."""
    return [
        LocatedMessage(("text", lang, name), f"'{name}' has no meaning for a {item.type} item")
        for lang, text in item.text.items()
        for name in fields
        if getattr(text, name) is not None
    ]


def no_pinned(item: ItemSpec) -> list[LocatedMessage]:
    return (
        [LocatedMessage(("pinned",), f"'pinned' has no meaning for a {item.type} item")]
        if item.pinned
        else []
    )


def pinned_are_options(item: ItemSpec, options: list[str]) -> list[LocatedMessage]:
    return [
        LocatedMessage(("pinned", i), f"pinned option '{p}' is not an option")
        for i, p in enumerate(item.pinned)
        if p not in options
    ]


_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def parse_number(text: str) -> float:
    """A number as people type it: '1 234,5', '1234.5', '-3' (thousands spaces, comma or point)."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text)
    # At most 40 characters: 400 nines would read as infinity, which no JSON column can hold.
    if not _NUMBER.match(cleaned) or len(cleaned) > 40:
        raise InvalidResponse("not a number")
    value = float(cleaned.replace(",", "."))
    if not math.isfinite(value):
        raise InvalidResponse("not a finite number")
    return value


# --- the type ------------------------------------------------------------------------------------


class ItemType:
    """One kind of question. A subclass fills in what its kind does differently.

    The defaults suit an item whose answer is one typed value under ``answer``; choice and
    matching types override decoding and presentation. Format methods raise
    :class:`Unsupported` when the format has no such question.
    """

    name: ClassVar[str]
    template: ClassVar[str]  # the partial beside the module, e.g. "choice.html"
    # Which list of the item's text the draw shuffles, and which it shows as prompts.
    shuffles_options: ClassVar[bool] = False
    # GIFT: the answer block decides the type; types are asked in this order (None: never).
    gift_order: ClassVar[int | None] = None
    # Moodle XML: the ``<question type="...">`` this type reads and writes.
    moodle_qtype: ClassVar[str | None] = None
    # QTI 3.0: the interaction this type reads.
    qti_interaction: ClassVar[str | None] = None

    # -- the item as authored

    def validate(self, item: ItemSpec) -> list[LocatedMessage]:
        raise NotImplementedError

    # -- answers

    def decode(self, raw: RawAnswer, served: Served, lang: str) -> dict[str, list[str]]:
        """Posted fields, which name served positions, as authored ids; refuses what was never
        offered. The default passes typed values through."""
        return {name: list(values) for name, values in raw.items()}

    def parse(self, item: ItemSpec, raw: RawAnswer) -> Response:
        """Decoded fields -> the response to store; None when nothing was answered."""
        raise NotImplementedError

    def score(self, item: ItemSpec, response: Response, lang: str) -> float:
        """The mark of a response, 0..1."""
        raise NotImplementedError

    def key_response(self, item: ItemSpec, lang: str) -> Response:
        """The response that the key gives full marks (for tests and the review of answers)."""
        return item.key

    def random_guess_score(self, item: ItemSpec) -> float | None:
        """The fraction 0..1 a candidate is expected to score by answering at random, as
        Moodle's question types estimate it for the statistics report (their
        ``get_random_guess_score``); None where it is not estimated."""
        return None

    def chosen_options(self, response: Response) -> list[str]:
        """The authored options a response picked, for the distractor analysis of statistics."""
        return []

    # -- pages

    def present(
        self, item: ItemSpec, lang: str, served: Served, response: Response
    ) -> PresentedItem:
        """The item in ``lang`` (else its first language) in served order, with the saved answer."""
        return PresentedItem(
            type=item.type,
            template=self.partial,
            lang=language_of(item, lang),
            stem=text_in(item, lang).stem,
            value=self.value_text(response),
        )

    def value_text(self, response: Response) -> str | None:
        """A typed answer shown back in its field."""
        return None if response is None else str(response)

    def describe(self, item: ItemSpec, lang: str) -> tuple[str, ...]:
        """The right answer in words, one part per line, for the review of answers."""
        raise NotImplementedError

    @property
    def partial(self) -> str:
        return f"itemtypes/{self.template}"

    # -- formats (pure builders; the file structure around them lives in elearn.content)

    def gift_claims(self, answer_text: str) -> bool:
        """Whether a GIFT answer block (between its braces) is a question of this type."""
        return False

    def read_gift(self, block: GiftBlock) -> tuple[Any, dict[str, Any]]:
        """Key and text fields of a GIFT question of this type."""
        raise Unsupported(f"GIFT has no {self.name} question")

    def write_gift(self, item: ItemSpec, lang: str) -> list[str]:
        """The answer lines inside the braces of a GIFT question."""
        raise Unsupported(f"GIFT has no {self.name} question type")

    def moodle_claims(self, question: MoodleQuestion) -> bool:
        """Whether a question of :attr:`moodle_qtype` is one of this type (single vs multiple)."""
        return True

    def read_moodle(self, question: MoodleQuestion) -> tuple[Any, dict[str, Any]]:
        """Key and text fields of a Moodle XML question of this type."""
        raise Unsupported(f"Moodle XML has no {self.name} question")

    def write_moodle(self, question: ET.Element, item: ItemSpec, lang: str) -> None:
        """The type's own elements of a ``<question>`` (the common head is written already)."""
        raise Unsupported(f"Moodle XML has no {self.name} question type")

    def write_qti(self, parts: QtiItemParts, item: ItemSpec, lang: str) -> None:
        """Response declaration, interaction and response processing of a QTI 3.0 item."""
        raise Unsupported(f"QTI 3.0 has no {self.name} interaction")

    def qti_claims(self, read: QtiRead) -> bool:
        """Whether a QTI item with :attr:`qti_interaction` is one of this type."""
        return True

    def read_qti(self, read: QtiRead) -> tuple[Any, dict[str, Any]]:
        """Key and text fields of a QTI 3.0 item of this type."""
        raise Unsupported(f"QTI 3.0 items are not read as {self.name}")


# --- the registry --------------------------------------------------------------------------------

_REGISTRY: dict[str, ItemType] = {}


def register(cls: type[ItemType]) -> type[ItemType]:
    """Class decorator: make the type known by its name (twice is a programming error)."""
    if cls.name in _REGISTRY:
        raise ValueError(f"item type '{cls.name}' is registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def get_item_type(name: str) -> ItemType:
    """The type named ``name``; an unknown name is a KeyError naming the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown item type '{name}' (known: {known})") from None


def item_type_names() -> list[str]:
    return sorted(_REGISTRY)


def item_types() -> list[ItemType]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def first_claiming(
    claims: Callable[[ItemType], bool], order: Callable[[ItemType], int | None]
) -> ItemType | None:
    """The first type, in ``order`` (None: never asked), whose ``claims`` is true."""
    asked = sorted(
        (t for t in _REGISTRY.values() if order(t) is not None), key=lambda t: order(t) or 0
    )
    return next((t for t in asked if claims(t)), None)
