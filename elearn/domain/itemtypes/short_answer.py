"""``short_answer``: a word or two to type; keyed per language in ``accepted`` with credits.

Answers are compared as people mean them: case, spacing, Unicode forms and end punctuation do
not count. GIFT ``{=%100%a =%50%b}``, Moodle ``shortanswer`` (a zero-credit answer only carries
feedback), QTI ``qti-text-entry-interaction`` of base type string with a case-insensitive mapping.
"""

from __future__ import annotations

import re
import unicodedata
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
    exact,
    gift_plain,
    inline,
    moodle_answer,
    moodle_simple,
    percent,
    percent_text,
)
from elearn.domain.problems import LocatedMessage
from elearn.domain.text import TextRefused, clean_text

MAX_LENGTH = 500
_FULL = 1e-9
_WILDCARD = re.compile(r"(?<!\\)\*")
_LEADING = (
    "a catch-all answer ('*') before the credited answers would take every response"
    " (Moodle takes the first answer that matches)"
)
_CREDITED = "a catch-all answer ('*') with credit would score any response: not supported"
_AFTER_CATCH_ALL = "an answer with credit after the catch-all ('*') could never match"
_CATCH_ALL = "the zero-credit catch-all answer ('*') was left out: other answers score 0 anyway"
_CATCH_ALL_FEEDBACK = "the catch-all answer's feedback became the question's general feedback"
_ZERO_CREDIT = "answers worth 0 % were left out: any answer not accepted scores 0 anyway"


