"""The manager's view: scoped to their units, counts, drill-down, chart, CSV, assignments."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.models import Assignment, AuditEntry, Certificate, OrgUnit, User
from elearn.services import accounts
from tests.conftest import english_client, login, post

COURSE = "sustainability-intro"
EXAM = "quick-certificate"


def unit_id(app: Flask, name: str) -> int:
    with Session(engine_of(app)) as s:
        return s.exec(select(OrgUnit.id).where(OrgUnit.name == name)).one()  # type: ignore[return-value]


@pytest.fixture
def purchasing_manager(app: Flask) -> FlaskClient:
    """A manager of one department only."""
    purchasing = unit_id(app, "Innkjøp")  # before the writing session below takes the lock
    with Session(engine_of(app)) as s:
        user = accounts.create_user(
            session=s,
            email="inger@example.org",
            name="Inger Innkjøp",
            password="a-long-password",
            now=utcnow(),
            roles=("manager",),
        )
        assert user.id is not None
        accounts.set_managed_units(
            session=s,
            user_id=user.id,
            unit_ids=[purchasing],
            actor_id=None,
            now=utcnow(),
        )
        s.commit()
    client = english_client(app)
    assert login(client, "inger@example.org", "a-long-password").status_code == 302
    return client


def test_manager_sees_their_units_and_nothing_else(
    app: Flask, purchasing_manager: FlaskClient, as_role: Any
) -> None:
    mine, sibling, parent = (
        unit_id(app, n) for n in ("Innkjøp", "Teknisk drift", "Eksempel kommune")
    )
    assert purchasing_manager.get("/manage/").headers["Location"] == f"/manage/units/{mine}"
    assert purchasing_manager.get(f"/manage/units/{mine}").status_code == 200
    routes = [
        "/manage/units/{u}",
        f"/manage/units/{{u}}/course/{COURSE}",
        f"/manage/units/{{u}}/exam/{EXAM}",
        "/manage/units/{u}?format=csv",
    ]
    for unit in (sibling, parent, 99999):
        for route in routes:
            assert purchasing_manager.get(route.format(u=unit)).status_code == 404, (route, unit)
        assert (
            post(
                purchasing_manager,
                f"/manage/units/{unit}/assignments",
                {"target": f"course:{COURSE}", "due": "2030-01-01"},
            ).status_code
            == 404
        )
    # A person outside the manager's units is not found, even through their own unit's URL.
    with Session(engine_of(app)) as s:
        outsider = s.exec(select(User.id).where(User.email == "learner2@example.org")).one()
    assert purchasing_manager.get(f"/manage/units/{mine}/people/{outsider}").status_code == 404
    # The municipality's manager sees everything below it; learners and certifiers nothing.
    whole = as_role("manager")
    for unit in (mine, sibling, parent):
        assert whole.get(f"/manage/units/{unit}").status_code == 200
    assert as_role("learner").get(f"/manage/units/{mine}").status_code == 403
    assert as_role("certifier").get("/manage/").status_code == 403
    assert as_role("admin").get(f"/manage/units/{sibling}").status_code == 200


def test_unit_counts_and_percentages(app: Flask, as_role: Any) -> None:
    manager = as_role("manager")
    page = manager.get(f"/manage/units/{unit_id(app, 'Eksempel kommune')}?format=csv")
    assert page.data.startswith("\ufeff".encode())
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(page.data.decode("utf-8-sig")))}
    # Learners in the municipality: Lena and Siri (the second certifier, who also sits exams)
    # completed the course; Lars, Magnus, and the three demo holders of a valid, a revoked and
    # an expired certificate have not started it.
    course = rows[COURSE]
    assert (course["staff"], course["completed"], course["not_started"]) == ("7", "2", "5")
    assert course["completed_percent"] == "28.6"
    exam = rows[EXAM]
    assert (exam["valid"], exam["expired"], exam["expiring"]) == ("1", "1", "0")  # revoked: none


def test_drill_down_chart_table_and_people_csv(app: Flask, as_role: Any) -> None:
    manager = as_role("manager")
    root = unit_id(app, "Eksempel kommune")
    page = manager.get(f"/manage/units/{root}/course/{COURSE}").get_data(as_text=True)
    assert '<svg role="img" aria-labelledby="chart-title"' in page
    assert page.count("<rect") == 2 * len(re.findall(r'<th scope="row">', page))
    assert "Innkjøp" in page and "Teknisk drift" in page
    people = manager.get(f"/manage/units/{root}/course/{COURSE}?format=csv")
    assert people.mimetype == "text/csv" and people.data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.DictReader(io.StringIO(people.data.decode("utf-8-sig"))))
    lena = next(r for r in lines if r["email"] == "learner@example.org")
    assert lena["state"] == "completed" and lena["unit"] == "Eksempel kommune/Innkjøp"
    units = manager.get(f"/manage/units/{root}/course/{COURSE}?format=csv&table=units")
    assert "Eksempel kommune/Innkjøp" in units.data.decode("utf-8-sig")


def test_assignment_with_due_date_and_overdue(app: Flask, as_role: Any) -> None:
    manager = as_role("manager")
    unit = unit_id(app, "Teknisk drift")
    assert (
        post(
            manager,
            f"/manage/units/{unit}/assignments",
            {"target": f"exam:{EXAM}", "due": "2001-01-01"},
        ).status_code
        == 409
    )
    assert (
        post(
            manager,
            f"/manage/units/{unit}/assignments",
            {"target": "exam:forged", "due": "2031-01-01"},
        ).status_code
        == 302
    )
    with Session(engine_of(app)) as s:
        assert s.exec(select(Assignment).where(Assignment.target_id == "forged")).first() is None
    assert (
        post(
            manager,
            f"/manage/units/{unit}/assignments",
            {"target": f"exam:{EXAM}", "due": "2031-01-01"},
        ).status_code
        == 302
    )
    with Session(engine_of(app)) as s:
        row = s.exec(select(Assignment).where(Assignment.unit_id == unit)).one()
        row.due_at = utcnow() - timedelta(days=1)
        s.commit()
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "assignment.set")).all()
    page = manager.get(f"/manage/units/{unit}/exam/{EXAM}").get_data(as_text=True)
    assert "1 overdue" in page and "(overdue)" in page


def test_manager_sees_expiring_certificates(app: Flask, as_role: Any) -> None:
    with Session(engine_of(app)) as s:
        cert = s.exec(select(Certificate).where(Certificate.holder_name == "Kari Gyldig")).one()
        cert.valid_until = utcnow() + timedelta(days=20)
        s.commit()
    page = as_role("manager").get(f"/manage/units/{unit_id(app, 'Innkjøp')}").get_data(as_text=True)
    section = page.split("<h2>Certificates expiring or expired</h2>")[1].split("<h2>")[0]
    assert "Kari Gyldig" in section


def test_person_page(app: Flask, as_role: Any) -> None:
    with Session(engine_of(app)) as s:
        lena = s.exec(select(User.id).where(User.email == "learner@example.org")).one()
    page = (
        as_role("manager")
        .get(f"/manage/units/{unit_id(app, 'Innkjøp')}/people/{lena}")
        .get_data(as_text=True)
    )
    assert "Lena Læring" in page and "Completed" in page


def test_admin_assigns_units_to_a_manager(app: Flask, admin: FlaskClient) -> None:
    with Session(engine_of(app)) as s:
        lars = s.exec(select(User).where(User.email == "learner2@example.org")).one()
    unit = unit_id(app, "Helse og omsorg")
    response = post(
        admin,
        f"/admin/users/{lars.id}",
        {
            "name": lars.name,
            "email": lars.email,
            "roles": ["learner", "manager"],
            "unit": str(lars.org_unit_id),
            "manages": [str(unit)],
            "active": "y",
        },
    )
    assert response.status_code == 302
    client = english_client(app)
    login(client, "learner2@example.org")
    assert client.get("/manage/").headers["Location"] == f"/manage/units/{unit}"


def test_a_malformed_due_date_saves_nothing(app: Flask, as_role: Any) -> None:
    manager = as_role("manager")
    unit = unit_id(app, "Innkjøp")
    for due in ("31.12.2030", "", "2030-13-40"):
        response = post(
            manager,
            f"/manage/units/{unit}/assignments",
            {"target": f"course:{COURSE}", "due": due},
            follow_redirects=True,
        )
        assert "Choose a course or exam and a due date." in response.get_data(as_text=True)
    with Session(engine_of(app)) as s:
        assert s.exec(select(Assignment).where(Assignment.unit_id == unit)).first() is None


def add_staff(app: Flask, n: int) -> int:
    """A new root unit with ``n`` learners ("Stor 00000" ...), written in two statements."""
    from sqlalchemy import insert

    from elearn.models import UserRole

    now = utcnow()
    with Session(engine_of(app)) as s:
        unit = OrgUnit(name="Stor kommune", parent_id=None)
        s.add(unit)
        s.flush()
        last = s.exec(select(User.id).order_by(col(User.id).desc())).first() or 0
        s.execute(
            insert(User),
            [
                {
                    "id": last + 1 + i,
                    "email": f"stor-{i}@example.org",
                    "name": f"Stor {i:05d}",
                    "password_hash": "!",
                    "active": True,
                    "org_unit_id": unit.id,
                    "created_at": now,
                }
                for i in range(n)
            ],
        )
        s.execute(
            insert(UserRole), [{"user_id": last + 1 + i, "role": "learner"} for i in range(n)]
        )
        s.commit()
        assert unit.id is not None
        return unit.id


def test_the_report_binds_no_parameter_per_person(app: Flask, admin: FlaskClient) -> None:
    """Staff are read by a subquery, not by a list of ids: 100,000 staff as bound parameters
    pass PostgreSQL's limit (65,535) and SQLite's default one (32,766)."""
    from sqlalchemy import event

    n = 1_200
    unit_id = add_staff(app, n)
    widest: list[int] = []

    def note(_conn: Any, _cursor: Any, _statement: str, parameters: Any, *_args: Any) -> None:
        widest.append(len(parameters) if isinstance(parameters, (list, tuple, dict)) else 0)

    event.listen(engine_of(app), "before_cursor_execute", note)
    response = admin.get(f"/manage/units/{unit_id}?format=csv")
    event.remove(engine_of(app), "before_cursor_execute", note)
    assert response.status_code == 200
    assert f",{n}," in response.get_data(as_text=True)
    assert max(widest) < 100, max(widest)


def test_the_people_of_a_report_come_a_page_at_a_time(app: Flask, admin: FlaskClient) -> None:
    unit_id = add_staff(app, 250)
    base = f"/manage/units/{unit_id}/course/{COURSE}"
    first = admin.get(base).get_data(as_text=True)
    assert "Stor 00000" in first and "Stor 00099" in first and "Stor 00100" not in first
    assert "Page 1 of 3" in first and f'href="{base}?page=2"' in first
    third = admin.get(f"{base}?page=3").get_data(as_text=True)
    assert "Stor 00200" in third and "Stor 00249" in third and "Stor 00199" not in third
    for forged in ("999", "-4", "abc", "0"):  # past the end: the last page; nonsense: the first
        response = admin.get(f"{base}?page={forged}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert ("Page 3 of 3" if forged == "999" else "Page 1 of 3") in page, forged
    every = admin.get(f"{base}?format=csv").get_data(as_text=True)
    assert every.count("stor-") == 250  # the CSV still has everyone
