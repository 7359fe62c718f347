"""SQLite's write lock: only requests that write take it, and a save that finds it taken is
tried again within its budget, then answered 503 with Retry-After (never 500)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from elearn.db import engine_of, lock_wait
from elearn.models import AttemptSlot
from elearn.web.busy import retries_when_locked
from tests.conftest import POSTGRES, csrf_token, english_client, login
from tests.web.test_exams import right_answer, slots, start

pytestmark = pytest.mark.skipif(POSTGRES, reason="SQLite's database-wide write lock")


def database_file(app: Flask) -> str:
    return str(engine_of(app).url.database)


@contextmanager
def write_lock(app: Flask, seconds: float | None = None) -> Iterator[None]:
    """Another connection holds the write lock (BEGIN IMMEDIATE), from a thread of its own:
    for ``seconds`` and then lets go, or for the whole block when ``seconds`` is None."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        other = sqlite3.connect(database_file(app), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        taken.set()
        release.wait(seconds)
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert taken.wait(5)
    try:
        yield
    finally:
        release.set()
        thread.join(5)


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine_of(app), "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine_of(app), "before_cursor_execute", note)


def answer_of(app: Flask, attempt_id: int, number: int) -> Any:
    with Session(engine_of(app)) as s:
        slot = s.exec(
            select(AttemptSlot).where(
                AttemptSlot.attempt_id == attempt_id, AttemptSlot.number == number
            )
        ).one()
        return slot.response


def save(client: FlaskClient, attempt_id: int, number: int, data: dict[str, Any]) -> Any:
    return client.post(
        f"/attempts/{attempt_id}/{number}/save",
        data=data,
        headers={"X-CSRFToken": csrf_token(client), "Accept": "application/json"},
    )


def test_reads_begin_deferred_and_writes_begin_immediate(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    token = csrf_token(learner)
    with statements(app) as sent:
        assert learner.get("/").status_code == 200
    assert sent[0] == "BEGIN DEFERRED", sent[:2]
    with statements(app) as sent:  # a GET that records the question shown: a writer
        assert learner.get(f"/attempts/{attempt_id}/1").status_code == 200
    assert sent[0] == "BEGIN IMMEDIATE", sent[:2]
    with statements(app) as sent:
        response = learner.post(
            f"/attempts/{attempt_id}/1/save", data={"flag": "1"}, headers={"X-CSRFToken": token}
        )
        assert response.status_code == 200
    assert sent[0] == "BEGIN IMMEDIATE", sent[:2]
    assert [s for s in sent if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]


def test_a_page_that_only_reads_is_served_while_another_connection_writes(
    app: Flask, learner: FlaskClient, as_role: Any
) -> None:
    manager = as_role("manager")
    with write_lock(app):
        began = time.monotonic()
        assert learner.get("/").status_code == 200
        assert learner.get("/me/certificates").status_code == 200
        assert manager.get("/manage/", follow_redirects=True).status_code == 200
        waited = time.monotonic() - began
    assert waited < 3.0, f"a read waited {waited:.2f} s for the write lock"  # a writer: 5 s


def test_a_save_waits_for_a_short_lock_and_is_saved(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    slot, spec = slots(app, attempt_id)[1]
    with write_lock(app, seconds=0.6):
        began = time.monotonic()
        response = save(learner, attempt_id, 2, right_answer(slot, spec))
        took = time.monotonic() - began
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["saved"] is True
    assert 0.4 < took < 3.0, took
    assert answer_of(app, attempt_id, 2) is not None


def test_a_save_locked_past_its_budget_answers_503_with_retry_after_and_keeps_nothing(
    app: Flask, learner: FlaskClient
) -> None:
    app.config["SAVE_LOCK_BUDGET_MS"] = 400
    attempt_id = start(learner)
    slot, spec = slots(app, attempt_id)[1]
    answer = right_answer(slot, spec)
    token = csrf_token(learner)
    with write_lock(app):
        began = time.monotonic()
        response = save(learner, attempt_id, 2, answer)
        took = time.monotonic() - began
        page = learner.post(  # the same answer sent by the form, without the script
            f"/attempts/{attempt_id}/2", data={**answer, "csrf_token": token, "go": "next"}
        )
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "1"
    assert response.get_json() == {"saved": False, "busy": True, "retry_after": 1}
    assert took < 3.0, took  # without the budget: the 5 s busy timeout
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "1"
    assert "Not saved yet" in page.get_data(as_text=True)
    assert answer_of(app, attempt_id, 2) is None
    # The lock is gone: the page's next try is saved.
    again = save(learner, attempt_id, 2, answer)
    assert again.status_code == 200
    assert answer_of(app, attempt_id, 2) is not None


def test_a_submit_that_cannot_get_the_lock_answers_503_not_500(
    app: Flask, learner: FlaskClient
) -> None:
    """Only saves are tried again; any other write that waited its busy timeout in vain gets a
    503 page with Retry-After, never 500 "database is locked"."""
    attempt_id = start(learner)
    token = csrf_token(learner)
    with write_lock(app), lock_wait(200):  # the request runs in this thread: a short timeout
        began = time.monotonic()
        response = learner.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
        took = time.monotonic() - began
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.headers["Retry-After"] == "2"
    assert took < 3.0, took
    assert (
        learner.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token}).status_code
        == 302
    )


def test_other_database_errors_are_not_retried(app: Flask) -> None:
    calls: list[int] = []

    @retries_when_locked
    def broken() -> Any:
        calls.append(1)
        raise OperationalError("SELECT 1", {}, Exception("no such table: nowhere"))

    with app.test_request_context("/", method="POST"), pytest.raises(OperationalError):
        broken()
    assert calls == [1]


def test_a_locked_database_is_retried_until_it_answers(app: Flask) -> None:
    calls: list[int] = []

    @retries_when_locked
    def flaky() -> Any:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        return "saved"

    with app.test_request_context("/", method="POST"):
        assert flaky() == "saved"
    assert len(calls) == 3


# --- signing in: the slow password check holds no lock -----------------------------------------


def test_the_password_is_checked_without_holding_the_write_lock(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from elearn.services import accounts

    real = accounts.check_password_hash
    free_while_hashing: list[bool] = []

    def check(hashed: str, password: str) -> bool:
        other = sqlite3.connect(database_file(app), isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            free_while_hashing.append(True)
        except sqlite3.OperationalError:
            free_while_hashing.append(False)
        finally:
            other.close()
        return bool(real(hashed, password))

    monkeypatch.setattr(accounts, "check_password_hash", check)
    client = english_client(app)
    assert login(client, "learner@example.org").status_code == 302
    assert free_while_hashing == [True]


def test_an_account_closed_while_its_password_is_checked_is_not_signed_in(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from elearn.services import accounts

    real = accounts.check_password_hash

    def check(hashed: str, password: str) -> bool:
        other = sqlite3.connect(database_file(app), isolation_level=None)
        other.execute("UPDATE user_account SET active = 0 WHERE email = 'learner@example.org'")
        other.close()
        return bool(real(hashed, password))

    monkeypatch.setattr(accounts, "check_password_hash", check)
    client = english_client(app)
    response = login(client, "learner@example.org")
    assert response.status_code == 401
    assert client.get("/me/certificates").status_code == 302  # not signed in
