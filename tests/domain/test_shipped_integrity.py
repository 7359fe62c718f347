"""Each leaking configuration, made on a copy of the shipped content tree, is refused by the
content check with the file and line to fix; the shipped tree itself passes."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from elearn.content.loader import ContentSet, load_content

ROOT = Path(__file__).resolve().parents[2]
BANK = "question_banks/soa-baerekraft"
CERTIFICATION = f"{BANK}/exams/soa-baerekraft-sertifisering.yaml"
PRACTICE = f"{BANK}/exams/soa-baerekraft-ovingsprove.yaml"
KNOWLEDGE = f"{BANK}/exams/sdg-basics.yaml"


class Copy:
    def __init__(self, root: Path) -> None:
        self.root = root

    def text(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def replace(self, rel: str, old: str, new: str) -> None:
        text = self.text(rel)
        assert old in text, f"{old!r} not in {rel}"
        (self.root / rel).write_text(text.replace(old, new, 1), encoding="utf-8")

    def line_of(self, rel: str, start: str) -> int:
        """The number of the first line of ``rel`` that starts with ``start``."""
        lines = self.text(rel).splitlines()
        return next(n for n, line in enumerate(lines, start=1) if line.startswith(start))

    def load(self) -> ContentSet:
        return load_content(self.root / "courses", self.root / "question_banks", self.root)

    def exams(self, content: ContentSet) -> set[str]:
        return {e.spec.id for e in content.banks["soa-baerekraft"].exams}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shipped")
    shutil.copytree(ROOT / "courses", root / "courses")
    shutil.copytree(ROOT / "question_banks", root / "question_banks")
    return root


@pytest.fixture
def copy(pristine: Path, tmp_path: Path) -> Iterator[Copy]:
    shutil.copytree(pristine, tmp_path / "tree")
    yield Copy(tmp_path / "tree")


def messages(content: ContentSet) -> list[str]:
    return [str(p) for p in content.problems]


def test_the_shipped_tree_passes(copy: Copy) -> None:
    content = copy.load()
    assert messages(content) == []
    assert copy.exams(content) == {
        "soa-baerekraft-sertifisering",
        "soa-baerekraft-ovingsprove",
        "sdg-basics",
    }


@pytest.mark.parametrize("exam", [PRACTICE, KNOWLEDGE])
def test_a_practice_exam_on_the_certification_pool_is_refused(copy: Copy, exam: str) -> None:
    copy.replace(exam, "pool: practice\n", "")  # back on the bank's main pool
    content = copy.load()
    problems = messages(content)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{exam}:1: draws from the main pool of bank 'soa-baerekraft'")
    assert "certifying exam 'soa-baerekraft-sertifisering' draws from" in problems[0]
    assert "shows answers after an attempt" in problems[0]
    assert "soa-baerekraft-sertifisering" in copy.exams(content)
    assert Path(exam).stem not in copy.exams(content)


def test_a_practice_exam_that_stops_showing_answers_but_has_no_limit_is_refused(
    copy: Copy,
) -> None:
    copy.replace(PRACTICE, "pool: practice\n", "")
    copy.replace(PRACTICE, "review: answers", "review: topics")
    line = copy.line_of(PRACTICE, "id:")  # no pool key any more: the exam's first line
    assert messages(copy.load()) == [
        f"{PRACTICE}:{line}: draws from the main pool of bank 'soa-baerekraft', which the "
        "certifying exam 'soa-baerekraft-sertifisering' draws from, and has no attempt limit: "
        "its attempts would hand out the certification keys (give it a pool of its own)"
    ]


def test_a_limited_exam_that_shows_nothing_may_share_the_pool(copy: Copy) -> None:
    """The safe way to offer a second exam on the certification pool."""
    copy.replace(PRACTICE, "pool: practice\n", "")
    copy.replace(PRACTICE, "review: answers", "review: topics")
    copy.replace(PRACTICE, "max: null", "max: 2")
    content = copy.load()
    assert messages(content) == []
    assert "soa-baerekraft-ovingsprove" in copy.exams(content)


@pytest.mark.parametrize("review", ["answers", "correctness"])
def test_the_certification_exam_may_not_reveal_answers(copy: Copy, review: str) -> None:
    copy.replace(CERTIFICATION, "review: topics", f"review: {review}")
    line = copy.line_of(CERTIFICATION, "review:")
    content = copy.load()
    assert messages(content) == [
        f"{CERTIFICATION}:{line}: a certifying exam may not show {review} after an attempt: "
        "every candidate would take keys away (a true/false item's correctness is its key) and "
        "a retake would be easier (use 'topics')"
    ]
    assert "soa-baerekraft-sertifisering" not in copy.exams(content)


def test_the_knowledge_test_may_not_issue_certificates_while_it_shows_answers(
    copy: Copy,
) -> None:
    copy.replace(KNOWLEDGE, "issue: false", "issue: true")
    line = copy.line_of(KNOWLEDGE, "review:")
    problems = messages(copy.load())
    assert f"{KNOWLEDGE}:{line}: a certifying exam may not show answers after an attempt" in (
        problems[0] if problems else ""
    )


def _first_certification_item(copy: Copy) -> dict[str, object]:
    items = yaml.safe_load(copy.text(f"{BANK}/items/legal.yaml"))["items"]
    return next(i for i in items if not i.get("pool") and i["type"] == "single_choice")


def _add_practice_item(copy: Copy, stems: dict[str, str], item: dict[str, object]) -> str:
    """Append a practice-pool copy of ``item`` with these stems to the practice items of legal;
    return the file it went to."""
    practice = sorted((copy.root / BANK / "items").glob("practice-*legal*.yaml"))
    rel = str(practice[0].relative_to(copy.root)) if practice else f"{BANK}/items/legal.yaml"
    twin = dict(item, id="harvest-twin", pool="practice")
    twin.pop("enemy_group", None)
    texts = twin["text"]
    assert isinstance(texts, dict)
    twin["text"] = {lang: dict(texts[lang], stem=stems[lang]) for lang in texts}
    entry = yaml.safe_dump([twin], allow_unicode=True, sort_keys=False)
    path = copy.root / rel
    path.write_text(
        path.read_text(encoding="utf-8").rstrip("\n")
        + "\n"
        + "".join(f"  {line}\n" for line in entry.splitlines()),
        encoding="utf-8",
    )
    return rel


def test_a_certification_item_copied_into_the_practice_pool_is_refused(copy: Copy) -> None:
    item = _first_certification_item(copy)
    texts = item["text"]
    assert isinstance(texts, dict)
    rel = _add_practice_item(copy, {lang: t["stem"] for lang, t in texts.items()}, item)
    line = copy.line_of(rel, "  - id: harvest-twin")
    problems = messages(copy.load())
    assert len(problems) == 1, problems
    assert problems[0].startswith(
        f"{rel}:{line}: item 'harvest-twin' is a near-duplicate of certification item "
        f"'soa-baerekraft/{item['id']}'"
    ), problems


def test_a_reworded_certification_item_in_the_practice_pool_is_refused(copy: Copy) -> None:
    item = _first_certification_item(copy)
    texts = item["text"]
    assert isinstance(texts, dict)
    reworded = {
        lang: "Om: " + t["stem"].replace("?", "").replace(".", "") + " – hva stemmer?"
        for lang, t in texts.items()
    }
    _add_practice_item(copy, reworded, item)
    problems = messages(copy.load())
    assert len(problems) == 1 and "near-duplicate of certification item" in problems[0], problems


def test_a_knowledge_check_item_copied_from_the_certification_bank_is_refused(
    copy: Copy,
) -> None:
    item = _first_certification_item(copy)
    bank = "question_banks/practice-procurement-rules-basics"
    rel = f"{bank}/items/module-1.yaml"
    topic = yaml.safe_load(copy.text(rel))["items"][0]["topic"]
    twin = dict(item, id="copied-from-exam", topic=topic)
    twin.pop("enemy_group", None)
    twin.pop("outcome", None)
    twin["text"] = {lang: t for lang, t in twin["text"].items()}  # type: ignore[attr-defined]
    entry = yaml.safe_dump([twin], allow_unicode=True, sort_keys=False)
    path = copy.root / rel
    path.write_text(
        path.read_text(encoding="utf-8").rstrip("\n")
        + "\n"
        + "".join(f"  {line}\n" for line in entry.splitlines()),
        encoding="utf-8",
    )
    problems = messages(copy.load())
    assert any(
        p.startswith(rel) and "'copied-from-exam' is a near-duplicate of certification item" in p
        for p in problems
    ), problems


def test_enemy_groups_that_empty_a_topic_refuse_the_certification_blueprint(copy: Copy) -> None:
    # every item of the topic in one group: one of them per form at most, and the form asks 2
    # (the topic's certification items are in more than one file: every one is rewritten)
    files = sorted((copy.root / BANK / "items").glob("*.yaml"))
    rewritten = 0
    for path in files:
        if path.name.startswith("practice-"):
            continue
        rel = str(path.relative_to(copy.root))
        if "    topic: contract-management\n" not in copy.text(rel):
            continue
        text = re.sub(r"    enemy_group: .*\n", "", copy.text(rel)).replace(
            "    topic: contract-management\n",
            "    topic: contract-management\n    enemy_group: all-contract\n",
        )
        path.write_text(text, encoding="utf-8")
        rewritten += 1
    assert rewritten >= 1
    content = copy.load()
    line = copy.line_of(CERTIFICATION, "  - {topic: contract-management")
    assert messages(content) == [
        f"{CERTIFICATION}:{line}: topic 'contract-management' asks for 2 items, but with its "
        "enemy groups (all-contract) at most 1 can share a form"
    ]
    assert "soa-baerekraft-sertifisering" not in copy.exams(content)
