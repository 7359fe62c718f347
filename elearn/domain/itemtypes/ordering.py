"""``ordering``: put the steps in order (a procurement's, a programme's phases, due diligence).

Authored as ``options: {a: ..., b: ...}`` per language (the steps, in any order) and
``key: {order: [b, a, c], grading: absolute_position}``. The steps are shuffled when served; the
learner gives each step its place, with a list box per step, so that the question works with a
keyboard and without drag and drop (a script adds "move up/down" buttons where it runs).

``grading`` is one of Moodle's ordering gradings, with Moodle's semantics
(``question/type/ordering/question.php``):

- ``all_or_nothing``: 1 when every step is in place, else 0;
- ``absolute_position``: the share of steps in their own place;
- ``relative_next_exclude_last`` / ``relative_next_include_last``: the share of steps followed by
  the step that follows them in the key (the last step checked as last, or not checked);
- ``relative_one_previous_and_next`` / ``relative_all_previous_and_next``: the share of the
  key's neighbours (or of all steps before and after) that are on the same side in the answer;
- ``longest_ordered_subset`` / ``longest_contiguous_subset``: the longest run of steps in the
  key's order (not necessarily next to each other, or next to each other) over the number of
  steps; a run of one counts nothing;
- ``relative_to_correct``: per step, n − 1 minus its distance from its place, over n(n − 1).

Moodle XML ``ordering`` (read and written, all steps shown); QTI 3.0 ``qti-order-interaction``
(the gradings its response processing can express); GIFT has no ordering question.
"""

from __future__ import annotations

import functools
import itertools
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from elearn.domain.content import ItemSpec
from elearn.domain.errors import N_
from elearn.domain.itemtypes.base import (
    IncompleteResponse,
    InvalidResponse,
    ItemType,
    PresentedItem,
    RawAnswer,
    Response,
    Served,
    Unsupported,
    at_position,
    forbid,
    language_of,
    no_pinned,
    option_ids,
    positions,
    register,
    same_ids,
    served_choices,
    text_in,
)
from elearn.domain.itemtypes.formats import (
    GiftBlock,
    MoodleQuestion,
    QtiItemParts,
    QtiRead,
    Skip,
    as_html,
    base_value,
    el,
    moodle_simple,
    number,
    qti_identifier,
    set_outcome,
)
from elearn.domain.numbers import whole_number
from elearn.domain.problems import LocatedMessage

GRADINGS = (
    "all_or_nothing",
    "absolute_position",
    "relative_next_exclude_last",
    "relative_next_include_last",
    "relative_one_previous_and_next",
    "relative_all_previous_and_next",
    "longest_ordered_subset",
    "longest_contiguous_subset",
    "relative_to_correct",
)
DEFAULT_GRADING = "absolute_position"
MIN_STEPS = 2  # as Moodle's ordering question
# What Moodle XML's <gradingtype> may say, and the grading it means (Moodle's own aliases).
_MOODLE_GRADINGS = {
    "ALL_OR_NOTHING": "all_or_nothing",
    "ABS": "absolute_position",
    "ABSOLUTE": "absolute_position",
    "ABSOLUTE_POSITION": "absolute_position",
    "REL": "relative_next_exclude_last",
    "RELATIVE": "relative_next_exclude_last",
    "RELATIVE_NEXT_EXCLUDE_LAST": "relative_next_exclude_last",
    "RELATIVE_NEXT_INCLUDE_LAST": "relative_next_include_last",
    "RELATIVE_ONE_PREVIOUS_AND_NEXT": "relative_one_previous_and_next",
    "RELATIVE_ALL_PREVIOUS_AND_NEXT": "relative_all_previous_and_next",
    "LONGEST_ORDERED_SUBSET": "longest_ordered_subset",
    "LONGEST_CONTIGUOUS_SUBSET": "longest_contiguous_subset",
    "RELATIVE_TO_CORRECT": "relative_to_correct",
}
# Moodle's default when <gradingtype> is missing or unknown.
_MOODLE_DEFAULT = "relative_next_exclude_last"
_QTI_CLASS = "elearn-grading-"


def order_of(item: ItemSpec) -> list[str]:
    """The steps in their right order."""
    return list(item.key["order"])


def grading_of(item: ItemSpec) -> str:
    return str(item.key.get("grading", DEFAULT_GRADING))


