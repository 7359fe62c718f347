"""Exam forms drawn to a blueprint, unseen and least-exposed first, so one cut fits every form."""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from elearn.domain.content import BlueprintEntry

# Keeps the repair's running sums, which drift in the last bits, safely inside the tolerance
# that is checked afterwards on the exactly rounded mean.
_MARGIN = 1e-12
_NOTHING: frozenset[str] = frozenset()
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class PoolItem:
    """One drawable item as the assembler sees it: its served version, rating and history."""

    version_id: int
    content_hash: str
    item_key: str
    topic: str
    outcome: str | None
    angoff: float | None
    exposure: int
    seen: bool
    options: tuple[str, ...] = ()
    prompts: tuple[str, ...] = ()
    pinned: frozenset[str] = frozenset()
    enemy_group: str | None = None  # at most one item of a group on a form


@dataclass(frozen=True)
class Slot:
    """One position of a served form, with the option and prompt order the candidate saw."""

    number: int
    version_id: int
    content_hash: str
    topic: str
    options: tuple[str, ...]
    prompts: tuple[str, ...]


@dataclass(frozen=True)
class Form:
    """A served form, its expected score, the bank's target and a fingerprint to replay it by."""

    slots: tuple[Slot, ...]
    expected_score: float | None
    target: float | None
    fingerprint: str


class NotEnoughItems(ValueError):
    """The bank holds fewer items of a topic (or of one of its outcomes) than the blueprint asks."""

    def __init__(self, topic: str, asked: int, available: int, outcome: str | None = None) -> None:
        self.topic = topic
        self.asked = asked
        self.available = available
        self.outcome = outcome
        where = f"topic '{topic}'" + (f", outcome '{outcome}'" if outcome is not None else "")
        super().__init__(f"{where}: {asked} items asked, {available} in the pool")


