"""Scoring an attempt: a mark per item, percentages per topic and in total, pass by the rules."""

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
    marks: float
    percent: float
    required: float | None  # the topic's minimum, when the rules name it

    @property
    def met(self) -> bool:
        return self.required is None or self.percent + EPSILON >= self.required


@dataclass(frozen=True)
class AttemptScore:
    marks: dict[int, float]  # slot number -> mark 0..1
    total_percent: float
    topics: tuple[TopicResult, ...]
    overall_required: float
    passed: bool
    reasons: tuple[str, ...] = field(default=())  # why it failed, for the result page


def score_attempt(slots: Sequence[Answered], rules: PassRules, lang: str) -> AttemptScore:
    """Each item counts one; a topic's percentage is over its own items."""
    marks = {s.number: get_item_type(s.item.type).score(s.item, s.response, lang) for s in slots}
    by_topic: dict[str, list[float]] = {}
    for s in slots:
        by_topic.setdefault(s.topic, []).append(marks[s.number])
    topics = tuple(
        TopicResult(
            topic=t,
            items=len(values),
            marks=sum(values),
            percent=100 * sum(values) / len(values),
            required=rules.topics.get(t),
        )
        for t, values in by_topic.items()
    )
    total = 100 * sum(marks.values()) / len(marks) if marks else 0.0
    reasons = []
    if total + EPSILON < rules.overall_percent:
        reasons.append(f"overall {total:.1f} % < {rules.overall_percent:g} %")
    reasons += [f"{t.topic} {t.percent:.1f} % < {t.required:g} %" for t in topics if not t.met]
    # A topic named in the rules but absent from the form cannot be judged: fail safe.
    reasons += [f"{t} not on the form" for t in rules.topics if t not in by_topic]
    return AttemptScore(marks, total, topics, rules.overall_percent, not reasons, tuple(reasons))