# --- grading (Moodle's) --------------------------------------------------------------------------


def grade(correct: Sequence[str], current: Sequence[str], grading: str) -> float:
    """The fraction an order ``current`` earns against ``correct`` under ``grading``."""
    right, total = _counts(list(correct), list(current), grading)
    return right / total if total else 0.0


def _counts(correct: list[str], current: list[str], grading: str) -> tuple[float, float]:
    n = len(correct)
    if grading in ("all_or_nothing", "absolute_position"):
        right = sum(1 for i, step in enumerate(correct) if i < len(current) and current[i] == step)
        if grading == "all_or_nothing" and right < n:
            right = 0
        return right, n
    if grading in ("relative_next_exclude_last", "relative_next_include_last"):
        last = grading == "relative_next_include_last"
        wanted, given = _next_steps(correct, last), _next_steps(current, last)
        return sum(1 for s, nxt in wanted.items() if given.get(s, "") == nxt), len(wanted)
    if grading in ("relative_one_previous_and_next", "relative_all_previous_and_next"):
        every = grading == "relative_all_previous_and_next"
        wanted_sides, given_sides = _sides(correct, every), _sides(current, every)
        right = total = 0
        for step, (before, after) in wanted_sides.items():
            if step in given_sides:
                right += len(before & given_sides[step][0]) + len(after & given_sides[step][1])
            total += len(before) + len(after)
        return right, total
    if grading in ("longest_ordered_subset", "longest_contiguous_subset"):
        run = _longest_run(correct, current, grading == "longest_contiguous_subset")
        return (run if run > 1 else 0), len(current)
    if grading == "relative_to_correct":
        most = n - 1
        right = 0
        for place, step in enumerate(correct):
            if step in current:
                right += max(0, most - abs(place - current.index(step)))
        return right, most * n
    raise ValueError(f"unknown grading '{grading}'")


def _next_steps(order: list[str], last: bool) -> dict[str, str]:
    """Each step -> the step after it ("" after the last, which counts only when ``last``)."""
    after = {step: order[i + 1] for i, step in enumerate(order[:-1])}
    if last and order:
        after[order[-1]] = ""
    return after


def _sides(order: list[str], every: bool) -> dict[str, tuple[set[str], set[str]]]:
    """Each step -> (steps before it, steps after it): all of them, or only the neighbours.

    At either end Moodle counts "nothing" as a neighbour, so an end step has one to match.
    """
    out: dict[str, tuple[set[str], set[str]]] = {}
    for i, step in enumerate(order):
        if every:
            out[step] = (set(order[:i]), set(order[i + 1 :]))
        else:
            out[step] = ({order[i - 1] if i else ""}, {order[i + 1] if i + 1 < len(order) else ""})
    return out


def _longest_run(correct: list[str], current: list[str], contiguous: bool) -> int:
    """The longest run of ``current`` in the key's order (ascending places; +1 steps when
    contiguous)."""
    place = {step: i for i, step in enumerate(correct)}
    values = [place[s] for s in current if s in place]
    best = [1] * len(values)
    for i, value in enumerate(values):
        for j in range(i):
            follows = value == values[j] + 1 if contiguous else value > values[j]
            if follows and best[j] + 1 > best[i]:
                best[i] = best[j] + 1
    return max(best, default=0)


# --- guessing -----------------------------------------------------------------------------------

# Up to this many steps (8! = 40 320 orders) the expected guess is counted over every order.
COUNTED_STEPS = 8
# Gradings whose expectation over random orders has a closed form, for any number of steps n:
# every step is in its place with chance 1/n, is followed by its successor with chance 1/n (and
# the last step is last with chance 1/n), and every pair of steps is in its order half the time.
_CLOSED_FORMS = {
    "all_or_nothing": lambda n: 1 / math.factorial(n),
    "absolute_position": lambda n: 1 / n,
    "relative_next_exclude_last": lambda n: 1 / n,
    "relative_next_include_last": lambda n: 1 / n,
    "relative_all_previous_and_next": lambda n: 0.5,
}


def counted_guess(steps: int, grading: str) -> float:
    """The mean fraction over every order of ``steps`` steps: n! orders, each graded."""
    correct = [str(i) for i in range(steps)]
    total = math.fsum(grade(correct, order, grading) for order in itertools.permutations(correct))
    return total / math.factorial(steps)


