"""Team reflection on the web: a manager schedules it for a unit, participants answer and
share what they choose, the manager records the next steps the unit page shows."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlmodel import select

from elearn.db import open_session
from elearn.models import OrgUnit, TeamReflection, TeamReflectionAnswer
from elearn.services.demo import DEMO_PASSWORD
from tests.conftest import COURSE, english_client, login, post


def _root(app: Flask) -> int:
    with open_session(app) as s:
        unit = s.exec(select(OrgUnit).where(OrgUnit.name == "Eksempel kommune")).one()
        assert unit.id is not None
        return unit.id


def _schedule(app: Flask, manager: Any) -> tuple[int, int]:
    unit_id = _root(app)
    response = post(
        manager,
        f"/manage/units/{unit_id}/team-reflections",
        {
            "course": COURSE,
            "starts": "2030-03-04T13:00",
            "ends": "2030-03-04T14:00",
            "place": "Møterom 2",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with open_session(app) as s:
        row = s.exec(select(TeamReflection)).one()
        assert row.id is not None
        return unit_id, row.id


def test_shared_answers_reach_the_group_private_ones_do_not(app: Flask, as_role: Any) -> None:
    manager = as_role("manager")
    unit_id, rid = _schedule(app, manager)
    learner = as_role("learner")
    page = learner.get(f"/me/team-reflections/{rid}").get_data(as_text=True)
    assert "What did you read?" in page and "How will you take this into your daily work?" in page
    response = post(
        learner,
        f"/me/team-reflections/{rid}",
        {"answer-read": "PRIVATE-NOTE", "answer-liked": "SHARED-NOTE", "share-liked": "1"},
    )
    assert response.status_code == 302
    other = as_role("new-learner")
    seen = other.get(f"/me/team-reflections/{rid}").get_data(as_text=True)
    assert "SHARED-NOTE" in seen and "PRIVATE-NOTE" not in seen
    # The manager sees what was shared, not the private reflection.
    detail = manager.get(f"/manage/units/{unit_id}/team-reflections/{rid}").get_data(as_text=True)
    assert "SHARED-NOTE" in detail and "PRIVATE-NOTE" not in detail
    # The agreed next step shows on the unit's page beside completion.
    response = post(
        manager,
        f"/manage/units/{unit_id}/team-reflections/{rid}/actions",
        {"title": "Use the LCC tool in the next tender", "owner": "Lena", "due_on": "2030-04-01"},
    )
    assert response.status_code == 302
    unit_page = manager.get(f"/manage/units/{unit_id}").get_data(as_text=True)
    assert "Use the LCC tool in the next tender" in unit_page


def test_outsiders_and_bad_input_change_nothing(app: Flask, as_role: Any) -> None:
    manager = as_role("manager")
    unit_id, rid = _schedule(app, manager)
    # Someone from another organisation: the session is not theirs to see.
    outsider = english_client(app)
    assert login(outsider, "indkobschef@nordby.example.org", DEMO_PASSWORD).status_code == 302
    assert outsider.get(f"/me/team-reflections/{rid}").status_code == 404
    assert post(outsider, f"/me/team-reflections/{rid}", {"answer-read": "x"}).status_code == 404
    # A control character in an answer is refused, with the question named.
    learner = as_role("learner")
    response = post(learner, f"/me/team-reflections/{rid}", {"answer-read": "bad\u202e"})
    assert response.status_code == 400 and "What did you read?" in response.get_data(as_text=True)
    # Without CSRF.
    assert learner.post(f"/me/team-reflections/{rid}", data={"answer-read": "x"}).status_code == 400
    # A learner cannot record the unit's next steps; a session of another unit is not found.
    url = f"/manage/units/{unit_id}/team-reflections/{rid}/actions"
    assert post(learner, url, {"title": "x"}).status_code == 403
    assert post(manager, url, {"title": ""}).status_code == 400
    with open_session(app) as s:
        innkjop = s.exec(select(OrgUnit).where(OrgUnit.name == "Innkjøp")).one()
    assert manager.get(f"/manage/units/{innkjop.id}/team-reflections/{rid}").status_code == 404
    with open_session(app) as s:
        assert s.exec(select(TeamReflectionAnswer)).first() is None
