"""Simulates 10,000 exam forms per method to show the stratified draw keeps every form fair, on a
synthetic bank with and without enemy groups, and on the shipped certification exams with their
own pools and enemy groups: no group twice on a form, every form within the tolerance."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from elearn.content.loader import load_content  # noqa: E402
from elearn.domain.assembly import Form, PoolItem, assemble, plain_draw  # noqa: E402
from elearn.domain.content import BlueprintEntry  # noqa: E402
from elearn.domain.integrity import certifying  # noqa: E402

SEED = 20240601
DRAWS = 10_000
TOLERANCE = 0.03
TOPICS = 8
PER_TOPIC = 25
BLUEPRINT = [8, 4, 6, 8, 4, 6, 2, 2]

Draw = Callable[[Sequence[BlueprintEntry], Sequence[PoolItem], random.Random], Form]


def synthetic_bank(seed: int, groups: bool = False) -> list[PoolItem]:
    """8 topics of 25 items, Angoff ratings skewed easy as real banks are (Beta(6, 2.5)); with
    ``groups``, 30 enemy groups of 2 to 4 items, a third of them across two topics."""
    rng = random.Random(seed)
    items = [
        PoolItem(
            version_id=t * PER_TOPIC + i + 1,
            content_hash=f"{t * PER_TOPIC + i + 1:064x}",
            item_key=f"t{t}-q{i}",
            topic=f"topic-{t}",
            outcome=None,
            angoff=round(rng.betavariate(6, 2.5), 2),
            exposure=0,
            seen=False,
            options=("a", "b", "c", "d"),
        )
        for t in range(TOPICS)
        for i in range(PER_TOPIC)
    ]
    if not groups:
        return items
    free = list(range(len(items)))
    rng.shuffle(free)
    for g in range(30):
        size = rng.randint(2, 4)
        first = free.pop()
        same_topic = [i for i in free if items[i].topic == items[first].topic]
        others = [i for i in free if items[i].topic != items[first].topic]
        members = [first] + (
            same_topic[: size - 1] if g % 3 else [*same_topic[: size - 2], others[0]]
        )
        for i in members:
            if i in free:
                free.remove(i)
            items[i] = dataclasses.replace(items[i], enemy_group=f"g{g}")
    return items


def blueprint() -> list[BlueprintEntry]:
    return [BlueprintEntry(topic=f"topic-{t}", items=n) for t, n in enumerate(BLUEPRINT)]


def simulate(
    draw: Draw,
    seed: int,
    feed_back: bool,
    pool: list[PoolItem] | None = None,
    bp: list[BlueprintEntry] | None = None,
    tolerance: float = TOLERANCE,
) -> dict[str, float | int]:
    """Draw DRAWS forms; with feed_back each served item's exposure goes up, as in production."""
    pool = list(pool if pool is not None else synthetic_bank(seed))
    bp = bp or blueprint()
    where = {p.version_id: i for i, p in enumerate(pool)}
    served = dict.fromkeys(where, 0)
    rng = random.Random(seed + 1)
    deviations: list[float] = []
    topics = [[i for i, p in enumerate(pool) if p.topic == e.topic] for e in bp]
    group_of = {p.version_id: p.enemy_group for p in pool if p.enemy_group}
    collisions = 0  # forms with two items of one enemy group
    worst_spread = 0
    start = time.perf_counter()
    for _ in range(DRAWS):
        form = draw(bp, pool, rng)
        assert form.expected_score is not None and form.target is not None
        deviations.append(abs(form.expected_score - form.target))
        on_form = [group_of[s.version_id] for s in form.slots if s.version_id in group_of]
        collisions += len(on_form) != len(set(on_form))
        for slot in form.slots:
            served[slot.version_id] += 1
            if feed_back:
                i = where[slot.version_id]
                pool[i] = dataclasses.replace(pool[i], exposure=pool[i].exposure + 1)
        for members in topics:
            counts = [served[pool[i].version_id] for i in members if not pool[i].enemy_group]
            worst_spread = max(worst_spread, max(counts, default=0) - min(counts, default=0))
    seconds = time.perf_counter() - start
    deviations.sort()
    final_spread = ungrouped_spread = 0
    for members in topics:
        counts = [served[pool[i].version_id] for i in members]
        final_spread = max(final_spread, max(counts) - min(counts))
        counts = [served[pool[i].version_id] for i in members if not pool[i].enemy_group]
        ungrouped_spread = max(ungrouped_spread, max(counts, default=0) - min(counts, default=0))
    # the members of one enemy group in one topic share the group's place: they should be
    # served alike (least exposed first among them)
    shares: dict[tuple[str, str], list[int]] = {}
    for p in pool:
        if p.enemy_group:
            shares.setdefault((p.enemy_group, p.topic), []).append(served[p.version_id])
    group_spread = max((max(c) - min(c) for c in shares.values()), default=0)
    return {
        "draws": DRAWS,
        "mean_abs_deviation": round(statistics.fmean(deviations), 5),
        "p95_abs_deviation": round(deviations[math.ceil(0.95 * DRAWS) - 1], 5),
        "max_abs_deviation": round(deviations[-1], 5),
        "share_outside_tolerance": round(sum(d > tolerance for d in deviations) / DRAWS, 4),
        "forms_with_a_group_twice": collisions,
        # Largest max-min of times served within one topic: at the end; at any point and at the
        # end among the items in no enemy group (a group's members share its place on a form).
        "exposure_spread_final": final_spread,
        "exposure_spread_ungrouped_final": ungrouped_spread,
        "exposure_spread_within_group_and_topic": group_spread,
        "exposure_spread_worst": worst_spread,
        "ms_per_draw": round(seconds / DRAWS * 1000, 3),
    }