@functools.cache
def expected_guess(steps: int, grading: str) -> float | None:
    """What a candidate who puts the steps in a random order scores on average: the mean
    fraction over all orders, each equally likely. The key's own order does not matter (the
    gradings see only places), so this depends on the number of steps and the grading alone.
    A closed form where the grading has one; else counted over every order up to
    :data:`COUNTED_STEPS` steps, and None beyond."""
    if grading in _CLOSED_FORMS:
        return float(_CLOSED_FORMS[grading](steps))
    if steps > COUNTED_STEPS:
        return None
    return counted_guess(steps, grading)


# --- the type ------------------------------------------------------------------------------------


@register
class Ordering(ItemType):
    name = "ordering"
    template = "ordering.html"
    shuffles_options = True
    gift_order = 5  # only to say why the ordering plugin's "{>" syntax is not read
    moodle_qtype = "ordering"
    qti_interaction = "qti-order-interaction"

    def validate(self, item: ItemSpec) -> list[LocatedMessage]:
        steps, out = same_ids(item, "options", MIN_STEPS)
        out += forbid(item, "prompts", "accepted") + no_pinned(item)
        key = item.key
        if not isinstance(key, dict) or "order" not in key or set(key) - {"order", "grading"}:
            out.append(
                LocatedMessage(("key",), "the key must be {order: [step ids], grading: ...}")
            )
            return out
        order = key["order"]
        if not isinstance(order, list) or not all(isinstance(s, str) for s in order):
            out.append(LocatedMessage(("key", "order"), "the order must be a list of step ids"))
        elif sorted(order) != sorted(steps) or len(set(order)) != len(order):
            out.append(
                LocatedMessage(
                    ("key", "order"),
                    f"the order must name every step once: {sorted(steps)}, not {order}",
                )
            )
        if key.get("grading", DEFAULT_GRADING) not in GRADINGS:
            out.append(
                LocatedMessage(
                    ("key", "grading"),
                    f"unknown grading '{key.get('grading')}' (known: {', '.join(GRADINGS)})",
                )
            )
        return out

    # -- answers

    def decode(self, raw: RawAnswer, served: Served, lang: str) -> dict[str, list[str]]:
        """``answer-<served step>`` -> ``answer-<step id>``; a place must be 1..n or blank."""
        decoded: dict[str, list[str]] = {}
        places = [str(i) for i in range(1, len(served.options) + 1)]
        for name, values in raw.items():
            step = at_position(name.removeprefix("answer-"), served.options, "a step")
            for value in values:
                if value and value not in places:
                    raise InvalidResponse("not a place in this order")
            decoded[f"answer-{step}"] = [v for v in values if v]
        return decoded

    def parse(self, item: ItemSpec, raw: RawAnswer) -> Response:
        steps = option_ids(item)
        unknown = {k for k in raw if k.startswith("answer-")} - {f"answer-{s}" for s in steps}
        if unknown:
            raise InvalidResponse("not a step of this question")
        place: dict[str, int] = {}
        for step in steps:
            values = list(raw.get(f"answer-{step}", ()))
            if len(values) > 1:
                raise InvalidResponse("one place per step")
            if values:
                chosen = whole_number(values[0], maximum=len(steps))
                if chosen is None or chosen < 1:
                    raise InvalidResponse("not a place in this order")
                place[step] = chosen
        if not place:
            return None
        if len(place) < len(steps) or len(set(place.values())) < len(steps):
            raise IncompleteResponse(
                N_("Give each step its own place: one step to each place."), partial=place
            )
        return sorted(steps, key=place.__getitem__)

    def score(self, item: ItemSpec, response: Response, lang: str) -> float:
        if not response:
            return 0.0
        return grade(order_of(item), response, grading_of(item))

    def key_response(self, item: ItemSpec, lang: str) -> Response:
        return order_of(item)

    def random_guess_score(self, item: ItemSpec) -> float | None:
        """The expected fraction of a random order under the item's grading (Moodle's ordering
        question does not estimate it and reports 0)."""
        return expected_guess(len(order_of(item)), grading_of(item))

    # -- pages

    def present(
        self, item: ItemSpec, lang: str, served: Served, response: Response
    ) -> PresentedItem:
        """The steps in the learner's order once answered (else as served), each with its place.

        ``response`` may also be the places of an unfinished answer (step -> place), shown back
        as given so that the learner can finish it.
        """
        text = text_in(item, lang)
        served_at = positions(served.options)
        shown = list(response) if isinstance(response, list) else list(served.options)
        steps = served_choices(text.options, served.options)
        by_id = {step: steps[int(served_at[step]) - 1] for step in served.options}
        given: dict[str, int] = {}
        if isinstance(response, list):
            given = {step: place for place, step in enumerate(response, start=1)}
        elif isinstance(response, dict):
            given = dict(response)
        places = {served_at[s]: str(p) for s, p in given.items() if s in served_at}
        return PresentedItem(
            type=item.type,
            template=self.partial,
            lang=language_of(item, lang),
            stem=text.stem,
            options=tuple(by_id[s] for s in shown if s in by_id),
            chosen=places,
        )

    def describe(self, item: ItemSpec, lang: str) -> tuple[str, ...]:
        steps = text_in(item, lang).options or {}
        return tuple(f"{i}. {steps[s]}" for i, s in enumerate(order_of(item), start=1))

    # -- GIFT

    def gift_claims(self, answer_text: str) -> bool:
        return answer_text.startswith(">")  # the ordering plugin's "{>n ... }" extension

    def read_gift(self, block: GiftBlock) -> tuple[Any, dict[str, Any]]:
        raise Skip(
            "GIFT has no ordering question (the ordering plugin's '{>' form is not read):"
            " import it from Moodle XML"
        )

    # -- Moodle XML

    def read_moodle(self, question: MoodleQuestion) -> tuple[Any, dict[str, Any]]:
        # Moodle keeps the items in the order of the file: that order is the right one (the
        # fraction attribute is rewritten on import).
        texts = [a.rich() for a in question.children("answer")]
        texts = [t for t in texts if t]  # Moodle drops blank items
        if len(texts) < MIN_STEPS:
            raise Skip(f"an ordering question needs at least {MIN_STEPS} items")
        if len(set(texts)) < len(texts):
            raise Skip("two items of the ordering question have the same text")
        shown = _moodle_shown(question, len(texts))
        if shown < len(texts):
            raise Skip(
                f"Moodle shows {shown} of the {len(texts)} items, drawn at random; elearn shows"
                " every item"
            )
        grading = _MOODLE_GRADINGS.get(question.value("gradingtype").strip().upper())
        ids = [chr(ord("a") + i) if i < 26 else f"o{i + 1}" for i in range(len(texts))]
        key = {"order": ids, "grading": grading or _MOODLE_DEFAULT}
        return key, {"options": dict(zip(ids, texts, strict=True))}

    def write_moodle(self, question: ET.Element, item: ItemSpec, lang: str) -> None:
        steps = text_in(item, lang).options or {}
        order = order_of(item)
        moodle_simple(question, "layouttype", "VERTICAL")
        moodle_simple(question, "selecttype", "ALL")
        moodle_simple(question, "selectcount", str(len(order)))
        moodle_simple(question, "gradingtype", grading_of(item).upper())
        moodle_simple(question, "showgrading", "SHOW")
        moodle_simple(question, "numberingstyle", "none")
        for place, step in enumerate(order, start=1):
            answer = ET.SubElement(question, "answer", {"fraction": str(place), "format": "html"})
            ET.SubElement(answer, "text").text = as_html(steps[step])

    # -- QTI

    def write_qti(self, parts: QtiItemParts, item: ItemSpec, lang: str) -> None:
        grading = grading_of(item)
        order = order_of(item)
        scorer = _QTI_SCORERS.get(grading)
        if scorer is None:
            raise Unsupported(
                f"QTI response processing has no way to grade '{grading}' (elearn writes"
                f" {', '.join(_QTI_SCORERS)})"
            )
        text = text_in(item, lang)
        interaction = el(
            parts.body,
            "qti-order-interaction",
            response_identifier="RESPONSE",
            shuffle="true",
        )
        interaction.set("class", _QTI_CLASS + grading)
        parts.prompt(interaction, text.stem)
        for step, body in (text.options or {}).items():
            el(interaction, "qti-simple-choice", body, identifier=qti_identifier(step))
        parts.declare("ordered", "identifier", *(qti_identifier(s) for s in order))
        scorer(parts, [qti_identifier(s) for s in order])

    def read_qti(self, read: QtiRead) -> tuple[Any, dict[str, Any]]:
        steps = read.choices("qti-simple-choice")
        if len(steps) < MIN_STEPS or sorted(read.correct) != sorted(steps):
            raise Skip("the correct order must name every choice once")
        marked = [
            c.removeprefix(_QTI_CLASS)
            for c in (read.interaction.get("class") or "").split()
            if c.startswith(_QTI_CLASS)
        ]
        if read.scoring == "match_correct":
            grading = "all_or_nothing"
        elif marked and marked[0] in _QTI_SCORERS:
            grading = marked[0]  # written by elearn: its processing is one of ours
        else:
            raise Skip("only all-or-nothing ordering (match_correct) is read from other systems")
        return {"order": list(read.correct), "grading": grading}, {"options": steps}


