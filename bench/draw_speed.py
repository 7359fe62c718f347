"""Times assemble() on a 40-item form from a 2,000-item bank: the draw runs on every exam start."""

from __future__ import annotations

import json
import math
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from elearn.domain.assembly import PoolItem, assemble  # noqa: E402
from elearn.domain.content import BlueprintEntry  # noqa: E402

SEED = 20240601
TOPICS = 8
PER_TOPIC = 250
BLUEPRINT = [8, 4, 6, 8, 4, 6, 2, 2]
WARMUP = 100
REPETITIONS = 1_000


def synthetic_bank(rng: random.Random) -> list[PoolItem]:
    """A bank that looks lived-in: mixed exposure, a few seen items, some unrated, some pinned."""
    pool: list[PoolItem] = []
    for t in range(TOPICS):
        for i in range(PER_TOPIC):
            version = t * PER_TOPIC + i + 1
            rated = rng.random() < 0.9
            pinned = rng.random() < 0.2
            options = ("a", "b", "c", "none") if pinned else ("a", "b", "c", "d")
            pool.append(
                PoolItem(
                    version_id=version,
                    content_hash=f"{version:064x}",
                    item_key=f"t{t}-q{i}",
                    topic=f"topic-{t}",
                    outcome=f"o{i % 3}",
                    angoff=round(rng.betavariate(6, 2.5), 2) if rated else None,
                    exposure=rng.randrange(50),
                    seen=rng.random() < 0.05,
                    options=options,
                    pinned=frozenset({"none"}) if pinned else frozenset(),
                )
            )
    return pool


def main() -> None:
    rng = random.Random(SEED)
    pool = synthetic_bank(rng)
    blueprint = [BlueprintEntry(topic=f"topic-{t}", items=n) for t, n in enumerate(BLUEPRINT)]
    # One topic with outcome minima, so that path is timed too.
    blueprint[0] = BlueprintEntry(topic="topic-0", items=8, outcomes={"o0": 2, "o1": 2})
    for _ in range(WARMUP):
        assemble(blueprint, pool, rng)
    times: list[float] = []
    for _ in range(REPETITIONS):
        start = time.perf_counter()
        assemble(blueprint, pool, rng)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    result = {
        "bank_items": len(pool),
        "form_items": sum(BLUEPRINT),
        "topics": TOPICS,
        "repetitions": REPETITIONS,
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[math.ceil(0.95 * len(times)) - 1], 3),
        "max_ms": round(times[-1], 3),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    print(
        f"assemble: {result['form_items']} items from {result['bank_items']}, "
        f"{REPETITIONS} runs: median {result['median_ms']} ms, p95 {result['p95_ms']} ms, "
        f"max {result['max_ms']} ms (Python {result['python']}, {result['cpus']} cores)"
    )
    out = ROOT / "bench" / "draw_speed.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
