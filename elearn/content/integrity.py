"""Checks across files that keep the exams valid, run when content is loaded.

Refused (a problem, and the unit left out, as with any other problem):

- an exam that can be harvested (it shows correctness or answers, or has no attempt limit) and
  draws from a pool a certifying exam draws from; a certifying exam that shows answers;
- a blueprint that the enemy groups of its pool make impossible to fill;
- an item of a practice pool (a harvestable exam's pool, or a course's knowledge checks) that
  is a near-duplicate of an item of a certification pool, unless a reviewer listed the pair as
  distinct in the bank's ``similar.yaml``.

Warned (shown by ``content check``, not refused): two items of one bank that look like twins
(:mod:`elearn.domain.similarity`) and share no enemy group, unless listed as distinct.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from elearn.domain.content import pool_name
from elearn.domain.integrity import PlacedExam, Pool, exposure_problems, fillable, harvest_pools
from elearn.domain.problems import Problem
from elearn.domain.similarity import DEFAULT_THRESHOLD, similar_pairs

if TYPE_CHECKING:  # the loader calls these checks: only its types are needed here
    from elearn.content.loader import ContentSet, LoadedItem


def check_integrity(content: ContentSet, threshold: float = DEFAULT_THRESHOLD) -> None:
    """Add the problems and warnings of the rules above to ``content``; drop what is refused."""
    _exposure(content)
    _enemy_groups(content)
    _practice_twins(content, threshold)
    _bank_twins(content, threshold)


def _placed(content: ContentSet) -> list[PlacedExam]:
    return [PlacedExam(b, e.spec) for b, bank in content.banks.items() for e in bank.exams]


def _exposure(content: ContentSet) -> None:
    found = exposure_problems(_placed(content))
    for bank in content.banks.values():
        for exam in list(bank.exams):
            for problem in found.get(exam.spec.id, []):
                key = problem.loc[0]
                line = exam.line(str(key)) if exam.doc and key in exam.doc.data else exam.line("id")
                content.problems.append(Problem(exam.path, line, problem.message))
            if exam.spec.id in found:
                bank.exams.remove(exam)


def _pool_items(content: ContentSet, pool: Pool) -> list[LoadedItem]:
    bank = content.banks.get(pool[0])
    return [i for i in bank.items if i.spec.pool == pool[1]] if bank else []


def _enemy_groups(content: ContentSet) -> None:
    for bank_id, bank in content.banks.items():
        for exam in list(bank.exams):
            items = [i.spec for i in _pool_items(content, (bank_id, exam.spec.pool))]
            problems = fillable(exam.spec, items)
            for problem in problems:
                content.problems.append(
                    Problem(exam.path, exam.line(*problem.loc), problem.message)
                )
            if problems:
                bank.exams.remove(exam)


def _named(bank: str, item: LoadedItem) -> tuple[str, LoadedItem]:
    return (f"{bank}/{item.spec.id}", item)


def _practice_twins(content: ContentSet, threshold: float) -> None:
    """A practice item that is a near-duplicate of a certification item is refused with its file."""
    practice, certification = harvest_pools(_placed(content))
    practice |= {
        (c.spec.practice_bank, None) for c in content.courses.values() if c.spec.practice_bank
    }
    practice -= certification  # a pool that certifies is judged by the exposure rule above
    if not practice or not certification:
        return
    left = [_named(p[0], i) for p in sorted(practice, key=str) for i in _pool_items(content, p)]
    right = [
        _named(c[0], i) for c in sorted(certification, key=str) for i in _pool_items(content, c)
    ]
    by_name = dict(left)
    distinct = set().union(*(b.distinct for b in content.banks.values()))
    refused: set[tuple[str, str]] = set()
    for twin in similar_pairs(
        [(n, i.spec) for n, i in left], threshold, [(n, i.spec) for n, i in right]
    ):
        if frozenset((twin.a, twin.b)) in distinct:
            continue
        item = by_name[twin.a]
        bank_id = twin.a.split("/", 1)[0]
        content.problems.append(
            Problem(
                item.path,
                item.line,
                f"item '{item.spec.id}' is a near-duplicate of certification item '{twin.b}' "
                f"({twin.lang}, similarity {twin.score:.2f}): a practice pool would hand out its "
                "key (rewrite it, or list the pair under 'distinct' in the bank's similar.yaml "
                "after review)",
            )
        )
        refused.add((bank_id, item.path))
    for bank_id, path in refused:
        bank = content.banks[bank_id]
        bank.items = [i for i in bank.items if i.path != path]
        bank.refused_item_files.append(path)


@dataclass(frozen=True)
class SimilarPair:
    """Two look-alike items of one pool, and how they are kept apart (None: not at all)."""

    bank: str
    pool: str | None
    a: str
    b: str
    score: float
    lang: str
    kept_apart: str | None


def similar_in_banks(content: ContentSet, threshold: float) -> list[SimilarPair]:
    """Every look-alike pair within a pool of a bank (what ``content similar`` lists)."""
    rows: list[SimilarPair] = []
    for bank_id, bank in content.banks.items():
        by_pool: dict[str | None, list[LoadedItem]] = {}
        for item in bank.items:
            by_pool.setdefault(item.spec.pool, []).append(item)
        for pool, items in by_pool.items():
            named = dict(_named(bank_id, i) for i in items)
            for twin in similar_pairs([(n, i.spec) for n, i in named.items()], threshold):
                a, b = named[twin.a].spec, named[twin.b].spec
                kept = (
                    f"enemy group {a.enemy_group}"
                    if a.enemy_group and a.enemy_group == b.enemy_group
                    else "reviewed distinct"
                    if frozenset((twin.a, twin.b)) in bank.distinct
                    else None
                )
                rows.append(SimilarPair(bank_id, pool, a.id, b.id, twin.score, twin.lang, kept))
    return rows


def _bank_twins(content: ContentSet, threshold: float) -> None:
    """Warn about look-alike items of one bank and pool that nothing keeps apart."""
    for row in similar_in_banks(content, threshold):
        if row.kept_apart:
            continue
        item = next(i for i in content.banks[row.bank].items if i.spec.id == row.a)
        content.warnings.append(
            Problem(
                item.path,
                item.line,
                f"items '{row.a}' and '{row.b}' of the {pool_name(row.pool)} look alike "
                f"({row.lang}, similarity {row.score:.2f}): if they ask the same thing, give "
                "them one enemy_group; if not, list them under 'distinct' in similar.yaml",
            )
        )
