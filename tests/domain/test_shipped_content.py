"""The content that ships: every course, the certification bank and its exams, as issue 6 asks."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from elearn.content.loader import ContentSet, load_content
from elearn.content.markdown import outline
from elearn.domain.lint import lint_items

ROOT = Path(__file__).resolve().parents[2]
BANK = "soa-baerekraft"
CERTIFICATION = "soa-baerekraft-sertifisering"
PRACTICE = "soa-baerekraft-ovingsprove"
# "All/none of the above" in the three languages: never an option.
BANNED = re.compile(
    r"alle de ovennevnte|ingen av de ovennevnte|all of the above|none of the above|"
    r"alle ovenstående|ingen af ovenstående",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def content() -> ContentSet:
    return load_content(ROOT / "courses", ROOT / "question_banks", ROOT)


def test_everything_shipped_passes_the_check(content: ContentSet) -> None:
    assert [str(p) for p in content.problems] == []


def test_every_module_has_a_reflection_and_a_knowledge_check(content: ContentSet) -> None:
    assert len(content.courses) == 7
    assert all(course.modules for course in content.courses.values())
    for course in content.courses.values():
        for module in course.modules:
            for lang, body in module.body.items():
                assert outline(body).reflection_lines, (course.spec.id, module.id, lang)
            assert module.check, (course.spec.id, module.id)


def test_the_bank_holds_five_times_each_topic_of_the_certification_form(
    content: ContentSet,
) -> None:
    bank = content.banks[BANK]
    exams = {e.spec.id: e.spec for e in bank.exams}
    certification = exams[CERTIFICATION]
    by_topic = Counter(i.spec.topic for i in bank.items)
    assert sum(e.items for e in certification.blueprint) == 40
    for entry in certification.blueprint:
        assert by_topic[entry.topic] >= 5 * entry.items, (entry.topic, by_topic[entry.topic])
    assert len(bank.items) >= 200


def test_certification_and_practice_exam_rules(content: ContentSet) -> None:
    exams = {e.spec.id: e.spec for e in content.banks[BANK].exams}
    cert, practice = exams[CERTIFICATION], exams[PRACTICE]
    assert (cert.time_limit_minutes, cert.pass_rules.overall_percent) == (60, 75)
    assert cert.pass_rules.topics == {"legal": 80, "climate-environment": 80}
    assert cert.attempts.cooldown_days == 14 and cert.sign_off and cert.review == "topics"
    assert cert.certificate.issue
    assert sum(e.items for e in practice.blueprint) == 20
    assert practice.review == "answers" and not practice.certificate.issue


def test_items_are_complete_in_both_languages(content: ContentSet) -> None:
    bank = content.banks[BANK]
    assert len(bank.items) >= 200
    for loaded in bank.items:
        item = loaded.spec
        assert set(item.text) == {"nb", "en"}, item.id
        assert item.angoff is not None and item.difficulty is not None, item.id
        for text in item.text.values():
            assert text.feedback, item.id
            words = " ".join([text.stem, *(text.options or {}).values()])
            assert not BANNED.search(words), item.id
        options = [list(t.options or {}) for t in item.text.values()]
        assert options[0] == options[1], item.id


def test_the_mix_of_item_types(content: ContentSet) -> None:
    items = content.banks[BANK].items
    by_type = Counter(i.spec.type for i in items)
    assert {"single_choice", "multiple_response", "true_false", "numeric", "matching"} <= set(
        by_type
    )
    numeric_lcc = [i for i in items if i.spec.type == "numeric" and i.spec.topic == "lcc"]
    assert len(numeric_lcc) >= 15


def test_legal_items_are_dated(content: ContentSet) -> None:
    undated = [
        i.spec.id
        for i in content.banks[BANK].items
        if i.spec.topic == "legal" and i.spec.as_of is None
    ]
    # Law changes: almost every legal item says when its fact held.
    assert len(undated) <= 5, undated


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_certification_pool_gives_no_cue_the_lint_measures(
    content: ContentSet, lang: str
) -> None:
    # Issue 18: the main pool (what the certification exam draws) and the whole bank stay within
    # the lint's limits: the key longest in at most 30 % of single-choice items, absolute words
    # not only in distractors, key positions 20-30 %, negative stems in capitals.
    items = content.banks[BANK].items
    main = [i.spec for i in items if (i.spec.pool or "main") == "main"]
    for chosen in (main, [i.spec for i in items]):
        lint = lint_items(chosen, lang)
        assert lint.findings == [], lint.findings


def test_every_numeric_item_says_how_to_write_the_answer(content: ContentSet) -> None:
    # Issue 18: each language states the same format and tolerance ("The answer must be exact",
    # or the tolerance in words), so no language leaves the candidate guessing.
    marks = {"nb": ("nøyaktig", "godtas"), "en": ("exact", "accepted")}
    silent = [
        (i.spec.id, lang)
        for i in content.banks[BANK].items
        if i.spec.type == "numeric" and (i.spec.pool or "main") == "main"
        for lang, text in i.spec.text.items()
        if not any(m in text.stem for m in marks.get(lang, ()))
    ]
    assert silent == []