def _moodle_shown(question: MoodleQuestion, count: int) -> int:
    """How many items Moodle shows of ``count`` (its ``selecttype`` and ``selectcount``)."""
    select = (question.value("selecttype") or question.value("logical") or "RANDOM").upper()
    given = (question.value("selectcount") or question.value("studentsee") or "6").strip()
    count_given = whole_number(given.removeprefix("-"))  # '²' or '--3' count as not given
    shown = 3 if count_given is None else -count_given if given.startswith("-") else count_given
    if select in ("ALL", "EXACT"):
        return count
    return max(2, min(count, shown))


# --- QTI response processing for the gradings it can express -------------------------------------


def _add(branch: ET.Element, fraction: float) -> None:
    """``SCORE = SCORE + fraction``."""
    total = el(el(branch, "qti-set-outcome-value", identifier="SCORE"), "qti-sum")
    el(total, "qti-variable", identifier="SCORE")
    base_value(total, number(round(fraction, 10)), "float")


def _at(parent: ET.Element, place: int, step: str) -> None:
    """``RESPONSE[place] == step`` (QTI counts places from 1)."""
    match = el(parent, "qti-match")
    el(el(match, "qti-index", n=str(place)), "qti-variable", identifier="RESPONSE")
    base_value(match, step, "identifier")


