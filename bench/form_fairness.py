"""Simulates 10,000 exam forms per method to show the stratified draw keeps every form fair."""

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

from elearn.domain.assembly import Form, PoolItem, assemble, plain_draw  # noqa: E402
from elearn.domain.content import BlueprintEntry  # noqa: E402

SEED = 20240601
DRAWS = 10_000
TOLERANCE = 0.03
TOPICS = 8
PER_TOPIC = 25
BLUEPRINT = [8, 4, 6, 8, 4, 6, 2, 2]

Draw = Callable[[Sequence[BlueprintEntry], Sequence[PoolItem], random.Random], Form]


def synthetic_bank(seed: int) -> list[PoolItem]:
    """8 topics of 25 items, Angoff ratings skewed easy as real banks are (Beta(6, 2.5))."""
    rng = random.Random(seed)
    return [
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


def blueprint() -> list[BlueprintEntry]:
    return [BlueprintEntry(topic=f"topic-{t}", items=n) for t, n in enumerate(BLUEPRINT)]


def simulate(draw: Draw, seed: int, feed_back: bool) -> dict[str, float | int]:
    """Draw DRAWS forms; with feed_back each served item's exposure goes up, as in production."""
    pool = synthetic_bank(seed)
    where = {p.version_id: i for i, p in enumerate(pool)}
    served = dict.fromkeys(where, 0)
    rng = random.Random(seed + 1)
    bp = blueprint()
    deviations: list[float] = []
    topics = [[i for i, p in enumerate(pool) if p.topic == f"topic-{t}"] for t in range(TOPICS)]
    worst_spread = 0
    start = time.perf_counter()
    for _ in range(DRAWS):
        form = draw(bp, pool, rng)
        assert form.expected_score is not None and form.target is not None
        deviations.append(abs(form.expected_score - form.target))
        for slot in form.slots:
            served[slot.version_id] += 1
            if feed_back:
                i = where[slot.version_id]
                pool[i] = dataclasses.replace(pool[i], exposure=pool[i].exposure + 1)
        for members in topics:
            counts = [served[pool[i].version_id] for i in members]
            worst_spread = max(worst_spread, max(counts) - min(counts))
    seconds = time.perf_counter() - start
    deviations.sort()
    final_spread = 0
    for members in topics:
        counts = [served[pool[i].version_id] for i in members]
        final_spread = max(final_spread, max(counts) - min(counts))
    return {
        "draws": DRAWS,
        "mean_abs_deviation": round(statistics.fmean(deviations), 5),
        "p95_abs_deviation": round(deviations[math.ceil(0.95 * DRAWS) - 1], 5),
        "max_abs_deviation": round(deviations[-1], 5),
        "share_outside_tolerance": round(sum(d > TOLERANCE for d in deviations) / DRAWS, 4),
        # Largest max-min of times served within one topic: at the end, and at any point.
        "exposure_spread_final": final_spread,
        "exposure_spread_worst": worst_spread,
        "ms_per_draw": round(seconds / DRAWS * 1000, 3),
    }


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
    }
    print(f"target (blueprint-weighted bank mean): {results['setup']['target']}")
    header = (
        f"{'method':<30}{'mean':>9}{'p95':>9}{'max':>9}{'outside':>9}"
        f"{'spread':>8}{'worst':>7}{'ms':>7}"
    )
    print(header)
    for name in ("stratified", "stratified_without_feedback", "plain"):
        r = results[name]
        print(
            f"{name:<30}{r['mean_abs_deviation']:>9.4f}{r['p95_abs_deviation']:>9.4f}"
            f"{r['max_abs_deviation']:>9.4f}{r['share_outside_tolerance']:>9.2%}"
            f"{r['exposure_spread_final']:>8}{r['exposure_spread_worst']:>7}"
            f"{r['ms_per_draw']:>7.2f}"
        )
    out = ROOT / "bench" / "form_fairness.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
