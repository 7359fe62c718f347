"""The certifier's desk: an attempt exactly as served, item statistics, retiring, audit log."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timedelta
from typing import Any

import jwt
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import insert
from sqlmodel import Session, select

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.domain.audit import Checkpoint
from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes import get_item_type
from elearn.domain.statistics import analyse
from elearn.models import (
    AttemptEvent,
    AttemptSlot,
    AuditEntry,
    ExamAttempt,
    ExamVersion,
    Item,
    ItemVersion,
)
from elearn.services import accounts, certificates, reports
from elearn.services import review as reviewing
from tests.conftest import post
from tests.web.test_exams import EXAM, right_answer, slots, start


def test_attempt_review_shows_the_form_as_served(
    app: Flask, learner: FlaskClient, as_role: Any
) -> None:
    attempt_id = start(learner)
    served = slots(app, attempt_id)
    learner.get(f"/attempts/{attempt_id}/1")  # a view, for the time per question
    slot1, spec1 = served[0]
    post(learner, f"/attempts/{attempt_id}/1", {**right_answer(slot1, spec1), "flag": "1"})
    post(learner, f"/attempts/{attempt_id}/submit")
    certifier = as_role("certifier")
    page = certifier.get(f"/certify/attempts/{attempt_id}").get_data(as_text=True)
    assert "the form is intact" in page
    positions = [page.index(str(escape(spec["text"]["en"]["stem"]))) for _, spec in served]
    assert positions == sorted(positions)  # in the served order
    assert f"{spec1['id']} v1" in page and "flagged" in page
    for kind in ("started", "viewed", "saved", "submitted", "scored"):
        assert f"<td>{kind}</td>" in page
    assert "Lena Læring" in certifier.get("/certify/attempts?q=learner@").get_data(as_text=True)
    assert learner.get(f"/certify/attempts/{attempt_id}").status_code == 403


def test_a_changed_stored_form_is_detected(app: Flask, learner: FlaskClient, as_role: Any) -> None:
    attempt_id = start(learner)
    with Session(engine_of(app)) as s:
        slot = next(  # a question with options: their served order is part of the form
            x
            for x in s.exec(select(AttemptSlot).where(AttemptSlot.attempt_id == attempt_id))
            if len(x.options) > 1
        )
        slot.options = [*slot.options[1:], slot.options[0]]
        s.commit()
    page = as_role("certifier").get(f"/certify/attempts/{attempt_id}").get_data(as_text=True)
    assert "the stored form does not match its fingerprint" in page


def test_time_per_question_from_the_trail(app: Flask, learner: FlaskClient) -> None:
    from elearn.services.review import seconds_per_slot

    attempt_id = start(learner)
    learner.get(f"/attempts/{attempt_id}/2")
    with Session(engine_of(app)) as s:
        events = s.exec(select(AttemptEvent).where(AttemptEvent.attempt_id == attempt_id)).all()
        attempt = s.get(ExamAttempt, attempt_id)
        assert attempt is not None
        spent = seconds_per_slot(events=events, end=attempt.deadline_at)
    assert set(spent) == {2} and spent[2] > 0


def test_item_statistics_and_retiring(app: Flask, learner: FlaskClient, as_role: Any) -> None:
    attempt_id = start(learner)
    for slot, spec in slots(app, attempt_id)[:3]:
        post(learner, f"/attempts/{attempt_id}/{slot.number}", right_answer(slot, spec))
    post(learner, f"/attempts/{attempt_id}/submit")
    certifier = as_role("certifier")
    page = certifier.get(f"/certify/exams/{EXAM}/statistics?attempts=all").get_data(as_text=True)
    served = slots(app, attempt_id)
    for _, spec in served:
        assert f'<th scope="row">{spec["id"]}</th>' in page
    assert certifier.get(f"/certify/exams/{EXAM}/statistics?attempts=bogus").status_code == 400
    assert certifier.get("/certify/exams/nope/statistics").status_code == 404
    with Session(engine_of(app)) as s:
        item = s.exec(select(Item).where(Item.key == served[0][1]["id"])).one()
    assert post(certifier, f"/certify/items/{item.id}/retire", {"reason": ""}).status_code == 302
    assert (
        post(
            certifier, f"/certify/items/{item.id}/retire", {"reason": "Ambiguous wording"}
        ).status_code
        == 302
    )
    with Session(engine_of(app)) as s:
        retired = s.get(Item, item.id)
        assert retired is not None and retired.retired_at is not None
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "item.retired")).one()
    assert (
        post(certifier, f"/certify/items/{item.id}/retire", {"reason": "again"}).status_code == 409
    )
    assert post(learner, f"/certify/items/{item.id}/retire", {"reason": "x"}).status_code == 403


# Maximum marks of the six items of the exam's form, and the fractions six learners earned.
WEIGHTED_MARKS = [2.0, 0.0, 1.0, 1.0, 1.0, 3.0]
WEIGHTED_FRACTIONS: list[list[float]] = [
    [1, 1, 1, 1, 1, 0.5],
    [1, 0, 1, 0, 1, 0],
    [0.5, 1, 0, 1, 1, 0],
    [0, 0, 1, 1, 0, 1],
    [0, 1, 0, 0, 0, 0],
    [1, 0, 1, 1, 1, 0],
]


def seed_weighted_attempts(
    app: Flask,
    learner: FlaskClient,
    marks: list[float] = WEIGHTED_MARKS,
    fractions: list[list[float]] = WEIGHTED_FRACTIONS,
) -> list[str]:
    """The form of a real attempt with its items' maximum marks set to ``marks``, and one
    submitted attempt on that form per row of ``fractions``, each by a new learner.

    Returns the form's item ids in slot order."""
    attempt_id = start(learner)
    served = slots(app, attempt_id)
    start_at = utcnow() - timedelta(days=1)
    with Session(engine_of(app)) as s:
        for (slot, spec), mark in zip(served, marks, strict=True):
            version = s.get(ItemVersion, slot.item_version_id)
            assert version is not None
            version.spec = {**spec, "mark": mark}
        version_id = s.exec(select(ExamVersion.id).where(ExamVersion.exam_id == EXAM)).one()
        for i, row in enumerate(fractions):
            user = accounts.create_user(
                session=s, email=f"weighted{i}@example.org", name=f"Weighted {i}", password=None,
                now=utcnow(),
            )  # fmt: skip
            earned = sum(f * m for f, m in zip(row, marks, strict=True))
            percent = 100 * earned / sum(marks)
            attempt = ExamAttempt(
                user_id=user.id or 0, exam_id=EXAM, exam_version_id=version_id or 0,
                language="en", seed=str(i), fingerprint="f", started_at=start_at,
                deadline_at=start_at + timedelta(hours=1),
                submitted_at=start_at + timedelta(minutes=20), closed_by="learner",
                score_percent=percent, passed=percent >= 75,
                result={"topics": [], "marks": earned, "maximum": sum(marks)},
            )  # fmt: skip
            s.add(attempt)
            s.flush()
            for (slot, _), fraction in zip(served, row, strict=True):
                s.add(
                    AttemptSlot(
                        attempt_id=attempt.id or 0, number=slot.number,
                        item_version_id=slot.item_version_id, topic=slot.topic,
                        options=slot.options, prompts=slot.prompts, mark=fraction,
                    )
                )  # fmt: skip
        s.commit()
    return [spec["id"] for _, spec in served]


