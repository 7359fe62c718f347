"""Content that would let a practice exam or a knowledge check hand out certification keys, or
put twins on one form, is refused (or warned about) with its file and line."""

from __future__ import annotations

import pytest

from elearn.content.integrity import similar_in_banks
from elearn.domain.similarity import DEFAULT_THRESHOLD
from tests.domain.conftest import Tree

EXAM = "question_banks/demo-bank/exams/demo-exam.yaml"
ITEMS = "question_banks/demo-bank/items/sdgs.yaml"
PRACTICE_EXAM = """\
id: demo-practice
title: {nb: "Øving", en: "Practice"}
time_limit_minutes: 10
blueprint:
  - topic: sdgs
    items: 2
pass_rules:
  overall_percent: 50
review: answers
certificate: {issue: false}
"""
MORE_ITEMS = """\
items:
  - id: p-1
    topic: sdgs
    type: true_false
    key: false
    pool: practice
    source: "A/RES/70/1"
    text:
      nb: {stem: "Agenda 2030 ble vedtatt i 2001."}
      en: {stem: "The 2030 Agenda was adopted in 2001."}
  - id: p-2
    topic: sdgs
    type: true_false
    key: true
    pool: practice
    source: "A/RES/70/1"
    text:
      nb: {stem: "Mål 12 handler om ansvarlig forbruk og produksjon."}
      en: {stem: "Goal 12 is about responsible consumption and production."}
"""


def practice_exam(tree: Tree, **changes: str) -> None:
    text = PRACTICE_EXAM
    for old, new in changes.items():
        text = text.replace(old, new)
    tree.write("question_banks/demo-bank/exams/demo-practice.yaml", text)


def test_a_practice_exam_that_shows_answers_may_not_share_the_certifying_pool(tree: Tree) -> None:
    practice_exam(tree)
    content = tree.load()
    assert [str(p) for p in content.problems] == [
        "question_banks/demo-bank/exams/demo-practice.yaml:1: draws from the main pool of "
        "bank 'demo-bank', which the certifying exam 'demo-exam' draws from, and shows answers "
        "after an attempt: its attempts would hand out the certification keys (give it a pool "
        "of its own)"
    ]
    assert [e.spec.id for e in content.banks["demo-bank"].exams] == ["demo-exam"]  # refused


def test_showing_correctness_or_allowing_endless_attempts_is_refused_too(tree: Tree) -> None:
    practice_exam(tree, **{"review: answers": "review: correctness"})
    assert "shows correctness after an attempt" in tree.messages()[0]
    practice_exam(tree, **{"review: answers": "review: topics"})
    assert "has no attempt limit" in tree.messages()[0]
    practice_exam(tree, **{"review: answers": "review: topics\nattempts: {max: 2}"})
    assert tree.messages() == []  # shows only topic scores, twice: nothing to harvest


def test_a_practice_exam_with_a_pool_of_its_own_is_accepted(tree: Tree) -> None:
    tree.write("question_banks/demo-bank/items/practice.yaml", MORE_ITEMS)
    practice_exam(tree, **{"time_limit_minutes": "pool: practice\ntime_limit_minutes"})
    content = tree.load()
    assert [str(p) for p in content.problems] == []
    assert {e.spec.id for e in content.banks["demo-bank"].exams} == {"demo-exam", "demo-practice"}
    # The certifying exam draws from the main pool only: the practice items are not in it.
    practice_exam(tree, **{"time_limit_minutes": "pool: practice\ntime_limit_minutes"})
    tree.replace(EXAM, "items: 2", "items: 3")
    assert tree.messages() == [
        f"{EXAM}:7: asks for 3 items of topic 'sdgs' but the bank's main pool holds 2"
    ]


@pytest.mark.parametrize("review", ["answers", "correctness"])
def test_a_certifying_exam_may_not_show_answers_or_correctness(tree: Tree, review: str) -> None:
    tree.replace(EXAM, "pass_rules:", f"review: {review}\npass_rules:")
    assert tree.messages() == [
        f"{EXAM}:8: a certifying exam may not show {review} after an attempt: every candidate "
        "would take keys away (a true/false item's correctness is its key) and a retake would be "
        "easier (use 'topics')"
    ]
    assert [e.spec.id for e in tree.load().banks["demo-bank"].exams] == []


