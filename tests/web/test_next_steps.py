"""A unit's agreed next steps after a course: recorded by its manager, shown on the unit's page
and in its report, refused with a message and nothing changed when the input is wrong."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, func, select

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.models import AuditEntry, UnitNextStep
from tests.conftest import post
from tests.web.test_manage import purchasing_manager, unit_id  # noqa: F401  (the fixture)

COURSE = "sustainability-intro"


def steps(app: Flask) -> list[UnitNextStep]:
    with Session(engine_of(app)) as s:
        return list(s.exec(select(UnitNextStep)))


def agreed(**over: Any) -> dict[str, Any]:
    return {
        "course": COURSE,
        "action": "Use the SDG checklist in every purchase over NOK 100 000.",
        "owner": "Lena Læring",
        "due": (utcnow() + timedelta(days=30)).date().isoformat(),
        **over,
    }


def test_manager_records_a_next_step_that_shows_beside_completion(app: Flask, as_role: Any) -> None:
    manager = as_role("manager")
    unit = unit_id(app, "Innkjøp")
    response = post(manager, f"/manage/units/{unit}/next-steps", agreed())
    assert response.status_code == 302
    [step] = steps(app)
    assert (step.unit_id, step.course_id, step.owner) == (unit, COURSE, "Lena Læring")
    page = manager.get(f"/manage/units/{unit}").get_data(as_text=True)
    assert "Agreed next steps" in page and "Use the SDG checklist" in page
    # The municipality's page shows its units' steps too, and its report has them.
    root = unit_id(app, "Eksempel kommune")
    assert "Use the SDG checklist" in manager.get(f"/manage/units/{root}").get_data(as_text=True)
    report = manager.get(f"/manage/units/{root}?format=next-steps")
    assert report.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["unit", "course", "action", "owner", "due", "done"]
    assert rows[1][:4] == ["Innkjøp", COURSE, step.action, "Lena Læring"] and rows[1][5] == ""

    assert post(manager, f"/manage/units/{unit}/next-steps/{step.id}/done", {"done": "1"})
    [done] = steps(app)
    assert done.done_at is not None
    # A second click changes nothing; reopening clears it.
    post(manager, f"/manage/units/{unit}/next-steps/{step.id}/done", {"done": "1"})
    assert steps(app)[0].done_at == done.done_at
    post(manager, f"/manage/units/{unit}/next-steps/{step.id}/done", {"done": "0"})
    assert steps(app)[0].done_at is None
    with Session(engine_of(app)) as s:
        logged = s.exec(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.subject == f"unit:{unit}")
        ).one()
    assert logged == 3  # added, done, reopened


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("action", "", "This field is required"),
        ("owner", "Evil \u202eelif", "reverses the direction of text"),
        ("due", "2020-13-40", "Not a valid date value"),
        ("due", (utcnow() - timedelta(days=2)).date().isoformat(), "The due date has passed"),
        ("course", "no-such-course", "Not a valid choice"),
        ("action", "x" * 2001, "Field cannot be longer than 2000 characters"),
    ],
)
def test_bad_next_step_is_refused_with_a_message(
    app: Flask, as_role: Any, field: str, value: str, message: str
) -> None:
    manager = as_role("manager")
    unit = unit_id(app, "Innkjøp")
    response = post(manager, f"/manage/units/{unit}/next-steps", agreed(**{field: value}))
    shown = manager.get(response.headers.get("Location") or f"/manage/units/{unit}")
    if response.status_code == 302:
        assert message in shown.get_data(as_text=True)
    else:
        assert message in response.get_data(as_text=True)
    assert steps(app) == []


def test_next_steps_stay_within_the_managers_units(
    app: Flask,
    as_role: Any,
    purchasing_manager: FlaskClient,  # noqa: F811
) -> None:
    whole = as_role("manager")
    sibling = unit_id(app, "Teknisk drift")
    post(whole, f"/manage/units/{sibling}/next-steps", agreed())
    [step] = steps(app)
    mine = unit_id(app, "Innkjøp")
    # Another unit's manager: not found, to add or to mark done, even through their own unit.
    assert (
        post(purchasing_manager, f"/manage/units/{sibling}/next-steps", agreed()).status_code == 404
    )
    assert (
        post(purchasing_manager, f"/manage/units/{sibling}/next-steps/{step.id}/done").status_code
        == 404
    )
    assert (
        post(purchasing_manager, f"/manage/units/{mine}/next-steps/{step.id}/done").status_code
        == 404
    )
    assert "Use the SDG checklist" not in purchasing_manager.get(f"/manage/units/{mine}").get_data(
        as_text=True
    )
    assert post(as_role("learner"), f"/manage/units/{mine}/next-steps", agreed()).status_code == 403
    # Without the CSRF token nothing is saved.
    assert whole.post(f"/manage/units/{mine}/next-steps", data=agreed()).status_code == 400
    assert len(steps(app)) == 1 and steps(app)[0].done_at is None
