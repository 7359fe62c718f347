"""One commit per request, in one place: after the view returned; never after it raised.

Each test adds a few routes of its own to a fresh app, so that the rule is tested apart from the
views that follow it; the documented GET writes are pinned by name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, abort
from sqlalchemy import insert
from sqlmodel import Session

from elearn.auth import public
from elearn.db import UndocumentedWrite, engine_of, get_session, writes_on_get
from elearn.domain.errors import Conflict
from elearn.models import AppSetting
from tests.conftest import english_client

ROOT = Path(__file__).resolve().parents[2]


def setting(app: Flask, key: str) -> object:
    with Session(engine_of(app)) as s:
        row = s.get(AppSetting, key)
        return None if row is None else row.value


def route(app: Flask, rule: str, view: Callable[[], Any], methods: tuple[str, ...]) -> None:
    app.config["WTF_CSRF_ENABLED"] = False  # what answers is the view, not the CSRF check
    app.add_url_rule(rule, view.__name__, public(view), methods=list(methods))


def put(key: str) -> None:
    get_session().add(AppSetting(key=key, value=True))


def test_a_view_that_returns_is_committed_whatever_its_status(app: Flask) -> None:
    def refuse_but_keep() -> Any:
        put("kept")
        return "taken", 409

    route(app, "/t/keep", refuse_but_keep, ("POST",))
    assert english_client(app).post("/t/keep").status_code == 409
    assert setting(app, "kept") is True


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (lambda: abort(400), 400),
        (lambda: (_ for _ in ()).throw(Conflict("That could not be done")), 409),
        (lambda: 1 / 0, 500),
    ],
    ids=["http-error", "domain-error", "bug"],
)
def test_a_view_that_raises_keeps_nothing(
    app: Flask, failure: Callable[[], Any], status: int
) -> None:
    def half_done() -> Any:
        put("half")
        get_session().flush()  # sent to the database already, inside the transaction
        return failure()

    route(app, "/t/half", half_done, ("POST",))
    response = english_client(app).post("/t/half")
    assert response.status_code == status
    assert "Traceback" not in response.get_data(as_text=True)
    assert setting(app, "half") is None


def test_a_failing_commit_is_an_error_page_and_nothing_is_kept(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def twice() -> Any:
        put("first")
        put("same")
        put("same")  # the second row with this key fails the commit's flush
        return "saved?"

    route(app, "/t/twice", twice, ("POST",))
    with caplog.at_level(logging.ERROR):
        response = english_client(app).post("/t/twice")
    assert response.status_code == 503
    assert "could not be saved" in response.get_data(as_text=True)
    assert setting(app, "first") is None and setting(app, "same") is None
    assert "commit failed on POST /t/twice" in caplog.text


def test_a_get_that_writes_without_a_reason_fails_loudly_in_tests(app: Flask) -> None:
    def sneaky() -> Any:
        put("sneaky")
        return "read only?"

    route(app, "/t/sneaky", sneaky, ("GET",))
    with pytest.raises(UndocumentedWrite, match=r"GET /t/sneaky \(sneaky\) changed rows"):
        english_client(app).get("/t/sneaky")
    assert setting(app, "sneaky") is None


@pytest.mark.parametrize("how", ["pending", "flushed", "bulk", "changed-row"])
def test_an_undocumented_get_write_is_never_committed_in_production(
    app: Flask, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    app.config["FAIL_ON_GET_WRITES"] = False
    with Session(engine_of(app)) as s:
        s.add(AppSetting(key="old", value=1))
        s.commit()

    def writes() -> Any:
        session = get_session()
        if how == "pending":
            put("sneaky")
        elif how == "flushed":
            put("sneaky")
            session.flush()
        elif how == "bulk":
            session.execute(insert(AppSetting).values(key="sneaky", value=True))
        else:
            row = session.get(AppSetting, "old")
            assert row is not None
            row.value = 2
        return "page"

    route(app, "/t/writes", writes, ("GET",))
    with caplog.at_level(logging.ERROR):
        response = english_client(app).get("/t/writes")
    assert response.status_code == 200 and response.get_data(as_text=True) == "page"
    assert setting(app, "sneaky") is None and setting(app, "old") == 1
    assert "GET /t/writes (writes) changed rows without @writes_on_get" in caplog.text


def test_a_get_that_reads_or_sets_a_value_it_already_had_is_no_write(app: Flask) -> None:
    with Session(engine_of(app)) as s:
        s.add(AppSetting(key="old", value=1))
        s.commit()

    def reads() -> Any:
        row = get_session().get(AppSetting, "old")
        assert row is not None
        row.value = 1  # the same value: nothing changes
        return str(row.value)

    route(app, "/t/reads", reads, ("GET",))
    assert english_client(app).get("/t/reads").get_data(as_text=True) == "1"


def test_a_get_with_a_documented_reason_is_committed(app: Flask) -> None:
    @writes_on_get("a test of the rule")
    def documented() -> Any:
        put("documented")
        return "ok"

    route(app, "/t/documented", documented, ("GET",))
    assert english_client(app).get("/t/documented").status_code == 200
    assert setting(app, "documented") is True


def test_the_gets_that_may_write_are_the_documented_ones(app: Flask) -> None:
    marked = {
        endpoint: reason
        for endpoint, view in app.view_functions.items()
        if (reason := getattr(view, "writes_on_get", None))
    }
    assert set(marked) == {
        "exam.index",
        "exam.start_page",
        "exam.item",
        "exam.summary",
        "exam.result",
        "learn.module",
        "certificates.status",
        "privacy.mine_html",
        "privacy.mine_json",
        "privacy.person_html",
        "privacy.person_json",
        "sso.callback",
    }
    assert "shown" in marked["exam.item"] and "continue" in marked["learn.module"]
    assert all("past its deadline" in marked[e] for e in marked if e.startswith("exam."))
    assert "bit changed" in marked["certificates.status"]
    record = " ".join((ROOT / "docs/decisions/0007-one-commit-per-request.md").read_text().split())
    for reason in marked.values():
        assert reason in record, reason
