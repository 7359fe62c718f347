"""The certifier's desk: an attempt exactly as served, item statistics, retiring, audit log."""

from __future__ import annotations

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
from elearn.models import AttemptEvent, AttemptSlot, AuditEntry, ExamAttempt, ExamVersion, Item
from elearn.services import accounts, certificates
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


def test_audit_log_page_with_signed_checkpoint(app: Flask, as_role: Any) -> None:
    certifier = as_role("certifier")
    page = certifier.get("/certify/audit").get_data(as_text=True)
    assert "The chain holds" in page
    token = page.split('id="checkpoint" readonly rows="3" class="wide">')[1].split("<")[0]
    key_set = certifier.get("/.well-known/jwks.json").json
    key = jwt.PyJWK(key_set["keys"][-1])
    claims = jwt.decode(token, key=key, algorithms=["EdDSA"])
    assert claims["audit_count"] > 0 and len(claims["audit_head"]) == 64
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
