"""A candidate who wants the certification keys takes every practice and knowledge exam the
shipped content offers, up to 50 times each (waiting out every cooldown), works through every
course's knowledge checks, and keeps what the pages reveal: the questions and their right answers.
None of it is a certification item, nor a near-duplicate of one.

The harvester reads only the pages, as a candidate would; the content is read only to know what
the certification items are."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from elearn.content.loader import load_content
from elearn.db import engine_of
from elearn.domain.integrity import PlacedExam, certifying, harvest_pools
from elearn.domain.similarity import DEFAULT_THRESHOLD, similar_pairs
from elearn.models import ExamAttempt, User
from tests.conftest import english_client, login, post

ATTEMPTS = 50
LEARNER = "learner@example.org"


class Revealed(HTMLParser):
    """The questions on a page and the right answers shown with them, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[dict[str, list[str]]] = []
        self._open: list[str | None] = []  # per open element: what its text belongs to

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        part = None
        if "stem" in classes or (a.get("id") or "").endswith("stem"):
            part = "stem"
            self.blocks.append({"stem": [], "key": []})
        elif "item-key" in classes:
            part = "key"
        if tag in ("br", "img", "input", "meta", "link", "hr"):
            return
        self._open.append(part)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        part = next((p for p in reversed(self._open) if p), None)
        if part and self.blocks:
            self.blocks[-1][part].append(data)


def revealed(page: str) -> list[tuple[str, str]]:
    parser = Revealed()
    parser.feed(page)
    return [
        (" ".join("".join(b["stem"]).split()), _without_label(" ".join("".join(b["key"]).split())))
        for b in parser.blocks
    ]


def _without_label(key: str) -> str:
    """'Right answer: 42' -> '42' (the label comes first, in the page's language)."""
    return key.split(":", 1)[1].strip() if key else key


def links(page: str, pattern: str) -> list[str]:
    return sorted(set(re.findall(rf'href="({pattern})"', page)))


def wait_out_cooldowns(app: Flask, user_email: str) -> None:
    """The patient candidate: every earlier attempt moves two weeks into the past."""
    shift = timedelta(days=15)
    with Session(engine_of(app)) as s:
        user = s.exec(select(User).where(User.email == user_email)).one()
        for row in s.exec(select(ExamAttempt).where(ExamAttempt.user_id == user.id)):
            row.started_at -= shift
            row.deadline_at -= shift
            if row.submitted_at is not None:
                row.submitted_at -= shift
        s.commit()


def harvest_exam(app: Flask, learner: FlaskClient, exam_id: str) -> tuple[int, list[str]]:
    pages = []
    taken = 0
    for n in range(ATTEMPTS):
        learner.environ_base["HTTP_ACCEPT_LANGUAGE"] = ("en", "nb")[n % 2]
        started = post(learner, f"/exams/{exam_id}/start")
        if started.status_code != 302 or "/attempts/" not in started.headers["Location"]:
            break  # no attempts left
        attempt_id = int(started.headers["Location"].split("/")[2])
        assert post(learner, f"/attempts/{attempt_id}/submit").status_code == 302
        pages.append(learner.get(f"/attempts/{attempt_id}/result").get_data(as_text=True))
        taken += 1
        wait_out_cooldowns(app, LEARNER)
    return taken, pages


def harvest_checks(learner: FlaskClient) -> list[str]:
    pages = []
    for lang in ("en", "nb"):
        learner.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        for course in links(learner.get("/courses").get_data(as_text=True), r"/courses/[\w-]+"):
            modules = links(learner.get(course).get_data(as_text=True), rf"{course}/modules/[\w-]+")
            for module in modules:
                if 'action="' + module + '/check"' not in learner.get(module).get_data(
                    as_text=True
                ):
                    continue
                answered = post(learner, f"{module}/check")
                assert answered.status_code == 200, module
                pages.append(answered.get_data(as_text=True))
    return pages


def plain(text: str) -> str:
    """A stem as the page shows it: inline markup gone, spaces collapsed."""
    return " ".join(re.sub(r"[*_`]", "", text).split())


def test_nothing_a_candidate_can_harvest_is_a_certification_item(app: Flask) -> None:
    content = load_content(Path(app.config["COURSES_DIR"]), Path(app.config["QUESTION_BANKS_DIR"]))
    exams = [PlacedExam(b, e.spec) for b, bank in content.banks.items() for e in bank.exams]
    practice_pools, certification_pools = harvest_pools(exams)
    assert certification_pools and practice_pools
    certification = [
        (f"{bank}/{i.spec.id}", i.spec)
        for bank, pool in certification_pools
        for i in content.banks[bank].items
        if i.spec.pool == pool
    ]
    certifying_names = {name for name, _ in certification}
    by_stem = {  # every item of every bank, by its stem in each language
        plain(i.spec.text[lang].stem): (f"{bank_id}/{i.spec.id}", i.spec)  # type: ignore[index]
        for bank_id, bank in content.banks.items()
        for i in bank.items
        for lang in i.spec.text
    }

    learner = english_client(app)
    assert login(learner, LEARNER).status_code == 302
    pages: list[str] = []
    taken = {}
    for exam in exams:
        if certifying(exam.spec):
            continue
        taken[exam.spec.id], exam_pages = harvest_exam(app, learner, exam.spec.id)
        pages += exam_pages
    # the no-limit practice exam was taken all 50 times, and the knowledge test too
    assert taken and all(n == ATTEMPTS for n in taken.values()), taken
    pages += harvest_checks(learner)

    harvested = {(plain(stem), key) for page in pages for stem, key in revealed(page)}
    with_keys = {stem for stem, key in harvested if key}
    unknown = sorted(stem for stem, _ in harvested if stem not in by_stem)
    assert not unknown, unknown[:3]  # every question shown is an item of the content
    learned = dict(by_stem[stem] for stem in with_keys)
    # nothing shown is a certification item
    assert not set(learned) & certifying_names, sorted(set(learned) & certifying_names)[:5]
    # the harvest is thorough: every practice item of every harvestable exam and knowledge
    # check was seen with its key
    practice = {
        f"{bank}/{i.spec.id}"
        for bank, pool in practice_pools
        for i in content.banks[bank].items
        if i.spec.pool == pool
    }
    assert practice <= set(learned), sorted(practice - set(learned))[:5]
    # and none of what was learned is a near-duplicate of a certification item, by the
    # measure and threshold the content check uses
    twins = similar_pairs(list(learned.items()), DEFAULT_THRESHOLD, certification)
    assert twins == [], twins[:3]