def _start(parts: QtiItemParts) -> ET.Element:
    """SCORE 0; the conditions that add to it go under the returned ``if answered`` branch."""
    set_outcome(parts.processing, "SCORE", "0")
    condition = el(parts.processing, "qti-response-condition")
    branch = el(condition, "qti-response-if")
    el(el(el(branch, "qti-not"), "qti-is-null"), "qti-variable", identifier="RESPONSE")
    return branch


def _qti_all_or_nothing(parts: QtiItemParts, order: list[str]) -> None:
    parts.score_match_correct()


def _qti_absolute(parts: QtiItemParts, order: list[str]) -> None:
    answered = _start(parts)
    for place, step in enumerate(order, start=1):
        branch = el(el(answered, "qti-response-condition"), "qti-response-if")
        _at(branch, place, step)
        _add(branch, 1 / len(order))


def _qti_relative_next(parts: QtiItemParts, order: list[str], last: bool) -> None:
    n = len(order)
    pairs = list(itertools.pairwise(order))
    checks = len(pairs) + (1 if last else 0)
    answered = _start(parts)
    for first, second in pairs:
        branch = el(el(answered, "qti-response-condition"), "qti-response-if")
        anywhere = el(branch, "qti-or")
        for place in range(1, n):
            both = el(anywhere, "qti-and")
            _at(both, place, first)
            _at(both, place + 1, second)
        _add(branch, 1 / checks)
    if last:
        branch = el(el(answered, "qti-response-condition"), "qti-response-if")
        _at(branch, n, order[-1])
        _add(branch, 1 / checks)


def _qti_relative_to_correct(parts: QtiItemParts, order: list[str]) -> None:
    n = len(order)
    most = n - 1
    answered = _start(parts)
    for right_place, step in enumerate(order):
        for place in range(n):
            worth = max(0, most - abs(right_place - place))
            if worth:
                branch = el(el(answered, "qti-response-condition"), "qti-response-if")
                _at(branch, place + 1, step)
                _add(branch, worth / (most * n))


_QTI_SCORERS = {
    "all_or_nothing": _qti_all_or_nothing,
    "absolute_position": _qti_absolute,
    "relative_next_exclude_last": lambda p, o: _qti_relative_next(p, o, last=False),
    "relative_next_include_last": lambda p, o: _qti_relative_next(p, o, last=True),
    "relative_to_correct": _qti_relative_to_correct,
}