def test_item_statistics_count_each_item_with_its_maximum_mark(
    app: Flask, learner: FlaskClient, as_role: Any
) -> None:
    keys = seed_weighted_attempts(app, learner)
    certifier = as_role("certifier")
    with Session(engine_of(app)) as s:
        reports, test, n = reviewing.exam_statistics(
            session=s, exam_id=EXAM, which="all", lang="en"
        )
        specs = {
            v.item_id: v.spec for v in s.exec(select(ItemVersion).where(ItemVersion.version == 1))
        }
    assert n == 6
    # The same figures as the domain's analysis of the matrix in marks, item by item.
    expected_items, expected_test = analyse(keys, WEIGHTED_FRACTIONS, max_marks=WEIGHTED_MARKS)
    assert test == expected_test
    by_key = {r.item_key: r for r in reports}
    for expected in expected_items:
        assert by_key[expected.item].stats == expected
    first, zero = by_key[keys[0]], by_key[keys[1]]
    assert (first.stats.max_mark, first.stats.intended_weight) == (2.0, 25.0)
    assert first.stats.facility == (2 + 2 + 1 + 0 + 0 + 2) / 12
    assert zero.stats.facility is None and zero.stats.intended_weight == 0.0
    for r in reports:
        spec = ItemSpec.model_validate(specs[r.item_id])
        assert r.random_guess == get_item_type(spec.type).random_guess_score(spec)
    # The page draws both charts, each an image with its text, and the figures in tables.
    page = certifier.get(f"/certify/exams/{EXAM}/statistics?attempts=all").get_data(as_text=True)
    assert page.count('role="img"') == 2
    assert 'aria-labelledby="histogram-title"' in page and 'id="scatter-title"' in page
    percents = sorted(
        100 * sum(f * m for f, m in zip(row, WEIGHTED_MARKS, strict=True)) / 8
        for row in WEIGHTED_FRACTIONS
    )
    assert percents == [0.0, 37.5, 50.0, 62.5, 62.5, 81.25]  # learner 5's right answer is worth 0
    bands = re.findall(r'<tr><th scope="row">([^<]+)</th><td>(\d+)</td></tr>', page)
    assert bands[:10] == [
        ("0 to under 10 %", "1"), ("10 to under 20 %", "0"), ("20 to under 30 %", "0"),
        ("30 to under 40 %", "1"), ("40 to under 50 %", "0"), ("50 to under 60 %", "1"),
        ("60 to under 70 %", "2"), ("70 to under 80 %", "0"), ("80 to under 90 %", "1"),
        ("90–100 %", "0"),
    ]  # fmt: skip
    flagged = [r for r in reports if r.stats.flags and r.stats.discrimination_index is not None]
    assert (
        len(flagged) == 2 and page.count('<path d="M') == 2 + 1
    )  # a triangle each, and the legend's
    assert page.count('<path d="M') + page.count("<circle cx=") >= len(
        [r for r in reports if r.stats.discrimination_index is not None]
    )
    # The CSV holds the item table with the maximum mark, intended weight and random guess.
    response = certifier.get(f"/certify/exams/{EXAM}/statistics?attempts=all&format=csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "item", "topic", "n", "max_mark", "intended_weight", "random_guess_score", "facility",
        "sd", "discrimination_index", "discriminative_efficiency", "effective_weight", "flags",
        "retired",
    ]  # fmt: skip
    by_item = {row[0]: row for row in rows[1:]}
    # a multiple-response item has no one chance to guess (None, as in Moodle): left blank
    first_guess = "" if first.random_guess is None else f"{first.random_guess:.4f}"
    assert by_item[keys[0]][2:7] == ["6", "2", "25.00", first_guess, "0.5833"]
    guess = "" if zero.random_guess is None else f"{zero.random_guess:.4f}"
    assert by_item[keys[1]][2:7] == ["6", "0", "0.00", guess, ""]  # worth 0: no facility
    assert by_item[keys[5]][11] == "facility < 0.3; negative discrimination"
    assert "attachment" in response.headers["Content-Disposition"]