def test_enemy_groups_that_leave_a_topic_short_refuse_the_blueprint(tree: Tree) -> None:
    tree.replace(
        ITEMS, '    source: "A/RES/70/1"', '    enemy_group: goals\n    source: "A/RES/70/1"'
    )
    tree.replace(
        ITEMS,
        '    key: true\n    source: "A/RES/70/1"',
        '    key: true\n    enemy_group: goals\n    source: "A/RES/70/1"',
    )
    messages = tree.messages()
    assert messages == [
        f"{EXAM}:7: topic 'sdgs' asks for 2 items, but with its enemy groups (goals) at most 1 "
        "can share a form"
    ]


TWIN = """\
  - id: q-3
    topic: sdgs
    type: single_choice
    key: b
    source: "A/RES/70/1"
    text:
      nb:
        stem: "Hvor mange delmål har bærekraftsmålene?"
        options: {a: "17", b: "169"}
      en:
        stem: "How many targets do the goals have?"
        options: {a: "17", b: "169"}
"""


def test_look_alike_items_are_warned_about_until_grouped_or_reviewed(tree: Tree) -> None:
    tree.write(ITEMS, (tree.root / ITEMS).read_text() + TWIN)
    content = tree.load()
    assert content.problems == []
    assert [w.message.split(":")[0] for w in content.warnings] == [
        "items 'q-1' and 'q-3' of the bank's main pool look alike (en, similarity 0.56)"
    ]
    assert content.warnings[0].path == ITEMS and content.warnings[0].line == 2
    rows = similar_in_banks(content, DEFAULT_THRESHOLD)
    assert [(r.a, r.b, r.kept_apart) for r in rows] == [("q-1", "q-3", None)]
    tree.write("question_banks/demo-bank/similar.yaml", "distinct:\n  - [q-1, q-3]  # counts\n")
    content = tree.load()
    assert content.warnings == [] and content.problems == []
    assert [r.kept_apart for r in similar_in_banks(content, DEFAULT_THRESHOLD)] == [
        "reviewed distinct"
    ]


def test_a_reviewed_pair_must_name_items_that_exist(tree: Tree) -> None:
    tree.write("question_banks/demo-bank/similar.yaml", "distinct:\n  - [q-1, q-9]\n  - [q-1]\n")
    assert tree.messages() == [
        "question_banks/demo-bank/similar.yaml:2: unknown item(s): demo-bank/q-9",
        "question_banks/demo-bank/similar.yaml:3: a pair is two different item ids",
    ]


PRACTICE_BANK = """\
id: demo-practice-bank
languages: [nb, en]
title: {nb: "Øving", en: "Practice"}
topics:
  - id: m1
    title: {nb: "Modul", en: "Module"}
"""


def test_a_knowledge_check_twin_of_a_certification_item_is_refused(tree: Tree) -> None:
    tree.write("question_banks/demo-practice-bank/bank.yaml", PRACTICE_BANK)
    twin = TWIN.replace("topic: sdgs", "topic: m1").replace("q-3", "check-1")
    tree.write("question_banks/demo-practice-bank/items/m1.yaml", "items:\n" + twin)
    tree.replace(
        "courses/demo-course/course.yaml",
        "exam: demo-exam",
        "exam: demo-exam\npractice_bank: demo-practice-bank",
    )
    content = tree.load()
    assert [str(p) for p in content.problems] == [
        "question_banks/demo-practice-bank/items/m1.yaml:2: item 'check-1' is a near-duplicate "
        "of certification item 'demo-bank/q-1' (en, similarity 0.56): a practice pool would hand "
        "out its key (rewrite it, or list the pair under 'distinct' in the bank's similar.yaml "
        "after review)"
    ]
    assert content.banks["demo-practice-bank"].items == []  # the file is refused
    tree.write(
        "question_banks/demo-practice-bank/similar.yaml",
        "distinct:\n  - [check-1, demo-bank/q-1]\n",
    )
    assert tree.messages() == []
