"""``true_false``: a statement to judge; ``key: true`` or ``key: false``.

The page offers "True" and "False" in the learner's language (the partial translates them).
GIFT ``{TRUE}``/``{F}``, Moodle ``truefalse``, QTI a ``qti-choice-interaction`` whose two choices
are ``true`` and ``false``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes.base import (
    InvalidResponse,
    ItemType,
    RawAnswer,
    Response,
    forbid,
    one,
    register,
    text_in,
)
from elearn.domain.itemtypes.formats import (
    GiftBlock,
    MoodleQuestion,
    QtiItemParts,
    QtiRead,
    Skip,
    el,
    moodle_answer,
    same,
)
from elearn.domain.problems import LocatedMessage

_GIFT = {"T": True, "TRUE": True, "F": False, "FALSE": False}
# Labels of the two choices in an exported QTI item, in the item's language.
QTI_LABELS = {"nb": ("Sant", "Usant"), "da": ("Sandt", "Falsk"), "en": ("True", "False")}


@register
class TrueFalse(ItemType):
    name = "true_false"
    template = "true_false.html"
    gift_order = 40
    moodle_qtype = "truefalse"
    qti_interaction = "qti-choice-interaction"

    def validate(self, item: ItemSpec) -> list[LocatedMessage]:
        out = forbid(item, "options", "prompts", "accepted")
        if not isinstance(item.key, bool):
            out.append(LocatedMessage(("key",), "the key must be true or false"))
        return out

    def parse(self, item: ItemSpec, raw: RawAnswer) -> Response:
        value = one(raw)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise InvalidResponse("answer true or false")
        return value == "true"

    def score(self, item: ItemSpec, response: Response, lang: str) -> float:
        return 1.0 if response is not None and response is item.key else 0.0

    def value_text(self, response: Response) -> str | None:
        return None if response is None else ("true" if response else "false")

    def random_guess_score(self, item: ItemSpec) -> float | None:
        """One of two, as Moodle's truefalse."""
        return 0.5

    def describe(self, item: ItemSpec, lang: str) -> tuple[str, ...]:
        return ("true" if item.key else "false",)

    # -- GIFT

    def gift_claims(self, answer_text: str) -> bool:
        return answer_text.split("#", 1)[0].strip() in _GIFT

    def read_gift(self, block: GiftBlock) -> tuple[Any, dict[str, Any]]:
        return _GIFT[block.answer_text.split("#", 1)[0].strip()], {}

    def write_gift(self, item: ItemSpec, lang: str) -> list[str]:
        return ["TRUE" if item.key else "FALSE"]

    # -- Moodle XML

    def read_moodle(self, question: MoodleQuestion) -> tuple[Any, dict[str, Any]]:
        credit = {a.plain().lower(): a.fraction() for a in question.children("answer")}
        if set(credit) != {"true", "false"}:
            raise Skip("the answers of a true/false question must be 'true' and 'false'")
        right = [value for value in ("true", "false") if same(credit[value], 1.0)]
        if len(right) != 1:
            raise Skip("exactly one of true and false must get full credit")
        return right[0] == "true", {}

    def write_moodle(self, question: ET.Element, item: ItemSpec, lang: str) -> None:
        moodle_answer(question, 1.0 if item.key else 0.0, "true", "moodle_auto_format")
        moodle_answer(question, 0.0 if item.key else 1.0, "false", "moodle_auto_format")

    # -- QTI

    def write_qti(self, parts: QtiItemParts, item: ItemSpec, lang: str) -> None:
        interaction = el(
            parts.body,
            "qti-choice-interaction",
            response_identifier="RESPONSE",
            max_choices="1",
            shuffle="false",
        )
        parts.prompt(interaction, text_in(item, lang).stem)
        true_label, false_label = QTI_LABELS.get(lang, QTI_LABELS["en"])
        el(interaction, "qti-simple-choice", true_label, identifier="true")
        el(interaction, "qti-simple-choice", false_label, identifier="false")
        parts.declare("single", "identifier", "true" if item.key else "false")
        parts.score_match_correct()

    def qti_claims(self, read: QtiRead) -> bool:
        return read.cardinality == "single" and set(read.choices("qti-simple-choice")) == {
            "true",
            "false",
        }

    def read_qti(self, read: QtiRead) -> tuple[Any, dict[str, Any]]:
        if read.scoring != "match_correct" or read.correct not in (["true"], ["false"]):
            raise Skip("a true/false item must score by its one correct response")
        return read.correct == ["true"], {}
