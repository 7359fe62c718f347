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
from sqlalchemy import update
from sqlmodel import Session

from elearn.content.loader import load_content
from elearn.db import engine_of
from elearn.domain.integrity import PlacedExam, certifying, harvest_pools
from elearn.domain.similarity import DEFAULT_THRESHOLD, item_text
from elearn.models import ExamAttempt
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
    from elearn.models import User

    with Session(engine_of(app)) as s:
        user = s.query(User).filter_by(email=user_email).one()
        shift = timedelta(days=15)
        s.execute(
            update(ExamAttempt)
            .where(ExamAttempt.user_id == user.id)  # type: ignore[arg-type]
            .values(
                started_at=ExamAttempt.started_at - shift,
                deadline_at=ExamAttempt.deadline_at - shift,
                submitted_at=ExamAttempt.submitted_at - shift,
            )
        )
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


def test_nothing_a_candidate_can_harvest_is_a_certification_item(app: Flask) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    content = load_content(Path(app.config["COURSES_DIR"]), Path(app.config["QUESTION_BANKS_DIR"]))
    exams = [PlacedExam(b, e.spec) for b, bank in content.banks.items() for e in bank.exams]
    practice_pools, certification_pools = harvest_pools(exams)
    assert certification_pools and practice_pools
    certification = [
        (lang, item_text(i.spec, lang), i.spec.text[lang].stem)
        for bank, pool in certification_pools
        for i in content.banks[bank].items
        if i.spec.pool == pool
        for lang in i.spec.text
    ]

    learner = english_client(app)
    assert login(learner, LEARNER).status_code == 302
    pages: list[str] = []
    taken = {}
    for exam in exams:
        if certifying(exam.spec):
            continue
        taken[exam.spec.id], exam_pages = harvest_exam(app, learner, exam.spec.id)
        pages += exam_pages
    # the no-limit practice exam was taken all 50 times, and the knowledge test too: its cooldown
    # was waited out each time
    assert taken and all(n == ATTEMPTS for n in taken.values()), taken
    pages += harvest_checks(learner)

    harvested = {pair for page in pages for pair in revealed(page)}
    stems = {stem for stem, _ in harvested}
    keys = [(stem, key) for stem, key in harvested if key]
    practice_items = sum(
        len(i.spec.text)
        for bank, pool in practice_pools
        for i in content.banks[bank].items
        if i.spec.pool == pool
    )
    # the harvest is thorough: nearly every practice question was seen, with its key
    assert len(keys) >= 0.9 * practice_items, (len(keys), practice_items)

    leaked = [stem for _, _, stem in certification if " ".join(stem.split()) in stems]
    assert not leaked, leaked[:5]

    learned = [f"{stem} {key}" for stem, key in keys]
    vectors = TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(3, 5))
    vectors.fit(learned + [text for _, text, _ in certification])
    scores = cosine_similarity(
        vectors.transform(learned), vectors.transform([text for _, text, _ in certification])
    )
    worst = float(scores.max())
    where = divmod(int(scores.argmax()), scores.shape[1])
    assert worst < DEFAULT_THRESHOLD, (
        worst,
        learned[where[0]],
        certification[where[1]][1],
    )
