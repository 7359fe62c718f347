"""Learning records: statements written with their events and sent to an LRS stand-in on loopback.

The stand-in (tests/lrs.py) keeps statements by id as an LRS must. The tests take it down, make
it slow, busy and refusing, and check that nothing is lost, nothing is stored twice, and a
statement sent again carries the id and content it was written with.
"""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.domain import xapi as statements
from elearn.jobs import xapi as outbox
from elearn.models import AttemptSlot, ExamAttempt, ItemVersion, XapiStatement
from elearn.services import xapi
from tests.conftest import (
    Template,
    copy_instance,
    english_client,
    login,
    make_app,
    post,
)
from tests.lrs import PASSWORD, USER, StandIn, serve
from tests.web.test_exams import right_answer, slots, start

COURSE = "sustainability-intro"


def free_port() -> int:
    """A port nothing listens on: an LRS that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def lrs() -> Iterator[StandIn]:
    with serve() as stand_in:
        yield stand_in


def xapi_app(template_db: Template, tmp_path: Path, endpoint: str, **config: Any) -> Flask:
    instance = tmp_path / "with-lrs"  # beside the plain `app` fixture's instance
    instance.mkdir()
    return make_app(
        instance,
        **copy_instance(template_db, instance),
        XAPI_ENDPOINT=endpoint,
        XAPI_USERNAME=USER,
        XAPI_PASSWORD=PASSWORD,
        XAPI_TIMEOUT_SECONDS=0.5,
        XAPI_BATCH_SIZE=3,
        PUBLIC_URL="https://elearn.example.org",
        **config,
    )


@pytest.fixture
def app_with_lrs(template_db: Template, tmp_path: Path, lrs: StandIn) -> Iterator[Flask]:
    application = xapi_app(template_db, tmp_path, lrs.endpoint)
    yield application
    engine_of(application).dispose()


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = english_client(app)
    assert login(client, email).status_code == 302
    return client


def complete_course(client: FlaskClient) -> None:
    page = client.get(f"/courses/{COURSE}").get_data(as_text=True)
    modules = re.findall(rf"/courses/{COURSE}/modules/([a-z0-9-]+)", page)
    for module in dict.fromkeys(modules):
        response = post(client, f"/courses/{COURSE}/modules/{module}", {"complete": "1"})
        assert response.status_code == 302


def pass_exam(app: Flask, client: FlaskClient) -> int:
    attempt_id = start(client)
    for slot, spec in slots(app, attempt_id):
        post(client, f"/attempts/{attempt_id}/{slot.number}", right_answer(slot, spec))
    assert post(client, f"/attempts/{attempt_id}/submit").status_code == 302
    return attempt_id


def queued(app: Flask) -> list[XapiStatement]:
    with Session(engine_of(app)) as s:
        return list(s.exec(select(XapiStatement).order_by(col(XapiStatement.id))).all())


def flush(app: Flask, now: datetime | None = None, lrs_settings: Any = None) -> outbox.FlushReport:
    settings = lrs_settings or xapi.settings_from_config(config=app.config)
    return outbox.flush(app, settings=settings, clock=lambda: now or utcnow())


def cli(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["xapi", *args])
    return result.exit_code, result.output


# --- what is written ------------------------------------------------------------------------------


def test_nothing_is_written_when_xapi_is_off(app: Flask) -> None:
    client = signed_in(app, "learner2@example.org")
    complete_course(client)
    assert queued(app) == []
    code, out = cli(app, "flush")
    assert code == 0 and "xAPI is off" in out


def test_a_course_writes_module_and_course_statements(app_with_lrs: Flask) -> None:
    complete_course(signed_in(app_with_lrs, "learner2@example.org"))
    rows = queued(app_with_lrs)
    verbs = [r.statement["verb"]["id"] for r in rows]
    assert verbs == [statements.VERBS["completed"]] * len(rows) and len(rows) == 6  # 5 + course
    modules, course = [r.statement for r in rows[:-1]], rows[-1].statement
    assert {m["object"]["definition"]["type"] for m in modules} == {
        statements.ACTIVITY_TYPES["module"]
    }
    assert course["object"]["id"] == f"https://elearn.example.org/courses/{COURSE}"
    assert course["object"]["definition"]["name"]["nb"].startswith("Bærekraft")
    assert modules[0]["context"]["contextActivities"]["parent"][0]["id"] == course["object"]["id"]
    assert course["actor"] == {
        "objectType": "Agent",
        "name": course["actor"]["name"],
        "mbox": "mailto:learner2@example.org",
    }
    # Completing a module again writes nothing new.
    client = signed_in(app_with_lrs, "learner2@example.org")
    post(client, f"/courses/{COURSE}/modules/{modules[0]['object']['id'].rsplit('/', 1)[1]}",
         {"complete": "1"})  # fmt: skip
    assert len(queued(app_with_lrs)) == 6


def test_an_exam_writes_attempted_passed_and_earned(app_with_lrs: Flask) -> None:
    attempt_id = pass_exam(app_with_lrs, signed_in(app_with_lrs, "learner@example.org"))
    rows = [r.statement for r in queued(app_with_lrs)]
    assert [s["verb"]["display"]["en-US"] for s in rows] == ["attempted", "passed", "earned"]
    attempted, passed, earned = rows
    registration = statements.registration(
        statements.Site("https://elearn.example.org"), attempt_id
    )
    assert attempted["context"]["registration"] == passed["context"]["registration"] == registration
    assert earned["context"]["registration"] == registration
    result = passed["result"]
    assert result["score"] == {"scaled": 1.0, "raw": 6.0, "min": 0, "max": 6}
    assert result["success"] is True and result["completion"] is True
    assert re.fullmatch(r"PT(\d+M)?\d+(\.\d+)?S", result["duration"])
    assert passed["object"]["id"] == "https://elearn.example.org/exams/quick-certificate"
    assert earned["object"]["definition"]["type"] == "http://activitystrea.ms/schema/1.0/badge"
    code = earned["result"]["extensions"][statements.BADGE_ASSERTION]["@id"].rsplit("/", 1)[1]
    assert earned["id"] == statements.statement_id(
        statements.Site("https://elearn.example.org"), "certificate-earned", code
    )


def test_a_failed_exam_says_failed_with_its_score(app_with_lrs: Flask) -> None:
    client = signed_in(app_with_lrs, "learner@example.org")
    attempt_id = start(client)
    post(client, f"/attempts/{attempt_id}/submit")
    rows = [r.statement for r in queued(app_with_lrs)]
    assert [s["verb"]["display"]["en-US"] for s in rows] == ["attempted", "failed"]
    assert rows[1]["result"]["success"] is False
    assert rows[1]["result"]["score"]["scaled"] == 0.0


def test_marks_agree_in_the_attempt_its_pages_and_its_statement(app_with_lrs: Flask) -> None:
    """Items of unequal maximum marks: 2, 1, 0, 3, 1, 1. The first three answered right earn
    2 + 1 + 0 = 3 of 8 marks, 37.5 %, wherever the attempt is reported."""
    client = signed_in(app_with_lrs, "learner@example.org")
    attempt_id = start(client)
    served = slots(app_with_lrs, attempt_id)
    with Session(engine_of(app_with_lrs)) as s:
        for (slot, spec), mark in zip(served, [2, 1, 0, 3, 1, 1], strict=True):
            version = s.get(ItemVersion, slot.item_version_id)
            assert version is not None
            version.spec = {**spec, "mark": mark}
        s.commit()
    for slot, spec in served[:3]:
        post(client, f"/attempts/{attempt_id}/{slot.number}", right_answer(slot, spec))
    post(client, f"/attempts/{attempt_id}/submit")
    with Session(engine_of(app_with_lrs)) as s:
        attempt = s.get(ExamAttempt, attempt_id)
        assert attempt is not None and attempt.result is not None
        assert attempt.score_percent == 37.5 and not attempt.passed
        assert (attempt.result["marks"], attempt.result["maximum"]) == (3.0, 8.0)
        marks = [
            x.mark
            for x in s.exec(
                select(AttemptSlot)
                .where(AttemptSlot.attempt_id == attempt_id)
                .order_by(col(AttemptSlot.number))
            )
        ]
        assert marks == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]  # each slot keeps its fraction
    scored = [r.statement for r in queued(app_with_lrs)][1]
    assert scored["result"]["score"] == {"scaled": 0.375, "raw": 3.0, "min": 0, "max": 8}
    page = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "3 of 8 marks" in page
    certifier = signed_in(app_with_lrs, "certifier@example.org")
    review = certifier.get(f"/certify/attempts/{attempt_id}").get_data(as_text=True)
    assert "37.5 % (3 of 8 marks)" in review
    assert "Mark: 2 of 2" in review and "Mark: 0 of 3" in review


def test_account_mode_names_learners_by_an_opaque_id(
    template_db: Template, tmp_path: Path, lrs: StandIn
) -> None:
    app = xapi_app(template_db, tmp_path, lrs.endpoint, XAPI_ACTOR="account")
    complete_course(signed_in(app, "learner2@example.org"))
    actor = queued(app)[0].statement["actor"]
    assert set(actor) == {"objectType", "account"}
    assert actor["account"]["homePage"] == "https://elearn.example.org"
    assert "@" not in actor["account"]["name"]


@pytest.mark.parametrize(
    "setting",
    [
        {"XAPI_ENDPOINT": "ftp://lrs.example.org/"},
        {"XAPI_ENDPOINT": "lrs.example.org"},
        {"XAPI_ENDPOINT": "https://lrs.example.org/", "XAPI_ACTOR": "email"},
        {"XAPI_ENDPOINT": "https://lrs.example.org/", "XAPI_TIMEOUT_SECONDS": 0},
    ],
)
def test_a_bad_setting_stops_the_app_with_a_clear_message(
    tmp_path: Path, setting: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="XAPI_"):
        make_app(tmp_path, **setting)


# --- sending --------------------------------------------------------------------------------------


def test_flush_sends_everything_once_with_the_ids_it_was_written_with(
    app_with_lrs: Flask, lrs: StandIn
) -> None:
    complete_course(signed_in(app_with_lrs, "learner2@example.org"))
    pass_exam(app_with_lrs, signed_in(app_with_lrs, "learner@example.org"))
    written = {r.statement_id: r.statement for r in queued(app_with_lrs)}
    code, out = cli(app_with_lrs, "flush")
    assert code == 0 and "sent 9, rejected 0, waiting 0" in out
    assert lrs.stored == written
    assert [len(ids) for _, ids in lrs.requests] == [3, 3, 3]  # XAPI_BATCH_SIZE
    assert all(r.sent_at is not None and r.tries == 1 for r in queued(app_with_lrs))
    # Nothing waits, so a second flush sends nothing.
    requests = len(lrs.requests)
    assert cli(app_with_lrs, "flush")[1].startswith("sent 0, rejected 0, waiting 0")
    assert len(lrs.requests) == requests
    code, out = cli(app_with_lrs, "status", "--json")
    assert '"waiting": 0, "sent": 9, "rejected": 0' in out


def test_an_lrs_that_is_down_loses_nothing(
    template_db: Template, tmp_path: Path, lrs: StandIn
) -> None:
    app = xapi_app(template_db, tmp_path, f"http://127.0.0.1:{free_port()}/xapi/")
    complete_course(signed_in(app, "learner2@example.org"))
    code, out = cli(app, "flush")
    assert code == 1 and "failed: no answer" in out
    rows = queued(app)
    assert len(rows) == 6 and all(r.sent_at is None for r in rows)
    first = rows[0]
    assert first.tries == 1 and first.next_try_at > utcnow() + timedelta(seconds=25)
    assert first.last_error and first.last_error.startswith("no answer")
    # Only the first batch was tried; the others wait their turn, untouched.
    assert [r.tries for r in rows] == [1, 1, 1, 0, 0, 0]
    with Session(engine_of(app)) as s:
        state = xapi.status(session=s)
    assert (state.waiting, state.sent, state.rejected) == (6, 0, 0)
    assert state.oldest_waiting == rows[0].created_at and state.next_try_at == rows[3].next_try_at
    assert state.last_error == first.last_error
    # Before the delay has passed, nothing is tried again, not even against a working LRS.
    working = xapi.settings_from_config(config={**app.config, "XAPI_ENDPOINT": lrs.endpoint})
    report = flush(app, utcnow() + timedelta(seconds=10), working)
    assert report.sent == 3 and lrs.stored.keys() == {r.statement_id for r in rows[3:]}
    # Once it has, everything goes, with the ids and content written at the time.
    report = flush(app, utcnow() + timedelta(minutes=2), working)
    assert report.sent == 3 and report.problem is None
    assert lrs.stored == {r.statement_id: r.statement for r in rows}


def test_the_wait_doubles_and_is_capped(app_with_lrs: Flask, lrs: StandIn) -> None:
    complete_course(signed_in(app_with_lrs, "learner2@example.org"))
    lrs.mode = "error"
    now = utcnow()
    waits = []
    for _ in range(9):
        report = flush(app_with_lrs, now)
        assert report.problem and "HTTP 500" in report.problem and report.sent == 0
        first = queued(app_with_lrs)[0]
        waits.append((first.next_try_at - now).total_seconds())
        now = first.next_try_at
    assert waits[:4] == [30, 60, 120, 240] and waits[-1] == 3600
    lrs.mode = "ok"
    assert flush(app_with_lrs, now).sent == 6


def test_a_busy_lrs_is_given_the_time_it_asks_for(app_with_lrs: Flask, lrs: StandIn) -> None:
    complete_course(signed_in(app_with_lrs, "learner2@example.org"))
    lrs.mode = "busy"
    now = utcnow()
    report = flush(app_with_lrs, now)
    assert report.problem and "HTTP 503" in report.problem
    assert queued(app_with_lrs)[0].next_try_at == now + timedelta(seconds=120)


def test_a_slow_lrs_times_out_and_the_repeat_is_the_same_statement(
    app_with_lrs: Flask, lrs: StandIn
) -> None:
    complete_course(signed_in(app_with_lrs, "learner2@example.org"))
    lrs.mode, lrs.delay = "slow", 2.0  # stores the batch, then answers after the 0.5 s timeout
    report = flush(app_with_lrs)
    assert report.problem == "no answer: the LRS did not answer in time"
    assert len(lrs.stored) == 3  # it did store them; elearn cannot know
    assert all(r.sent_at is None for r in queued(app_with_lrs))
    lrs.mode = "ok"
    report = flush(app_with_lrs, utcnow() + timedelta(minutes=1))
    assert report.sent == 6 and report.problem is None
    # The LRS saw the first three again, identical: one record each, no second id.
    assert len(lrs.stored) == 6 and len(lrs.repeats) == 3
    assert {r["id"] for r in lrs.repeats} <= lrs.stored.keys()
    assert all(lrs.stored[r["id"]] == r for r in lrs.repeats)


def test_a_crash_after_sending_sends_the_same_statement_again(
    app_with_lrs: Flask, lrs: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    complete_course(signed_in(app_with_lrs, "learner2@example.org"))

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(outbox, "_sent", crash)
    with pytest.raises(RuntimeError):
        flush(app_with_lrs)
    monkeypatch.undo()
    assert len(lrs.stored) == 3 and all(r.sent_at is None for r in queued(app_with_lrs))
    # The claim runs out, and the next flush sends the same three again with the rest.
    report = flush(app_with_lrs, utcnow() + timedelta(minutes=5))
    assert report.sent == 6 and len(lrs.stored) == 6 and len(lrs.repeats) == 3


def test_a_refused_statement_is_set_aside_and_the_rest_go(
    app_with_lrs: Flask, lrs: StandIn
) -> None:
    complete_course(signed_in(app_with_lrs, "learner2@example.org"))
    rows = queued(app_with_lrs)
    bad = rows[1].statement_id
    lrs.refuse = lambda s: s["id"] == bad
    report = flush(app_with_lrs)
    assert report.sent == 5 and report.rejected == 1 and report.problem is None
    assert bad not in lrs.stored and len(lrs.stored) == 5
    methods = [m for m, _ in lrs.requests]
    assert methods[:4] == ["POST", "PUT", "PUT", "PUT"]  # the refused batch, one by one
    code, out = cli(app_with_lrs, "status")
    assert code == 0 and "0 waiting, 5 sent, 1 refused by the LRS" in out
    assert f"refused {bad}: HTTP 400" in out
    # Nothing is dropped: once the LRS accepts it, it can be offered again.
    lrs.refuse = lambda s: False
    assert "1 statement(s) will be sent" in cli(app_with_lrs, "requeue-rejected")[1]
    assert flush(app_with_lrs).sent == 1 and len(lrs.stored) == 6


def test_a_statement_the_lrs_holds_already_counts_as_sent(
    app_with_lrs: Flask, lrs: StandIn
) -> None:
    complete_course(signed_in(app_with_lrs, "learner2@example.org"))
    first = queued(app_with_lrs)[0]
    lrs.stored[first.statement_id] = {**first.statement, "timestamp": "2020-01-01T00:00:00.000Z"}
    report = flush(app_with_lrs)
    assert report.sent == 6 and report.rejected == 0
    assert queued(app_with_lrs)[0].last_error == "the LRS already held it (409)"


def test_wrong_credentials_keep_everything_waiting(
    template_db: Template, tmp_path: Path, lrs: StandIn
) -> None:
    app = xapi_app(template_db, tmp_path, lrs.endpoint)
    app.config["XAPI_PASSWORD"] = "wrong"
    complete_course(signed_in(app, "learner2@example.org"))
    code, out = cli(app, "flush")
    assert code == 1 and "HTTP 401" in out and lrs.stored == {}
    assert all(r.sent_at is None and r.rejected_at is None for r in queued(app))


def test_each_statement_is_valid_xapi(app_with_lrs: Flask, lrs: StandIn) -> None:
    complete_course(signed_in(app_with_lrs, "learner2@example.org"))
    pass_exam(app_with_lrs, signed_in(app_with_lrs, "learner@example.org"))
    flush(app_with_lrs)
    uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
    # Everything the two learners did went out: a loop over nothing would prove nothing.
    assert set(lrs.stored) == {r.statement_id for r in queued(app_with_lrs)}
    verbs = {s["verb"]["display"]["en-US"] for s in lrs.stored.values()}
    assert {"completed", "attempted", "passed", "earned"} <= verbs
    scored = registered = 0
    for statement in lrs.stored.values():
        assert uuid.match(statement["id"]) and stamp.match(statement["timestamp"])
        assert set(statement) <= {"id", "actor", "verb", "object", "result", "context", "timestamp"}
        assert statement["verb"]["id"].startswith("http")
        assert statement["object"]["id"].startswith("https://elearn.example.org/")
        assert statement["context"]["platform"] == "elearn"
        if "registration" in statement["context"]:
            assert uuid.match(statement["context"]["registration"])
            registered += 1
        score = statement.get("result", {}).get("score")
        if score:
            assert -1 <= score["scaled"] <= 1 and score["min"] <= score["raw"] <= score["max"]
            scored += 1
    assert scored >= 1 and registered >= 2  # the exam's statements carry both


def test_the_admin_sees_the_outbox_on_the_settings_page(
    app_with_lrs: Flask, lrs: StandIn, app: Flask
) -> None:
    off = signed_in(app, "admin@example.org").get("/admin/settings").get_data(as_text=True)
    assert "Learning records (xAPI)" in off and "Off. Set XAPI_ENDPOINT" in off
    complete_course(signed_in(app_with_lrs, "learner2@example.org"))
    lrs.mode = "error"
    flush(app_with_lrs)
    admin = signed_in(app_with_lrs, "admin@example.org")
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert f"Learning Record Store at {lrs.endpoint}" in page
    assert re.search(r"Waiting to be sent</dt><dd>6</dd>", page)
    assert "HTTP 500" in page and PASSWORD not in page
    # Learners and managers do not see it.
    for email in ("learner@example.org", "manager@example.org"):
        assert signed_in(app_with_lrs, email).get("/admin/settings").status_code == 403


def test_no_transaction_is_open_while_the_lrs_is_asked(
    app_with_lrs: Flask, lrs: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow LRS must not hold SQLite's write lock: learners' saves would wait for it."""
    complete_course(signed_in(app_with_lrs, "learner2@example.org"))
    database = app_with_lrs.config["DATABASE_URL"]
    if not database.startswith("sqlite"):
        pytest.skip("SQLite's database-wide write lock")
    path = database.removeprefix("sqlite:///")
    seen: list[str] = []
    real_post = outbox.LrsClient.post

    def post_and_write(self: outbox.LrsClient, batch: list[dict[str, Any]]) -> outbox.Reply:
        other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            seen.append("free")
        except sqlite3.OperationalError as exc:
            seen.append(str(exc))
        finally:
            other.close()
        return real_post(self, batch)

    monkeypatch.setattr(outbox.LrsClient, "post", post_and_write)
    assert flush(app_with_lrs).sent == 6
    assert seen == ["free", "free"]


def test_starting_the_app_does_not_load_the_http_client(tmp_path: Path) -> None:
    """Only `xapi flush` talks to an LRS; every app server and command would pay for httpx."""
    code = (
        "import sys; from elearn import create_app; "
        f"create_app({{'INSTANCE_PATH': {str(tmp_path)!r}, 'SECRET_KEY': 'x', "
        "'XAPI_ENDPOINT': 'https://lrs.example.org/xapi/'}); "
        "print('httpx' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
