"""A small valid content tree written per test, which each test then breaks in one way."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from elearn.content.loader import ContentSet, load_content
from elearn.domain.content import ItemSpec

COURSE = """\
id: demo-course
default_language: nb
languages: [nb, en]
title: {nb: "Demokurs", en: "Demo course"}
summary: {nb: "Et kurs", en: "A course"}
estimated_minutes: 20
exam: demo-exam
outcomes:
  - id: know-goals
    text: {nb: "Kjenne målene", en: "Know the goals"}
modules:
  - 01-intro
  - 02-more
"""

MODULE = """\
---
title: {title}
minutes: 10
outcomes: [know-goals]
---

Innledning med **fet** tekst.

## Del

::: reflection
Hva var nytt?
:::
"""

BANK = """\
id: demo-bank
languages: [nb, en]
title: {nb: "Bank", en: "Bank"}
topics:
  - id: sdgs
    title: {nb: "Mål", en: "Goals"}
"""

ITEMS = """\
items:
  - id: q-1
    topic: sdgs
    type: single_choice
    key: b
    source: "A/RES/70/1"
    text:
      nb:
        stem: "Hvor mange delmål?"
        options: {a: "17", b: "169"}
      en:
        stem: "How many targets?"
        options: {a: "17", b: "169"}
  - id: q-2
    topic: sdgs
    type: true_false
    key: true
    source: "A/RES/70/1"
    text:
      nb: {stem: "Det er 17 mål."}
      en: {stem: "There are 17 goals."}
"""

EXAM = """\
id: demo-exam
title: {nb: "Prøve", en: "Test"}
course: demo-course
time_limit_minutes: 10
blueprint:
  - topic: sdgs
    items: 2
pass_rules:
  overall_percent: 75
  topics: {sdgs: 80}
"""


class Tree:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def replace(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def load(self) -> ContentSet:
        return load_content(self.root / "courses", self.root / "question_banks", self.root)

    def messages(self) -> list[str]:
        return [str(p) for p in self.load().problems]


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    t = Tree(tmp_path)
    t.write("courses/demo-course/course.yaml", COURSE)
    for module in ("01-intro", "02-more"):
        for lang, title in (("nb", "Innledning"), ("en", "Introduction")):
            t.write(f"courses/demo-course/modules/{module}.{lang}.md", MODULE.format(title=title))
    t.write("question_banks/demo-bank/bank.yaml", BANK)
    t.write("question_banks/demo-bank/items/sdgs.yaml", ITEMS)
    t.write("question_banks/demo-bank/exams/demo-exam.yaml", EXAM)
    return t


def item(type_: str, key: Any, **text: Any) -> ItemSpec:
    """A one-off item of a type, with the same text in nb and en."""
    body = {"stem": "Q", **text}
    return ItemSpec.model_validate(
        {
            "id": "x",
            "topic": "t",
            "type": type_,
            "key": key,
            "source": "s",
            "text": {"nb": body, "en": body},
        }
    )