def test_audit_log_page_with_signed_checkpoint(app: Flask, as_role: Any) -> None:
    certifier = as_role("certifier")
    page = certifier.get("/certify/audit").get_data(as_text=True)
    assert "Sealed through entry number" in page and "matches the checkpoint signed" in page
    line = page.split('id="checkpoint" readonly rows="3" class="wide">')[1].split("<")[0]
    checkpoint = Checkpoint.from_json(html.unescape(line))
    key_set = certifier.get("/.well-known/jwks.json").json
    published = {k["kid"]: jwt.PyJWK(k).key for k in key_set["keys"]}
    assert checkpoint.holds(published[checkpoint.kid])  # an outsider checks it with the JWKS
    assert checkpoint.seq > 0 and len(checkpoint.head) == 64
    filtered = certifier.get("/certify/audit?person=learner@example.org").get_data(as_text=True)
    assert "<td>course.completed</td>" in filtered and "<td>content.synced</td>" not in filtered
    by_code = certifier.get("/certify/audit?certificate=NONE-NONE-NONE").get_data(as_text=True)
    assert "0 entries, newest first" in by_code


def add_attempts(app: Flask, email: str, name: str, starts: list[datetime]) -> None:
    """Submitted attempts at the exam for a new learner, written straight to the database."""
    with Session(engine_of(app)) as s:
        user = accounts.create_user(session=s, email=email, name=name, password=None, now=utcnow())
        version_id = s.exec(select(ExamVersion.id).where(ExamVersion.exam_id == EXAM)).one()
        s.execute(
            insert(ExamAttempt),
            [
                {
                    "user_id": user.id,
                    "exam_id": EXAM,
                    "exam_version_id": version_id,
                    "language": "en",
                    "seed": "1",
                    "fingerprint": "f",
                    "started_at": at,
                    "deadline_at": at + timedelta(minutes=15),
                    "submitted_at": at + timedelta(minutes=10),
                    "passed": False,
                    "score_percent": 10.0,
                }
                for at in starts
            ],
        )
        s.commit()


