"""Scheduled sittings: scheduling, forms drawn ahead, the waiting room, the booked start."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlmodel import Session, col, select

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.models import (
    AttemptSlot,
    ExamAttempt,
    OrgUnit,
    Sitting,
    SittingCandidate,
    User,
)
from elearn.services import accounts
from elearn.web import sittings as pages
from tests.conftest import csrf_token, post

EXAM = "quick-certificate"
LEARNER = "learner@example.org"


def _at(minutes: float) -> datetime:
    return (utcnow() + timedelta(minutes=minutes)).replace(second=0, microsecond=0)


def schedule(client: FlaskClient, **fields: Any) -> Any:
    data = {
        "exam": EXAM,
        "starts_at": _at(30).strftime("%Y-%m-%dT%H:%M"),
        "late_minutes": "10",
        "place": "Room 101",
        "invigilator": "certifier2@example.org",
        "emails": LEARNER,
        "unit": "",
    }
    data.update(fields)
    return post(client, "/certify/sittings/new", data)


def sitting_id(response: Any) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"/certify/sittings/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def the_sitting(app: Flask, sid: int) -> Sitting:
    with Session(engine_of(app)) as s:
        sitting = s.get(Sitting, sid)
        assert sitting is not None
        return sitting


def attempts_of(app: Flask, email: str) -> list[ExamAttempt]:
    with Session(engine_of(app)) as s:
        return list(
            s.exec(
                select(ExamAttempt)
                .join(User, col(User.id) == col(ExamAttempt.user_id))
                .where(User.email == email, ExamAttempt.exam_id == EXAM)
            )
        )


def at_time(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    monkeypatch.setattr(pages, "utcnow", lambda: when)


# --- scheduling ---------------------------------------------------------------------------------


def test_certifier_schedules_a_sitting_and_the_forms_are_drawn_ahead(
    app: Flask, as_role: Any
) -> None:
    certifier = as_role("certifier")
    sid = sitting_id(schedule(certifier, emails=f"{LEARNER}\nlearner2@example.org"))
    page = certifier.get(f"/certify/sittings/{sid}").get_data(as_text=True)
    assert "Room 101" in page and LEARNER in page
    assert "Form drawn, waiting" in page
    # learner2 has not completed the course the exam asks for: no form, and why.
    assert "Complete the course this exam requires first." in page
    (attempt,) = attempts_of(app, LEARNER)
    assert attempt.waiting and attempt.submitted_at is None
    sitting = the_sitting(app, sid)
    assert attempt.started_at == sitting.starts_at
    assert attempt.deadline_at == sitting.starts_at + timedelta(minutes=15)
    with Session(engine_of(app)) as s:
        slots = s.exec(select(AttemptSlot).where(AttemptSlot.attempt_id == attempt.id)).all()
    assert len(slots) == 6
    assert "Room 101" in certifier.get("/certify/sittings/").get_data(as_text=True)


def test_admin_schedules_by_unit_with_its_sub_units(app: Flask, as_role: Any) -> None:
    with Session(engine_of(app)) as s:
        root = s.exec(
            select(OrgUnit).where(col(OrgUnit.parent_id).is_(None)).order_by(col(OrgUnit.id))
        ).first()
        assert root is not None
        placed = s.exec(
            select(User.email, User.org_unit_id).where(col(User.org_unit_id).is_not(None))
        ).all()
        # Everyone in this organisation (the demo has others: the programme's municipalities).
        everyone = [
            email
            for email, unit_id in placed
            if accounts.unit_path(session=s, unit_id=unit_id).split("/")[0] == root.name
        ]
    admin = as_role("admin")
    sid = sitting_id(schedule(admin, emails="", unit=str(root.id)))
    with Session(engine_of(app)) as s:
        booked = s.exec(
            select(User.email)
            .join(SittingCandidate, col(SittingCandidate.user_id) == col(User.id))
            .where(SittingCandidate.sitting_id == sid)
        ).all()
    # Everyone in the municipality and its departments, except the invigilator.
    assert set(booked) == set(everyone) - {"certifier2@example.org"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"starts_at": _at(-5).strftime("%Y-%m-%dT%H:%M")}, "must start in the future"),
        ({"exam": "no-such-exam"}, "Not a valid choice"),
        ({"starts_at": "tomorrow"}, "Not a valid datetime value"),
        ({"late_minutes": "-1"}, "Number must be between"),
        ({"late_minutes": "9" * 30}, ""),
        ({"place": ""}, ""),
        ({"invigilator": "nobody@example.org"}, "no user with the invigilator"),
        ({"invigilator": LEARNER}, "invigilator cannot be a candidate"),
        ({"unit": "999999"}, "Not a valid choice"),
        ({"emails": ""}, "Name the candidates"),
    ],
)
def test_bad_input_schedules_nothing(
    app: Flask, as_role: Any, fields: dict[str, str], message: str
) -> None:
    response = schedule(as_role("certifier"), **fields)
    assert response.status_code in (400, 422), response.status_code
    assert message in response.get_data(as_text=True)
    with Session(engine_of(app)) as s:
        assert s.exec(select(Sitting)).first() is None
    assert attempts_of(app, LEARNER) == []


def test_unknown_emails_are_listed_back_and_nothing_is_scheduled(app: Flask, as_role: Any) -> None:
    response = schedule(as_role("certifier"), emails=f"{LEARNER}\nghost@example.org")
    assert response.status_code == 422
    assert "ghost@example.org" in response.get_data(as_text=True)
    with Session(engine_of(app)) as s:
        assert s.exec(select(Sitting)).first() is None


def test_a_post_without_csrf_is_refused(app: Flask, as_role: Any) -> None:
    certifier = as_role("certifier")
    response = certifier.post("/certify/sittings/new", data={"exam": EXAM})
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["learner", "manager", "panellist"])
def test_only_certifiers_and_admins_schedule(app: Flask, as_role: Any, role: str) -> None:
    client = as_role(role)
    assert client.get("/certify/sittings/").status_code == 403
    response = client.post("/certify/sittings/new", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 403


def test_candidates_added_later_get_their_form_at_once(app: Flask, as_role: Any) -> None:
    certifier = as_role("certifier")
    sid = sitting_id(schedule(certifier, emails="kari.gyldig@example.org"))
    assert attempts_of(app, LEARNER) == []
    response = post(certifier, f"/certify/sittings/{sid}/candidates", {"emails": LEARNER})
    assert response.status_code == 302
    (attempt,) = attempts_of(app, LEARNER)
    assert attempt.waiting
    unknown = post(certifier, f"/certify/sittings/{sid}/candidates", {"emails": "x@example.org"})
    assert unknown.status_code == 422 and "x@example.org" in unknown.get_data(as_text=True)


def test_the_cli_draws_forms_still_missing(app: Flask, as_role: Any) -> None:
    sid = sitting_id(schedule(as_role("certifier")))
    with Session(engine_of(app)) as s:
        booking = s.exec(select(SittingCandidate).where(SittingCandidate.sitting_id == sid)).one()
        s.add(
            SittingCandidate(
                sitting_id=sid,
                user_id=s.exec(select(User.id).where(User.email == "certifier2@example.org")).one(),
            )
        )
        s.commit()
        assert booking.attempt_id is not None
    result = app.test_cli_runner().invoke(args=["sittings", "prepare"])
    assert result.exit_code == 0, result.output
    assert "drew 1 form(s)" in result.output
    assert len(attempts_of(app, "certifier2@example.org")) == 1


# --- the candidate's side -----------------------------------------------------------------------


def test_candidate_sees_the_booking_and_the_waiting_room(app: Flask, as_role: Any) -> None:
    sid = sitting_id(schedule(as_role("certifier")))
    learner = as_role("learner")
    home = learner.get("/").get_data(as_text=True)
    assert "Your booked sittings" in home and f"/sittings/{sid}" in home
    room = learner.get(f"/sittings/{sid}")
    assert room.status_code == 200
    text = room.get_data(as_text=True)
    assert "Room 101" in text and "Starts in" in text
    assert re.search(r'id="start-sitting"\s+disabled', text)
    assert "sitting.js" in text and "<script>" not in text
    assert learner.get(f"/sittings/{sid}/clock").get_json()["opens_in"] > 0
    # Someone not booked learns nothing about the sitting.
    assert as_role("new-learner").get(f"/sittings/{sid}").status_code == 404


def test_the_drawn_form_cannot_be_seen_before_the_start(app: Flask, as_role: Any) -> None:
    schedule(as_role("certifier"))
    (attempt,) = attempts_of(app, LEARNER)
    learner = as_role("learner")
    assert learner.get(f"/attempts/{attempt.id}/1").status_code == 409
    token = csrf_token(learner)
    saved = learner.post(
        f"/attempts/{attempt.id}/1/save", data={"answer": "1"}, headers={"X-CSRFToken": token}
    )
    assert saved.status_code == 409
    # The exam's pages lead to the booking, not to the form.
    start_page = learner.get(f"/exams/{EXAM}").get_data(as_text=True)
    assert f"/attempts/{attempt.id}/1" not in start_page and 'href="/sittings/"' in start_page
    assert f"/attempts/{attempt.id}/1" not in learner.get("/exams").get_data(as_text=True)
    # The ordinary start leads to the waiting room, not to the form.
    response = post(learner, f"/exams/{EXAM}/start")
    assert response.status_code == 302 and response.headers["Location"].endswith("/sittings/")


def test_start_before_the_time_is_refused(app: Flask, as_role: Any) -> None:
    sid = sitting_id(schedule(as_role("certifier")))
    learner = as_role("learner")
    response = post(learner, f"/sittings/{sid}/start")
    assert response.status_code == 409
    assert "has not started yet" in response.get_data(as_text=True)
    (attempt,) = attempts_of(app, LEARNER)
    assert attempt.waiting


def test_start_at_the_time_is_one_small_write_without_drawing(
    app: Flask, as_role: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = sitting_id(schedule(as_role("certifier")))
    sitting = the_sitting(app, sid)
    learner = as_role("learner")
    token = csrf_token(learner)
    at_time(monkeypatch, sitting.starts_at + timedelta(seconds=1))
    room = learner.get(f"/sittings/{sid}").get_data(as_text=True)
    assert not re.search(r'id="start-sitting"\s+disabled', room)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine_of(app), "before_cursor_execute", count)
    try:
        response = learner.post(f"/sittings/{sid}/start", data={"csrf_token": token})
    finally:
        event.remove(engine_of(app), "before_cursor_execute", count)
    assert response.status_code == 302
    (attempt,) = attempts_of(app, LEARNER)
    assert response.headers["Location"].endswith(f"/attempts/{attempt.id}/1")
    print("statements in the booked start:", len(statements))
    for statement in statements:
        assert "item_exposure" not in statement.lower()  # nothing drawn, nothing counted
        assert "INSERT INTO attempt_slot" not in statement
    assert len(statements) <= 8, statements
    assert not attempt.waiting
    assert attempt.started_at == sitting.starts_at + timedelta(seconds=1)
    assert attempt.deadline_at == sitting.starts_at + timedelta(minutes=15)
    assert learner.get(f"/attempts/{attempt.id}/1").status_code == 200


def test_a_late_arrival_within_the_window_starts_with_the_deadline_from_the_start(
    app: Flask, as_role: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = sitting_id(schedule(as_role("certifier")))
    sitting = the_sitting(app, sid)
    learner = as_role("learner")
    at_time(monkeypatch, sitting.starts_at + timedelta(minutes=9, seconds=59))
    assert post(learner, f"/sittings/{sid}/start").status_code == 302
    (attempt,) = attempts_of(app, LEARNER)
    assert attempt.started_at == sitting.starts_at + timedelta(minutes=9, seconds=59)
    assert attempt.deadline_at == sitting.starts_at + timedelta(minutes=15)


def test_a_late_arrival_after_the_window_is_refused_with_a_clear_message(
    app: Flask, as_role: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = sitting_id(schedule(as_role("certifier")))
    sitting = the_sitting(app, sid)
    learner = as_role("learner")
    at_time(monkeypatch, sitting.starts_at + timedelta(minutes=10))
    response = post(learner, f"/sittings/{sid}/start")
    assert response.status_code == 409
    assert "time for late arrival at this sitting is over" in response.get_data(as_text=True)
    assert "late arrival at this sitting is over" in learner.get(f"/sittings/{sid}").get_data(
        as_text=True
    )
    (attempt,) = attempts_of(app, LEARNER)
    assert attempt.waiting


def test_a_double_start_makes_one_attempt(
    app: Flask, as_role: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = sitting_id(schedule(as_role("certifier")))
    sitting = the_sitting(app, sid)
    at_time(monkeypatch, sitting.starts_at + timedelta(seconds=5))
    first, second = as_role("learner"), as_role("learner")
    tokens = [csrf_token(first), csrf_token(second)]
    answers: list[int] = []

    def go(client: FlaskClient, token: str) -> None:
        answers.append(
            client.post(f"/sittings/{sid}/start", data={"csrf_token": token}).status_code
        )

    threads = [
        threading.Thread(target=go, args=pair) for pair in zip((first, second), tokens, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [302, 302]
    (attempt,) = attempts_of(app, LEARNER)
    assert not attempt.waiting
    assert post(first, f"/sittings/{sid}/start").status_code == 302
    assert len(attempts_of(app, LEARNER)) == 1


def test_a_candidate_who_never_came_is_absent_and_keeps_the_attempts(
    app: Flask, as_role: Any
) -> None:
    from elearn.jobs.exams import close_and_issue

    sid = sitting_id(schedule(as_role("certifier")))
    sitting = the_sitting(app, sid)
    close_and_issue(app, now=sitting.starts_at + timedelta(hours=1))
    (attempt,) = attempts_of(app, LEARNER)
    assert attempt.passed is None and attempt.score_percent is None
    assert attempt.submitted_at is not None and attempt.closed_by == "absent"
    # The absence used no attempt and started no cooldown: the learner may start at once.
    response = post(as_role("learner"), f"/exams/{EXAM}/start")
    assert response.status_code == 302 and "/attempts/" in response.headers["Location"]


def test_manager_sees_who_in_the_units_is_booked(app: Flask, as_role: Any) -> None:
    schedule(as_role("certifier"))
    manager = as_role("manager")
    with Session(engine_of(app)) as s:
        root = s.exec(
            select(OrgUnit).where(col(OrgUnit.parent_id).is_(None)).order_by(col(OrgUnit.id))
        ).first()
        assert root is not None
    page = manager.get(f"/manage/units/{root.id}").get_data(as_text=True)
    assert "Booked for sittings" in page and "Lena Læring" in page and "Room 101" in page


def test_an_exam_without_sittings_starts_as_before(app: Flask, as_role: Any) -> None:
    response = post(as_role("learner"), f"/exams/{EXAM}/start")
    assert response.status_code == 302 and "/attempts/" in response.headers["Location"]
    (attempt,) = attempts_of(app, LEARNER)
    assert not attempt.waiting