def shipped_exams() -> dict[str, tuple[list[PoolItem], list[BlueprintEntry], float, int]]:
    """The shipped certifying exams: each one's pool as the engine would build it (fresh: no
    exposure, nothing seen), blueprint, tolerance and number of enemy groups."""
    content = load_content(ROOT / "courses", ROOT / "question_banks")
    exams = {}
    for bank_id, bank in content.banks.items():
        for exam in bank.exams:
            spec = exam.spec
            if not certifying(spec):
                continue
            topics = {e.topic for e in spec.blueprint}
            pool = [
                PoolItem(
                    version_id=n,
                    content_hash=f"{n:064x}",
                    item_key=i.spec.id,
                    topic=i.spec.topic,
                    outcome=i.spec.outcome,
                    angoff=float(i.spec.angoff) if i.spec.angoff is not None else None,
                    exposure=0,
                    seen=False,
                    enemy_group=i.spec.enemy_group,
                )
                for n, i in enumerate(bank.items, start=1)
                if i.spec.pool == spec.pool and i.spec.topic in topics
            ]
            groups = len({p.enemy_group for p in pool if p.enemy_group})
            exams[f"{bank_id}/{spec.id}"] = (
                pool,
                list(spec.blueprint),
                spec.difficulty_tolerance,
                groups,
            )
    return exams


def main() -> None:
    pool = synthetic_bank(SEED)
    target = plain_draw(blueprint(), pool, random.Random(0)).target
    results: dict[str, dict[str, Any]] = {
        "setup": {
            "seed": SEED,
            "bank": f"{TOPICS} topics x {PER_TOPIC} items, Angoff ~ Beta(6, 2.5)",
            "blueprint": BLUEPRINT,
            "tolerance": TOLERANCE,
            "target": round(target or 0.0, 5),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        # Exposure fed back after every draw, as the exam engine does.
        "stratified": simulate(assemble, SEED, feed_back=True),
        "stratified_without_feedback": simulate(assemble, SEED, feed_back=False),
        "plain": simulate(plain_draw, SEED, feed_back=False),
        "stratified_with_enemy_groups": simulate(
            assemble, SEED, feed_back=True, pool=synthetic_bank(SEED, groups=True)
        ),
        # The same bank drawn with no regard to the groups: how often twins would meet.
        "plain_with_enemy_groups": simulate(
            plain_draw, SEED, feed_back=False, pool=synthetic_bank(SEED, groups=True)
        ),
    }
    for name, (pool, bp, tolerance, groups) in shipped_exams().items():
        shipped = simulate(assemble, SEED, feed_back=True, pool=pool, bp=bp, tolerance=tolerance)
        shipped.update(
            items=len(pool),
            enemy_groups=groups,
            tolerance=tolerance,
            form_items=sum(e.items for e in bp),
        )
        results[f"shipped {name}"] = shipped
    print(f"target (blueprint-weighted bank mean): {results['setup']['target']}")
    header = (
        f"{'method':<30}{'mean':>9}{'p95':>9}{'max':>9}{'outside':>9}"
        f"{'spread':>8}{'worst':>7}{'twice':>7}{'ms':>7}"
    )
    print(header)
    for name, r in results.items():
        if name == "setup":
            continue
        print(
            f"{name:<30}{r['mean_abs_deviation']:>9.4f}{r['p95_abs_deviation']:>9.4f}"
            f"{r['max_abs_deviation']:>9.4f}{r['share_outside_tolerance']:>9.2%}"
            f"{r['exposure_spread_final']:>8}{r['exposure_spread_worst']:>7}"
            f"{r['forms_with_a_group_twice']:>7}{r['ms_per_draw']:>7.2f}"
        )
    out = ROOT / "bench" / "form_fairness.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
