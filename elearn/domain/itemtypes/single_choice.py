"""``single_choice``: one right option among several; right scores 1, anything else 0.

Authored as ``options: {a: ..., b: ...}`` per language and ``key: b``. Options are shuffled when
served (``pinned`` ones, such as "none of these", keep their place). GIFT ``{=right ~wrong}``,
Moodle ``multichoice`` with ``<single>true``, QTI ``qti-choice-interaction max-choices="1"``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes.base import (
    InvalidResponse,
    RawAnswer,
    Response,
    one,
    option_ids,
    register,
    text_in,
)
from elearn.domain.itemtypes.choice import (
    ChoiceType,
    read_gift_choices,
    read_moodle_choices,
    text_fields,
)
from elearn.domain.itemtypes.formats import (
    GiftBlock,
    MoodleQuestion,
    QtiItemParts,
    QtiRead,
    Skip,
    gift_choice,
    gift_html,
    qti_identifier,
    same,
)
from elearn.domain.problems import LocatedMessage

_FULL = 1e-9


@register
class SingleChoice(ChoiceType):
    name = "single_choice"
    gift_order = 20

    def validate(self, item: ItemSpec) -> list[LocatedMessage]:
        options, out = self.validate_options(item)
        if not isinstance(item.key, str):
            out.append(LocatedMessage(("key",), "the key must be one option id"))
        elif options and item.key not in options:
            out.append(LocatedMessage(("key",), f"the key '{item.key}' is not an option"))
        return out

    def parse(self, item: ItemSpec, raw: RawAnswer) -> Response:
        value = one(raw)
        if value is not None and value not in option_ids(item):
            raise InvalidResponse("not an option of this question")
        return value

    def score(self, item: ItemSpec, response: Response, lang: str) -> float:
        return 1.0 if response is not None and response == item.key else 0.0

    def picked(self, response: Response) -> frozenset[str]:
        return frozenset([response]) if isinstance(response, str) else frozenset()

    def random_guess_score(self, item: ItemSpec) -> float | None:
        """Moodle's single-answer multichoice: the mean fraction of its options, 1/n here."""
        fractions = self.fractions(item)
        return sum(fractions.values()) / len(fractions) if fractions else None

    def describe(self, item: ItemSpec, lang: str) -> tuple[str, ...]:
        return ((text_in(item, lang).options or {})[item.key],)

    def fractions(self, item: ItemSpec) -> dict[str, float]:
        return {o: (1.0 if o == item.key else 0.0) for o in option_ids(item)}

    # -- GIFT

    def gift_claims(self, answer_text: str) -> bool:
        return "~" in answer_text and "=" in answer_text  # Moodle: one answer to choose

    def read_gift(self, block: GiftBlock) -> tuple[Any, dict[str, Any]]:
        options, weights = read_gift_choices(block)
        right = [o for o, w in weights.items() if abs(w - 1) <= _FULL]
        if len(right) != 1:
            raise Skip(
                "more than one answer gets full credit, but elearn's single_choice has one key"
                if right
                else "no answer gets full credit"
            )
        if any(w for o, w in weights.items() if o != right[0]):
            raise Skip(
                "partial credit or a penalty on another answer: elearn's single_choice scores"
                " only right (1) or wrong (0)"
            )
        return right[0], text_fields(options)

    def write_gift(self, item: ItemSpec, lang: str) -> list[str]:
        return [
            gift_choice("=" if oid == item.key else "~", gift_html(body))
            for oid, body in (text_in(item, lang).options or {}).items()
        ]

    # -- Moodle XML

    def read_moodle(self, question: MoodleQuestion) -> tuple[Any, dict[str, Any]]:
        options, fractions = read_moodle_choices(question)
        ids = list(options)
        full = [i for i, f in enumerate(fractions) if same(f, 1.0)]
        if not full:
            raise Skip("no answer gets full credit")
        if len(full) > 1:
            raise Skip("more than one answer gets full credit in a single-answer question")
        if any(not same(f, 0.0) and not same(f, 1.0) for f in fractions):
            raise Skip("partial or negative credit in a single-answer question is not supported")
        return ids[full[0]], text_fields(options)

    def write_moodle(self, question: ET.Element, item: ItemSpec, lang: str) -> None:
        self.write_choices(question, item, lang)

    # -- QTI

    def qti_scoring(self, parts: QtiItemParts, item: ItemSpec) -> None:
        parts.declare("single", "identifier", qti_identifier(item.key))
        parts.score_match_correct()

    def qti_claims(self, read: QtiRead) -> bool:
        return read.cardinality == "single" and set(read.choices("qti-simple-choice")) != {
            "true",
            "false",
        }

    def read_qti(self, read: QtiRead) -> tuple[Any, dict[str, Any]]:
        options = read.choices("qti-simple-choice")
        if read.scoring != "match_correct" or len(read.correct) != 1:
            raise Skip("a single-choice item must score by its one correct response")
        if read.correct[0] not in options:
            raise Skip("the correct response is not one of the choices")
        return read.correct[0], text_fields(options)