def form_fingerprint(slots: Sequence[Slot]) -> str:
    """A sha256 of what the candidate was shown, so a replayed form can be proved identical."""
    # Keys are written in sorted order, which makes this the sort_keys=True encoding without
    # paying for the sort on every draw.
    payload = _CANONICAL.encode(
        [
            {
                "content_hash": s.content_hash,
                "number": s.number,
                "options": s.options,
                "prompts": s.prompts,
            }
            for s in slots
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# How often a draw starts again when enemy groups that span topics left a later topic short.
GROUP_TRIES = 25


def assemble(
    blueprint: Sequence[BlueprintEntry],
    pool: Sequence[PoolItem],
    rng: random.Random,
    tolerance: float = 0.03,
) -> Form:
    """Draw a form to the blueprint: unseen and least-exposed first, mean rating near the target,
    and never two items of one enemy group."""
    by_topic = _by_topic(blueprint, pool)
    target = _target(blueprint, by_topic)
    for entry in blueprint:
        _check_counts(entry, by_topic[entry.topic], dict(entry.outcomes or {}))
    for _ in range(GROUP_TRIES):
        chosen = _draw(blueprint, by_topic, rng)
        if chosen is not None:
            break
    else:
        raise NotEnoughItems(
            "enemy groups", sum(e.items for e in blueprint), 0, "no form without two of a group"
        )
    if target is not None:
        _repair(blueprint, by_topic, chosen, target, tolerance)
    return _form([p for entry in blueprint for p in chosen[entry.topic]], target, rng)


def _draw(
    blueprint: Sequence[BlueprintEntry],
    by_topic: Mapping[str, list[PoolItem]],
    rng: random.Random,
) -> dict[str, list[PoolItem]] | None:
    """One draw, topic by topic; None when enemy groups left a topic short (try again).

    When a group spans topics, the topic drawn first takes the group's one place on the form,
    so the topics are drawn in a random order: in blueprint order a later topic's member of
    such a group would hardly ever be drawn, and its exposure would fall far behind its
    topic's."""
    chosen: dict[str, list[PoolItem]] = {}
    used: set[str] = set()
    order = list(blueprint)
    if _groups_span_topics(by_topic):
        rng.shuffle(order)
    for entry in order:
        items = _one_per_group(by_topic[entry.topic], used, rng)
        minima = dict(entry.outcomes or {})
        try:
            _check_counts(entry, items, minima)
        except NotEnoughItems:
            return None
        chosen[entry.topic] = _draw_topic(items, entry.items, minima, _fill(items), rng)
        used |= {p.enemy_group for p in chosen[entry.topic] if p.enemy_group}
    return chosen


def _groups_span_topics(by_topic: Mapping[str, list[PoolItem]]) -> bool:
    topics_of: dict[str, set[str]] = {}
    for topic, items in by_topic.items():
        for p in items:
            if p.enemy_group:
                topics_of.setdefault(p.enemy_group, set()).add(topic)
    return any(len(topics) > 1 for topics in topics_of.values())


def _one_per_group(items: list[PoolItem], used: set[str], rng: random.Random) -> list[PoolItem]:
    """The topic's candidates: items of a group already on the form left out, and of each
    other group one member, unseen and least exposed first (a pool without groups is unchanged,
    and draws with the same random numbers as before)."""
    if not any(p.enemy_group for p in items):
        return items
    members: dict[str, list[PoolItem]] = {}
    for p in items:
        if p.enemy_group and p.enemy_group not in used:
            members.setdefault(p.enemy_group, []).append(p)
    keep = set()
    for group in sorted(members):
        candidates = members[group]
        best = min((p.seen, p.exposure) for p in candidates)
        tied = [p for p in candidates if (p.seen, p.exposure) == best]
        keep.add(id(tied[rng.randrange(len(tied))]))
    return [p for p in items if not p.enemy_group or id(p) in keep]


def plain_draw(
    blueprint: Sequence[BlueprintEntry], pool: Sequence[PoolItem], rng: random.Random
) -> Form:
    """A simple random sample per topic, ignoring exposure, history and outcomes, for comparison."""
    by_topic = _by_topic(blueprint, pool)
    target = _target(blueprint, by_topic)
    drawn: list[PoolItem] = []
    for entry in blueprint:
        items = by_topic[entry.topic]
        if len(items) < entry.items:
            raise NotEnoughItems(entry.topic, entry.items, len(items))
        drawn += rng.sample(items, entry.items)
    return _form(drawn, target, rng)


# --- drawing ----------------------------------------------------------------------------------


def _by_topic(
    blueprint: Sequence[BlueprintEntry], pool: Sequence[PoolItem]
) -> dict[str, list[PoolItem]]:
    """The pool's items of each blueprint topic, in pool order so that a seed replays a draw."""
    by_topic: dict[str, list[PoolItem]] = {}
    for entry in blueprint:
        if entry.topic in by_topic:
            raise ValueError(f"topic '{entry.topic}' is listed twice in the blueprint")
        by_topic[entry.topic] = []
    keys: set[str] = set()
    for item in pool:
        bucket = by_topic.get(item.topic)
        if bucket is not None:
            # Two versions of one item would let a form ask the same question twice.
            if item.item_key in keys:
                raise ValueError(f"item '{item.item_key}' is in the pool twice")
            keys.add(item.item_key)
            bucket.append(item)
    return by_topic


def _check_counts(entry: BlueprintEntry, items: list[PoolItem], minima: dict[str, int]) -> None:
    """Fail before drawing when the pool cannot satisfy the blueprint entry at all."""
    if len(items) < entry.items:
        raise NotEnoughItems(entry.topic, entry.items, len(items))
    if sum(minima.values()) > entry.items:
        raise ValueError(
            f"topic '{entry.topic}': the outcome minima add up to {sum(minima.values())}, "
            f"more than the {entry.items} items asked"
        )
    for outcome, count in minima.items():
        available = sum(1 for p in items if p.outcome == outcome)
        if available < count:
            raise NotEnoughItems(entry.topic, count, available, outcome)


def _target(
    blueprint: Sequence[BlueprintEntry], by_topic: Mapping[str, list[PoolItem]]
) -> float | None:
    """The blueprint-weighted mean rating of the pool; topics without ratings carry no weight."""
    weighted: list[float] = []
    weight = 0
    for entry in blueprint:
        ratings = [p.angoff for p in by_topic[entry.topic] if p.angoff is not None]
        if ratings:
            weighted.append(entry.items * math.fsum(ratings) / len(ratings))
            weight += entry.items
    return math.fsum(weighted) / weight if weight else None


def _fill(items: list[PoolItem]) -> float:
    """Where unrated items sort among rated ones: in the middle, so they favour neither end."""
    ratings = [p.angoff for p in items if p.angoff is not None]
    return math.fsum(ratings) / len(ratings) if ratings else 0.5


def _draw_topic(
    items: list[PoolItem], need: int, minima: Mapping[str, int], fill: float, rng: random.Random
) -> list[PoolItem]:
    """The topic's share of the form: outcome minima first, then the rest, each unseen-first."""
    # Drawing every group unseen-first uses the fewest seen items any valid selection can: a seen
    # item enters only where an outcome, or the topic as a whole, has run out of unseen ones.
    if not minima:
        return _unseen_first(items, need, fill, rng)
    chosen: list[PoolItem] = []
    for outcome, count in minima.items():
        group = [p for p in items if p.outcome == outcome]
        chosen += _unseen_first(group, count, fill, rng)
    taken = {id(p) for p in chosen}
    rest = [p for p in items if id(p) not in taken]
    return chosen + _unseen_first(rest, need - len(chosen), fill, rng)


def _unseen_first(
    group: list[PoolItem], need: int, fill: float, rng: random.Random
) -> list[PoolItem]:
    """``need`` items of a group, unseen ones only unless there are too few of them."""
    unseen = [p for p in group if not p.seen]
    if len(unseen) >= need:
        return _least_exposed(unseen, need, fill, rng)
    seen = [p for p in group if p.seen]
    return unseen + _least_exposed(seen, need - len(unseen), fill, rng)


def _least_exposed(
    group: list[PoolItem], need: int, fill: float, rng: random.Random
) -> list[PoolItem]:
    """``need`` items, least exposed first; the tie at the cut is drawn stratified by rating."""
    # Exposure decides first so that it stays balanced when fed back: stratifying the whole topic
    # over fixed rating bands would serve the items of narrow bands more often than wide ones.
    if need <= 0:
        return []
    if need >= len(group):
        return list(group)
    ordered = sorted(group, key=_exposure)
    level = ordered[need - 1].exposure
    must = [p for p in ordered if p.exposure < level]
    tied = [p for p in ordered if p.exposure == level]
    return must + _stratified(tied, need - len(must), fill, rng)


def _stratified(
    group: list[PoolItem], need: int, fill: float, rng: random.Random
) -> list[PoolItem]:
    """One item at random from each of ``need`` contiguous rating bands of the group."""
    if need >= len(group):
        return list(group)
    ordered = sorted(group, key=lambda p: fill if p.angoff is None else p.angoff)
    size = len(ordered)
    picks: list[PoolItem] = []
    for band in range(need):
        low = band * size // need
        high = (band + 1) * size // need
        picks.append(ordered[low + rng.randrange(high - low)])
    return picks


def _exposure(item: PoolItem) -> int:
    return item.exposure


# --- repair -----------------------------------------------------------------------------------


def _repair(
    blueprint: Sequence[BlueprintEntry],
    by_topic: Mapping[str, list[PoolItem]],
    chosen: dict[str, list[PoolItem]],
    target: float,
    tolerance: float,
) -> None:
    """Swap items in place until the form's mean rating is within tolerance of the target."""
    # A swap stays in its topic and trades a seen item only for a seen one, so the unseen-first
    # rule never yields; outcome minima and enemy groups hold too. Of the swaps that land within
    # tolerance, the one bringing in the least-exposed item wins (then: taking out the most
    # exposed, then: closest); when none does, the closest swap is made if it helps at all, and
    # the loop tries again.
    limit = tolerance - _MARGIN
    for _ in range(sum(len(v) for v in chosen.values()) + 1):
        rated = [p.angoff for v in chosen.values() for p in v if p.angoff is not None]
        if not rated:
            return
        total, count = math.fsum(rated), len(rated)
        now = abs(total / count - target)
        if now <= tolerance:
            return
        candidates: list[tuple[int, str, PoolItem]] = []
        for entry in blueprint:
            picked = {id(p) for p in chosen[entry.topic]}
            candidates += [
                (p.exposure, entry.topic, p) for p in by_topic[entry.topic] if id(p) not in picked
            ]
        candidates.sort(key=lambda c: c[0])
        counts = {
            entry.topic: _outcome_counts(chosen[entry.topic], entry.outcomes or {})
            for entry in blueprint
        }
        minima = {entry.topic: entry.outcomes or {} for entry in blueprint}
        groups = Counter(p.enemy_group for v in chosen.values() for p in v if p.enemy_group)
        good: tuple[tuple[int, int, float], str, int, PoolItem] | None = None
        best: tuple[tuple[float, int, int], str, int, PoolItem] | None = None
        for b_exposure, topic, b in candidates:
            if good is not None and b_exposure > good[0][0]:
                break  # sorted by exposure: no later swap can bring in a less-exposed item
            b_rating = b.angoff
            for index, a in enumerate(chosen[topic]):
                if a.seen != b.seen:
                    continue
                if b.enemy_group and groups[b.enemy_group] - (a.enemy_group == b.enemy_group):
                    continue  # b would share the form with a member of its enemy group
                if a.outcome != b.outcome and not _spare(a.outcome, counts[topic], minima[topic]):
                    continue
                new_total, new_count = total, count
                if a.angoff is not None:
                    new_total -= a.angoff
                    new_count -= 1
                if b_rating is not None:
                    new_total += b_rating
                    new_count += 1
                if new_count == 0:
                    continue
                distance = abs(new_total / new_count - target)
                if distance <= limit:
                    good_key = (b_exposure, -a.exposure, distance)
                    if good is None or good_key < good[0]:
                        good = (good_key, topic, index, b)
                elif good is None:
                    best_key = (distance, b_exposure, -a.exposure)
                    if best is None or best_key < best[0]:
                        best = (best_key, topic, index, b)
        if good is not None:
            _, topic, index, b = good
        elif best is not None and best[0][0] < now:
            _, topic, index, b = best
        else:
            return
        chosen[topic][index] = b


def _spare(outcome: str | None, counts: Mapping[str, int], minima: Mapping[str, int]) -> bool:
    """Whether one item of this outcome can leave the form without breaking its minimum."""
    return outcome is None or outcome not in minima or counts[outcome] > minima[outcome]


def _outcome_counts(items: list[PoolItem], minima: Mapping[str, int]) -> dict[str, int]:
    counts = dict.fromkeys(minima, 0)
    for p in items:
        if p.outcome in counts:
            counts[p.outcome] += 1
    return counts


# --- serving ----------------------------------------------------------------------------------


def _form(items: list[PoolItem], target: float | None, rng: random.Random) -> Form:
    """Shuffle the items and their options and prompts, and number, rate and fingerprint them."""
    order = list(items)
    rng.shuffle(order)
    slots = tuple(
        Slot(
            number=number,
            version_id=p.version_id,
            content_hash=p.content_hash,
            topic=p.topic,
            options=_shuffle_unpinned(p.options, p.pinned, rng),
            prompts=_shuffle_unpinned(p.prompts, _NOTHING, rng),
        )
        for number, p in enumerate(order, start=1)
    )
    rated = [p.angoff for p in items if p.angoff is not None]
    expected = math.fsum(rated) / len(rated) if rated else None
    return Form(slots, expected, target, form_fingerprint(slots))


def _shuffle_unpinned(
    ids: tuple[str, ...], pinned: frozenset[str], rng: random.Random
) -> tuple[str, ...]:
    """Shuffle ids among the positions not held by a pinned id (e.g. 'none of these' stays put)."""
    if len(ids) < 2:
        return ids
    if not pinned:
        out = list(ids)
        rng.shuffle(out)
        return tuple(out)
    free = [i for i, x in enumerate(ids) if x not in pinned]
    moving = [ids[i] for i in free]
    rng.shuffle(moving)
    out = list(ids)
    for i, x in zip(free, moving, strict=True):
        out[i] = x
    return tuple(out)