def normalise_text(text: str) -> str:
    """Compare short answers as people mean them: case, spacing, accents form and end stops."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" .,;:!?\"'«»")


@register
class ShortAnswer(ItemType):
    name = "short_answer"
    template = "short_answer.html"
    gift_order = 90  # anything GIFT reads that is no other type
    moodle_qtype = "shortanswer"
    qti_interaction = "qti-text-entry-interaction"

    def validate(self, item: ItemSpec) -> list[LocatedMessage]:
        out = forbid(item, "options", "prompts")
        if item.key is not None:
            out.append(
                LocatedMessage(("key",), "short answers are keyed per language in 'accepted'")
            )
        for lang, text in item.text.items():
            accepted = text.accepted or []
            if not any(a.credit == 1.0 for a in accepted):
                out.append(
                    LocatedMessage(
                        ("text", lang, "accepted"), "needs an accepted answer with credit 1"
                    )
                )
        return out

    def parse(self, item: ItemSpec, raw: RawAnswer) -> Response:
        value = one(raw)
        if value is None or not value.strip():
            return None
        if len(value) > MAX_LENGTH:
            raise InvalidResponse("the answer is too long")
        try:  # stored and shown to certifiers: no NUL (PostgreSQL refuses it), no bidi override
            return clean_text(value)
        except TextRefused as refused:
            raise InvalidResponse(f"the answer {refused}") from None

    def score(self, item: ItemSpec, response: Response, lang: str) -> float:
        if response is None:
            return 0.0
        given = normalise_text(response)
        accepted = text_in(item, lang).accepted or []
        return max((a.credit for a in accepted if normalise_text(a.answer) == given), default=0.0)

    def key_response(self, item: ItemSpec, lang: str) -> Response:
        return next(a.answer for a in text_in(item, lang).accepted or [] if a.credit == 1.0)

    def random_guess_score(self, item: ItemSpec) -> float | None:
        """0, as Moodle's shortanswer: it gives the credit of a catch-all answer ("*"), which
        elearn does not accept (wildcards are refused), so a guessed text scores nothing."""
        return 0.0

    def describe(self, item: ItemSpec, lang: str) -> tuple[str, ...]:
        return tuple(a.answer for a in text_in(item, lang).accepted or [] if a.credit == 1.0)

    # -- GIFT

    def gift_claims(self, answer_text: str) -> bool:
        return True

    def read_gift(self, block: GiftBlock) -> tuple[Any, dict[str, Any]]:
        answers = block.answers("=", weights=True)
        bodies = [a.body.split("#", 1)[0] for a in answers]
        if not any(block.plain(b) for b in bodies):
            block.syntax_error(block.lo, "the answer block holds no answer")
        accepted: list[dict[str, Any]] = []
        fields: dict[str, Any] = {}
        caught = False
        for answer, body in zip(answers, bodies, strict=True):
            credit = 1.0 if answer.weight is None else answer.weight
            if block.restore(body).strip() == "*":
                if credit != 0 or not accepted:
                    raise Skip(_LEADING if credit == 0 else _CREDITED)
                caught = True
                block.note(_CATCH_ALL)
                feedback = answer.body.split("#", 1)[1] if "#" in answer.body else ""
                if block.restore(feedback).strip():
                    fmt, raw = block.split_format(feedback.strip(), block.fmt)
                    fields["feedback"] = block.to_text(raw, fmt)
                    block.feedback_used(answer.offset)
                    block.note(_CATCH_ALL_FEEDBACK)
                continue
            if _WILDCARD.search(body):
                raise Skip("wildcard answers ('*') are not supported")
            value = block.plain(body.replace("\\*", "*"))
            if not value:
                continue  # Moodle drops an empty answer too
            if not (0 <= credit <= 1 or abs(credit - 1) <= _FULL):
                raise Skip(f"a credit of {percent_text(credit)} is not within 0..100 %")
            if credit > 0:
                if caught:  # Moodle takes the first answer that matches: the catch-all
                    raise Skip(_AFTER_CATCH_ALL)
                full = abs(credit - 1) <= _FULL
                accepted.append({"answer": value, "credit": 1.0 if full else credit})
            else:
                block.note(_ZERO_CREDIT)
        if not any(a["credit"] == 1.0 for a in accepted):
            raise Skip("no answer gets full credit")
        return None, {"accepted": accepted, **fields}

    def write_gift(self, item: ItemSpec, lang: str) -> list[str]:
        accepted = text_in(item, lang).accepted or []
        return [f"=%{percent(a.credit)}%{gift_plain(a.answer)}" for a in accepted]

    # -- Moodle XML

    def read_moodle(self, question: MoodleQuestion) -> tuple[Any, dict[str, Any]]:
        accepted: list[dict[str, Any]] = []
        fields: dict[str, Any] = {}
        caught = False
        for answer in question.children("answer"):
            credit = answer.fraction()
            body = answer.plain()
            if body == "*":
                if credit != 0 or not accepted:
                    raise Skip(_LEADING if credit == 0 else _CREDITED)
                caught = True
                question.note(_CATCH_ALL)
                feedback = answer.child("feedback")
                text = feedback.rich() if feedback is not None else ""
                if text:
                    fields["feedback"] = text
                    question.note(_CATCH_ALL_FEEDBACK)
                continue
            if credit <= 0:
                if body:
                    question.note(_ZERO_CREDIT)
                continue
            if caught:
                raise Skip(_AFTER_CATCH_ALL)
            if not body:
                raise Skip("an accepted answer has no text")
            if _WILDCARD.search(body):
                raise Skip("wildcard answers ('*') are not supported")
            accepted.append({"answer": body.replace("\\*", "*"), "credit": exact(credit)})
        if not any(a["credit"] == 1.0 for a in accepted):
            raise Skip("no answer gets full credit")
        return None, {"accepted": accepted, **fields}

    def write_moodle(self, question: ET.Element, item: ItemSpec, lang: str) -> None:
        moodle_simple(question, "usecase", "0")
        for accepted in text_in(item, lang).accepted or []:
            value = accepted.answer.replace("*", "\\*")
            moodle_answer(question, accepted.credit, value, "moodle_auto_format")

    # -- QTI

    def write_qti(self, parts: QtiItemParts, item: ItemSpec, lang: str) -> None:
        text = text_in(item, lang)
        accepted = text.accepted or []
        parts.declare("single", "string", next(a.answer for a in accepted if a.credit == 1.0))
        parts.mapping(((a.answer, a.credit) for a in accepted), case_sensitive="false")
        block = el(parts.body, "div")
        inline(el(block, "p"), text.stem)
        entry = el(block, "p")
        el(
            entry,
            "qti-text-entry-interaction",
            response_identifier="RESPONSE",
            expected_length="30",
        )
        parts.score_mapped()

    def qti_claims(self, read: QtiRead) -> bool:
        return read.base_type == "string"

    def read_qti(self, read: QtiRead) -> tuple[Any, dict[str, Any]]:
        if read.scoring == "map_response" and read.mapping:
            answers = [(k, v) for k, v in read.mapping.items() if v > 0]
        elif read.scoring == "match_correct" and read.correct:
            answers = [(read.correct[0], 1.0)]
        else:
            raise Skip("a text-entry item must score by a mapping or its correct response")
        if not any(abs(v - 1) < 1e-9 for _, v in answers):
            raise Skip("no answer gets full credit")
        return None, {"accepted": [{"answer": k, "credit": exact(v)} for k, v in answers]}
