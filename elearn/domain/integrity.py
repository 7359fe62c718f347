"""What keeps an exam valid: no practice exam that hands out a certifying exam's keys, and
blueprints that enemy groups leave possible to fill.

A *certifying* exam issues a certificate. An exam that shows correctness or answers after an
attempt, or that can be taken any number of times, can be *harvested*: taken again and again to
collect the keys. Such an exam may not draw from a pool (a bank's main pool, or a named pool of
it) that a certifying exam draws from; a certifying exam may show neither answers nor
correctness itself, only its result per topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from elearn.domain.content import ExamSpec, ItemSpec
from elearn.domain.problems import LocatedMessage

Pool = tuple[str, str | None]  # (bank id, pool name; None: the bank's main pool)


@dataclass(frozen=True)
class PlacedExam:
    bank: str
    spec: ExamSpec

    @property
    def pool(self) -> Pool:
        return (self.bank, self.spec.pool)


def certifying(exam: ExamSpec) -> bool:
    return exam.certificate.issue


def harvestable(exam: ExamSpec) -> bool:
    """Whether attempts can collect keys: answers or correctness shown, or no attempt limit."""
    return exam.review in ("correctness", "answers") or exam.attempts.max is None


def exposure_problems(exams: Sequence[PlacedExam]) -> dict[str, list[LocatedMessage]]:
    """Problems by exam id: a certifying exam that shows answers; a harvestable exam that draws
    from a certifying exam's pool."""
    out: dict[str, list[LocatedMessage]] = {}
    for exam in exams:
        spec = exam.spec
        if certifying(spec) and spec.review in ("correctness", "answers"):
            out.setdefault(spec.id, []).append(
                LocatedMessage(
                    ("review",),
                    f"a certifying exam may not show {spec.review} after an attempt: every "
                    "candidate would take keys away (a true/false item's correctness is its key) "
                    "and a retake would be easier (use 'topics')",
                )
            )
        if not harvestable(spec) or certifying(spec):
            # a certifying exam shows no item (above); without an attempt limit its candidates
            # still see more of its pool over time, which the exposure report shows
            continue
        for other in exams:
            if other.spec.id == spec.id or not certifying(other.spec) or other.pool != exam.pool:
                continue
            why = (
                f"shows {spec.review} after an attempt"
                if spec.review in ("correctness", "answers")
                else "has no attempt limit"
            )
            out.setdefault(spec.id, []).append(
                LocatedMessage(
                    ("pool",),
                    f"draws from the {_pool_of(exam)}, which the "
                    f"certifying exam '{other.spec.id}' draws from, and {why}: its attempts "
                    "would hand out the certification keys (give it a pool of its own)",
                )
            )
    return out


def _pool_of(exam: PlacedExam) -> str:
    pool = exam.spec.pool
    return f"pool '{pool}' of bank '{exam.bank}'" if pool else f"main pool of bank '{exam.bank}'"


def harvest_pools(exams: Sequence[PlacedExam]) -> tuple[set[Pool], set[Pool]]:
    """(the pools harvestable exams draw from, the pools certifying exams draw from)."""
    practice = {e.pool for e in exams if harvestable(e.spec) and not certifying(e.spec)}
    certification = {e.pool for e in exams if certifying(e.spec)}
    return practice, certification


# --- enemy groups --------------------------------------------------------------------------------


def fillable(exam: ExamSpec, pool: Sequence[ItemSpec]) -> list[LocatedMessage]:
    """Whether a form can be drawn at all once no two items of an enemy group may share it.

    A maximum flow from the blueprint's topics (each asking its count) through the pool's items
    to their groups (each giving one item at most) tells; the counts per topic alone are checked
    elsewhere.
    """
    import numpy as np  # scipy's flow solver; only the content check needs it
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

    entries = [e for e in exam.blueprint]
    topics = {e.topic: n for n, e in enumerate(entries)}
    items = [i for i in pool if i.topic in topics]
    groups = sorted({i.enemy_group for i in items if i.enemy_group})
    if not groups:
        return []
    # Nodes: source, topics, items, groups, sink.
    source, first_topic = 0, 1
    first_item = first_topic + len(entries)
    first_group = first_item + len(items)
    sink = first_group + len(groups)
    group_node = {g: first_group + n for n, g in enumerate(groups)}
    edges: dict[tuple[int, int], int] = {}
    for n, entry in enumerate(entries):
        edges[(source, first_topic + n)] = entry.items
    for n, item in enumerate(items):
        node = first_item + n
        edges[(first_topic + topics[item.topic], node)] = 1
        target = group_node[item.enemy_group] if item.enemy_group else sink
        edges[(node, target)] = 1
    for node in group_node.values():
        edges[(node, sink)] = 1
    rows, columns = zip(*edges, strict=True)
    graph = csr_matrix(
        (np.array(list(edges.values()), dtype=np.int32), (rows, columns)), shape=(sink + 1,) * 2
    )
    flow = maximum_flow(graph, source, sink).flow_value
    asked = sum(e.items for e in entries)
    if flow >= asked:
        return []
    short = []
    for n, entry in enumerate(entries):
        topic_items = [i for i in items if i.topic == entry.topic]
        free = sum(1 for i in topic_items if not i.enemy_group)
        in_groups = sorted({i.enemy_group for i in topic_items if i.enemy_group})
        if free + len(in_groups) < entry.items:
            short.append(
                LocatedMessage(
                    ("blueprint", n, "items"),
                    f"topic '{entry.topic}' asks for {entry.items} items, but with its enemy "
                    f"groups ({', '.join(in_groups)}) at most {free + len(in_groups)} can share "
                    "a form",
                )
            )
    return short or [
        LocatedMessage(
            ("blueprint",),
            f"enemy groups ({', '.join(groups)}) leave at most {flow} of the {asked} items a "
            "form asks for: groups that span topics take items that another topic needs",
        )
    ]