def test_attempt_search_finds_an_attempt_older_than_the_newest_500(
    app: Flask, as_role: Any
) -> None:
    long_ago = utcnow() - timedelta(days=400)
    add_attempts(app, "oyvind@example.org", "Øyvind Åsen", [long_ago])
    add_attempts(
        app, "busy@example.org", "Busy Bee", [long_ago + timedelta(hours=h) for h in range(1, 521)]
    )
    certifier = as_role("certifier")
    found = certifier.get("/certify/attempts?q=ØYVIND").get_data(as_text=True)  # any case
    assert "Øyvind Åsen" in found and "1 attempt(s), newest first" in found
    assert "Øyvind Åsen" in certifier.get("/certify/attempts?q=oyvind@").get_data(as_text=True)
    everything = certifier.get("/certify/attempts").get_data(as_text=True)
    assert "521 attempt(s), newest first" in everything and "Page 1 of 11" in everything
    assert "Øyvind Åsen" not in everything
    last = certifier.get("/certify/attempts?page=11").get_data(as_text=True)
    assert "Page 11 of 11" in last and "Øyvind Åsen" in last
    assert last.index("Busy Bee") < last.index("Øyvind Åsen")  # newest first, to the oldest
    by_exam = certifier.get(f"/certify/attempts?q={EXAM}").get_data(as_text=True)
    assert "521 attempt(s)" in by_exam
    assert "0 attempt(s)" in certifier.get("/certify/attempts?q=nobody").get_data(as_text=True)
    assert "0 attempt(s)" in certifier.get("/certify/attempts?q=_").get_data(as_text=True)
    assert as_role("learner").get("/certify/attempts?q=oyvind").status_code == 403


def test_certificate_search_runs_in_the_database_a_page_at_a_time(app: Flask, as_role: Any) -> None:
    certifier = as_role("certifier")
    listing = certifier.get("/certify/certificates").get_data(as_text=True)
    assert "3 certificate(s)" in listing
    codes = re.findall(r"/certify/certificates/([2-9A-HJ-NP-Z-]{14})", listing)
    assert len(codes) == 3
    by_code = certifier.get(f"/certify/certificates?q={codes[0].lower()}").get_data(as_text=True)
    assert "1 certificate(s)" in by_code and codes[0] in by_code
    by_name = certifier.get("/certify/certificates?q=GYLDIG").get_data(as_text=True)
    assert "1 certificate(s)" in by_name and "Kari Gyldig" in by_name
    by_mail = certifier.get("/certify/certificates?q=eva.utlopt@").get_data(as_text=True)
    assert "1 certificate(s)" in by_mail and "Eva Utløpt" in by_mail
    with Session(engine_of(app)) as s:
        second = certificates.search(session=s, query="example.org", number=2, size=2)
    assert (second.total, second.pages, len(second.rows)) == (3, 2, 1)
    assert second.rows[0][0].holder_name == "Eva Utløpt"  # the oldest, last


def test_audit_exam_filter_finds_entries_older_than_the_newest_2000(
    app: Flask, learner: FlaskClient, as_role: Any
) -> None:
    attempt_id = start(learner)  # "attempt.started", with the exam in its data
    with Session(engine_of(app)) as s:
        s.execute(
            insert(AuditEntry),
            [
                {
                    "at": utcnow(),
                    "action": "noise",
                    "subject": "noise",
                    "data": {"exam": "another-exam"},
                    "prev_hash": f"p{i:063d}",
                    "hash": f"h{i:063d}",
                }
                for i in range(2100)
            ],
        )
        s.commit()
    page = as_role("certifier").get(f"/certify/audit?exam={EXAM}").get_data(as_text=True)
    assert f"attempt:{attempt_id}" in page and "<td>attempt.started</td>" in page
    assert "<td>noise</td>" not in page


def test_histogram_bands_and_scatter_geometry() -> None:
    h = reports.histogram(scores=[0, 9.99, 10, 55, 99.9, 100, 100])
    assert [b.count for b in h.bands] == [2, 1, 0, 0, 0, 1, 0, 0, 0, 3]  # 100 % in the last band
    assert [(b.low, b.high) for b in h.bands][-1] == (90, 100)
    tallest = max(h.bands, key=lambda b: b.count)
    assert tallest.y == h.plot.y1 and tallest.y + tallest.height == h.plot.y0  # to the top
    assert [t.label for t in h.ticks] == ["0", "1", "2", "3"]
    assert [t.label for t in reports.histogram(scores=[50] * 23).ticks] == [
        "0", "5", "10", "15", "20", "25",
    ]  # fmt: skip
    assert [b.count for b in reports.histogram(scores=[]).bands] == [0] * 10
    sc = reports.scatter(items=[("easy", 0.95, 10.0, True), ("fine", 0.5, 45.0, False)])
    easy, fine = sc.points
    assert (easy.number, easy.flagged, fine.flagged) == (1, True, False)
    assert sc.plot.x0 < fine.x < easy.x < sc.plot.x1
    assert sc.plot.y1 < fine.y < easy.y < sc.zero_y < sc.plot.y0  # up is more discriminating
    assert easy.triangle.startswith("M") and easy.triangle.endswith("Z")
    assert sc.guides_y[0] == sc.plot.y(120 / 200)  # the 20 % limit of the flags
