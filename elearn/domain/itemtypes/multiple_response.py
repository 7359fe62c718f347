"""``multiple_response``: tick every right option; each option carries a share of the mark.

Authored with ``key: [a, c]`` (the right options share the mark equally and each wrong option
ticked costs one share, so that ticking every box does not earn it) or ``key: {a: 0.5, c: 0.5,
d: -0.5}`` (explicit fractions, the positive ones adding up to 1). The mark is bounded to 0..1.
GIFT ``{~%50%a ~%-50%b}``, Moodle ``multichoice`` with ``<single>false``, QTI
``qti-choice-interaction`` with a mapping.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes.base import (
    InvalidResponse,
    RawAnswer,
    Response,
    clamp,
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
    exact,
    gift_html,
    percent,
    percent_text,
    qti_identifier,
    same,
)
from elearn.domain.problems import LocatedMessage

_FULL = 1e-9


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


@register
class MultipleResponse(ChoiceType):
    name = "multiple_response"
    gift_order = 21
    multiple = True

    def validate(self, item: ItemSpec) -> list[LocatedMessage]:
        options, out = self.validate_options(item)
        key = item.key
        if isinstance(key, list) and all(isinstance(k, str) for k in key):
            given = {k: 1.0 for k in key}
        elif isinstance(key, dict) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in key.values()
        ):
            given = {str(k): float(v) for k, v in key.items()}
        else:
            out.append(
                LocatedMessage(
                    ("key",), "the key must be a list of option ids or a map id -> fraction"
                )
            )
            return out
        for option_id in given:
            if options and option_id not in options:
                out.append(LocatedMessage(("key",), f"the key '{option_id}' is not an option"))
        positive = sum(w for w in given.values() if w > 0)
        if positive == 0:
            out.append(LocatedMessage(("key",), "the key gives no option positive credit"))
        elif isinstance(key, dict) and abs(positive - 1) > 1e-6:
            out.append(LocatedMessage(("key",), "the positive fractions must add up to 1"))
        if any(abs(w) > 1 for w in given.values()):
            out.append(LocatedMessage(("key",), "a fraction must lie within -1..1"))
        return out

    def parse(self, item: ItemSpec, raw: RawAnswer) -> Response:
        values = [v for v in raw.get("answer", ()) if v != ""]
        offered = option_ids(item)
        if any(v not in offered for v in values) or len(set(values)) != len(values):
            raise InvalidResponse("not an option of this question")
        return sorted(values, key=offered.index) or None

    def score(self, item: ItemSpec, response: Response, lang: str) -> float:
        if not response:
            return 0.0
        w = weights(item)
        return clamp(sum(w.get(o, 0.0) for o in response))

    def key_response(self, item: ItemSpec, lang: str) -> Response:
        return [o for o, w in weights(item).items() if w > 0]

    def random_guess_score(self, item: ItemSpec) -> float | None:
        """None, as Moodle's multiple-answer multichoice: a guess may tick any number of
        options, so there is no one chance to give."""
        return None

    def picked(self, response: Response) -> frozenset[str]:
        return frozenset(response) if isinstance(response, list) else frozenset()

    def describe(self, item: ItemSpec, lang: str) -> tuple[str, ...]:
        options = text_in(item, lang).options or {}
        right = {o for o, w in weights(item).items() if w > 0}
        return tuple(options[o] for o in options if o in right)

    def fractions(self, item: ItemSpec) -> dict[str, float]:
        return weights(item)

    # -- GIFT

    def gift_claims(self, answer_text: str) -> bool:
        return "~" in answer_text  # without "=": Moodle offers checkboxes

    def read_gift(self, block: GiftBlock) -> tuple[Any, dict[str, Any]]:
        options, given = read_gift_choices(block)
        if any(abs(w) > 1 + _FULL for w in given.values()):
            raise Skip("a weight lies outside -100 %..100 %")
        positive = sum(w for w in given.values() if w > 0)
        if positive <= 0:
            raise Skip("no answer carries a positive weight")
        if abs(positive - 1) > 0.0025:
            raise Skip(
                f"the positive weights add up to {percent_text(positive)}, not 100 %"
                " (elearn requires 100 %)"
            )
        if abs(positive - 1) > 1e-9:  # 33.3 % three times: thirds, rounded
            given = {o: round(w / positive, 7) if w > 0 else w for o, w in given.items()}
            block.note(
                f"the positive weights added up to {percent_text(positive)}: they were scaled"
                " to add up to 100 %"
            )
        key = {o: max(-1.0, min(1.0, w)) for o, w in given.items() if w}
        return key, text_fields(options)

    def write_gift(self, item: ItemSpec, lang: str) -> list[str]:
        w = weights(item)
        return [
            f"~%{percent(w.get(oid, 0.0))}%{gift_html(body)}"
            for oid, body in (text_in(item, lang).options or {}).items()
        ]

    # -- Moodle XML

    def read_moodle(self, question: MoodleQuestion) -> tuple[Any, dict[str, Any]]:
        options, fractions = read_moodle_choices(question)
        ids = list(options)
        given = {ids[i]: f for i, f in enumerate(fractions) if not same(f, 0.0)}
        positive = sum(w for w in given.values() if w > 0)
        if positive <= 0:
            raise Skip("no answer gets credit")
        if abs(positive - 1) > 0.01:  # Moodle's own tolerance; within it, shares are rescaled
            raise Skip(f"the right answers' fractions add up to {positive * 100:g} %, not 100 %")
        if not same(positive, 1.0):
            given = {k: (w / positive if w > 0 else w) for k, w in given.items()}
            if abs(positive - 1) > 1e-6:  # more than the rounding of Moodle's grade options
                question.note(
                    f"the right answers' fractions added up to {positive * 100:g} %: they were"
                    " scaled to add up to 100 %"
                )
        return {k: exact(w) for k, w in given.items()}, text_fields(options)

    def write_moodle(self, question: ET.Element, item: ItemSpec, lang: str) -> None:
        self.write_choices(question, item, lang)

    # -- QTI

    def qti_scoring(self, parts: QtiItemParts, item: ItemSpec) -> None:
        w = weights(item)
        right = (qti_identifier(o) for o in option_ids(item) if w.get(o, 0) > 0)
        parts.declare("multiple", "identifier", *right)
        parts.mapping((qti_identifier(o), f) for o, f in w.items() if f)
        parts.score_mapped()

    def qti_claims(self, read: QtiRead) -> bool:
        return read.cardinality == "multiple"

    def read_qti(self, read: QtiRead) -> tuple[Any, dict[str, Any]]:
        options = read.choices("qti-simple-choice")
        if read.scoring != "map_response" or not read.mapping:
            # All or nothing over several choices (match_correct) scores differently from
            # elearn's shares: not taken rather than changed.
            raise Skip("a multiple-response item must score each choice by a mapping")
        given = {k: v for k, v in read.mapping.items() if k in options and v}
        if abs(sum(v for v in given.values() if v > 0) - 1) > 1e-6:
            raise Skip("the right choices' mapped values do not add up to 1")
        return {k: exact(v) for k, v in given.items()}, text_fields(options)
