"""What the two choice types share: options served in a shuffled order, ticked by position.

``single_choice`` and ``multiple_response`` differ in how many options may be ticked and how
they score; their page partial (``choice.html``), decoding and reading of foreign formats are
common and live here. This module registers no type of its own.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes.base import (
    ItemType,
    PresentedItem,
    RawAnswer,
    Response,
    Served,
    at_position,
    forbid,
    language_of,
    pinned_are_options,
    same_ids,
    served_choices,
    text_in,
)
from elearn.domain.itemtypes.formats import (
    GiftBlock,
    MoodleQuestion,
    QtiItemParts,
    Skip,
    as_html,
    el,
    letter_id,
    moodle_answer,
    moodle_simple,
    qti_identifier,
)
from elearn.domain.problems import LocatedMessage


class ChoiceType(ItemType):
    """Options the learner ticks; the draw shuffles them (pinned ones keep their place)."""

    template = "choice.html"
    shuffles_options = True
    moodle_qtype = "multichoice"
    qti_interaction = "qti-choice-interaction"
    multiple = False

    def validate_options(self, item: ItemSpec) -> tuple[list[str], list[LocatedMessage]]:
        options, out = same_ids(item, "options", 2)
        out += forbid(item, "prompts", "accepted") + pinned_are_options(item, options)
        return options, out

    def decode(self, raw: RawAnswer, served: Served, lang: str) -> dict[str, list[str]]:
        return {"answer": [at_position(v, served.options) for v in raw.get("answer", ()) if v]}

    def picked(self, response: Response) -> frozenset[str]:
        raise NotImplementedError

    def present(
        self, item: ItemSpec, lang: str, served: Served, response: Response
    ) -> PresentedItem:
        return PresentedItem(
            type=item.type,
            template=self.partial,
            lang=language_of(item, lang),
            stem=text_in(item, lang).stem,
            options=served_choices(
                text_in(item, lang).options, served.options, self.picked(response)
            ),
            multiple=self.multiple,
        )

    def chosen_options(self, response: Response) -> list[str]:
        if isinstance(response, list):
            return list(response)
        return [response] if isinstance(response, str) else []

    # -- formats

    def write_choices(self, question: ET.Element, item: ItemSpec, lang: str) -> None:
        """Moodle's ``multichoice``: one question type for both, told apart by ``<single>``."""
        moodle_simple(question, "single", "false" if self.multiple else "true")
        moodle_simple(question, "shuffleanswers", "false" if item.pinned else "true")
        moodle_simple(question, "answernumbering", "abc")
        fractions = self.fractions(item)
        for oid, body in (text_in(item, lang).options or {}).items():
            moodle_answer(question, fractions.get(oid, 0.0), as_html(body), "html")

    def fractions(self, item: ItemSpec) -> dict[str, float]:
        """Each option's share of the mark, as Moodle grades it."""
        raise NotImplementedError

    def moodle_claims(self, question: MoodleQuestion) -> bool:
        return question.flag("single", default=True) is not self.multiple

    def write_qti(self, parts: QtiItemParts, item: ItemSpec, lang: str) -> None:
        text = text_in(item, lang)
        interaction = el(
            parts.body,
            "qti-choice-interaction",
            response_identifier="RESPONSE",
            max_choices="0" if self.multiple else "1",
            shuffle="true",
        )
        parts.prompt(interaction, text.stem)
        for oid, option in (text.options or {}).items():
            attrs = {"fixed": "true"} if oid in item.pinned else {}
            el(interaction, "qti-simple-choice", option, identifier=qti_identifier(oid), **attrs)
        self.qti_scoring(parts, item)

    def qti_scoring(self, parts: QtiItemParts, item: ItemSpec) -> None:
        raise NotImplementedError


def read_gift_choices(block: GiftBlock) -> tuple[dict[str, str], dict[str, float]]:
    """The options of a GIFT choice question and each one's weight (``=`` 100 %, ``~`` 0 %)."""
    lo = block.lo
    answers = block.answers("~=", weights=True)
    if len(answers) < 2:
        block.syntax_error(lo, "a multiple-choice question needs at least 2 answers")
    bodies = [a.body.split("#", 1)[0].strip() for a in answers]
    if not any(bodies):
        block.syntax_error(lo, "the answer block holds no answer")
    options: dict[str, str] = {}
    weights: dict[str, float] = {}
    for answer, body in zip(answers, bodies, strict=True):
        weight = answer.weight
        if weight is None:
            weight = 1.0 if answer.marker == "=" else 0.0
        if not body:
            if weight:
                raise Skip("an answer that carries credit has no text")
            continue  # Moodle drops an empty answer too
        option_fmt, option_body = block.split_format(body, block.fmt)
        option = block.to_text(option_body, option_fmt)
        if not option:
            raise Skip("an answer has no text once its HTML is reduced to plain text")
        option_id = letter_id(len(options))
        options[option_id] = option
        weights[option_id] = weight
    if len(options) < 2:
        raise Skip("a choice question needs at least 2 answers with text")
    return options, weights


def read_moodle_choices(question: MoodleQuestion) -> tuple[dict[str, str], list[float]]:
    """The options of a Moodle ``multichoice`` question and each one's fraction, in order."""
    answers = question.children("answer")
    if len(answers) < 2:
        raise Skip(f"needs at least 2 answers, found {len(answers)}")
    options: dict[str, str] = {}
    fractions: list[float] = []
    for i, answer in enumerate(answers):
        body = answer.rich()
        if not body:
            raise Skip("an answer has no text")
        options[chr(ord("a") + i) if i < 26 else f"o{i + 1}"] = body
        fractions.append(answer.fraction())
    return options, fractions


def text_fields(options: dict[str, str]) -> dict[str, Any]:
    return {"options": options}
