"""Scoring an attempt: marks per item, percentages per topic and in total, pass by the rules.

Each item's type scores a response as a fraction 0..1 of the item; the item's maximum mark
(``ItemSpec.mark``, 1 unless the content says otherwise) turns that into marks. A topic's
percentage and the total are the marks earned over the maximum marks, as Moodle's quiz grade is
the sum of its slots' marks over the sum of their maximum marks. An item of mark 0 counts for
nothing, and a topic whose items on the form all have mark 0 has no percentage: it is left out
(the statistics leave zero-mark items out in the same way).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from elearn.domain.content import ItemSpec, PassRules
from elearn.domain.itemtypes import Response, get_item_type

# Percentages are compared with this slack so that 30/40 = 75 % passes a 75 % rule exactly.
EPSILON = 1e-9


@dataclass(frozen=True)
class Answered:
    """One slot of an attempt as scoring needs it."""

    number: int
    topic: str
    item: ItemSpec
    response: Response


@dataclass(frozen=True)
class TopicResult:
    topic: str
    items: int
    marks: float  # marks earned
    maximum: float  # the topic's maximum marks on this form (> 0)
    percent: float
    required: float | None  # the topic's minimum, when the rules name it

    @property
    def met(self) -> bool:
        return self.required is None or self.percent + EPSILON >= self.required


@dataclass(frozen=True)
class AttemptScore:
    marks: dict[int, float]  # slot number -> the fraction 0..1 of the item earned
    total_percent: float
    topics: tuple[TopicResult, ...]
    overall_required: float
    passed: bool
    reasons: tuple[str, ...] = field(default=())  # why it failed, for the result page
    earned: float = 0.0  # marks earned on the whole form
    maximum: float = 0.0  # the form's maximum marks


def score_attempt(slots: Sequence[Answered], rules: PassRules, lang: str) -> AttemptScore:
    """Marks earned over maximum marks, per topic (over its own items) and in total.

    A topic named in the rules that is not on the form, or whose items on the form all have
    mark 0, cannot be judged, and a form without marks cannot be: either fails the attempt.
    """
    marks = {s.number: get_item_type(s.item.type).score(s.item, s.response, lang) for s in slots}
    earned: dict[str, list[float]] = {}
    maxima: dict[str, list[float]] = {}
    for s in slots:
        earned.setdefault(s.topic, []).append(marks[s.number] * s.item.mark)
        maxima.setdefault(s.topic, []).append(s.item.mark)
    topics = tuple(
        TopicResult(
            topic=t,
            items=len(values),
            marks=sum(values),
            maximum=sum(maxima[t]),
            percent=100 * sum(values) / sum(maxima[t]),
            required=rules.topics.get(t),
        )
        for t, values in earned.items()
        if sum(maxima[t]) > 0  # a topic of zero-mark items only has no percentage
    )
    total_earned = sum(marks[s.number] * s.item.mark for s in slots)
    maximum = sum(s.item.mark for s in slots)
    total = 100 * total_earned / maximum if maximum > 0 else 0.0
    reasons = []
    if slots and maximum <= 0:
        reasons.append("the form carries no marks")
    if total + EPSILON < rules.overall_percent:
        reasons.append(f"overall {total:.1f} % < {rules.overall_percent:g} %")
    reasons += [f"{t.topic} {t.percent:.1f} % < {t.required:g} %" for t in topics if not t.met]
    # A topic named in the rules but absent from the form cannot be judged: fail safe.
    judged = {t.topic for t in topics}
    for t in rules.topics:
        if t not in earned:
            reasons.append(f"{t} not on the form")
        elif t not in judged:
            reasons.append(f"{t} carries no marks on the form")
    return AttemptScore(
        marks,
        total,
        topics,
        rules.overall_percent,
        not reasons,
        tuple(reasons),
        earned=total_earned,
        maximum=maximum,
    )
