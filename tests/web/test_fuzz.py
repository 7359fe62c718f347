"""Fuzzing every state-changing route: random bodies never crash, and what is refused changes nothing.

Every POST/PUT/PATCH/DELETE rule of the app is sent random content types, bodies, form fields and
huge values, with its ``<int:>`` parts filled with ids that exist, small numbers and numbers far
too big, by a learner with a running attempt, a certifier, an admin, a panellist and a manager,
each with a valid CSRF token (so that requests reach the views). No answer may be 5xx; an answer
4xx must leave every table as it was (row counts and a hash of the contents). After a request
that changed something the database is put back as it was, so that every example starts alike.

Bounded to about a minute per database (``ELEARN_FUZZ_EXAMPLES``, default 600); derandomized,
so a failure in CI is the same failure here. ``ELEARN_FUZZ_RANDOM=1`` explores new examples.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, select
from werkzeug.routing import IntegerConverter

from elearn.db import engine_of
from elearn.models import (
    AttemptSlot,
    Certificate,
    Item,
    OrgUnit,
    Study,
    User,
)
from tests.conftest import (
    POSTGRES,
    ROLE_USERS,
    Template,
    copy_instance,
    csrf_token,
    english_client,
    login,
    make_app,
    release_app,
)
from tests.web.test_exams import start
from tests.web.test_standard_setting import open_study

EXAMPLES = int(os.environ.get("ELEARN_FUZZ_EXAMPLES", "600"))
CHANGES = ("POST", "PUT", "PATCH", "DELETE")
IDENTITIES = ("learner", "certifier", "admin", "panellist", "manager")
HUGE_INTS = (0, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30)
# Field names the app's forms read, and the prefixed ones its views collect.
FIELDS = [
    "csrf_token",
    "active",
    "clarity",
    "comment",
    "complete",
    "confirm",
    "current",
    "due",
    "email",
    "exam",
    "file",
    "gained",
    "improve",
    "lang",
    "locale",
    "manages",
    "minutes",
    "name",
    "next",
    "note",
    "panellists",
    "password",
    "percent",
    "reason",
    "relevance",
    "remember",
    "roles",
    "save",
    "self_signup",
    "submit",
    "target",
    "text",
    "unit",
    "usefulness",
    "go",
    "flag",
    "decision",
    "answer",
    "answer-1",
    "answer-2",
    "answer-3",
    "q1-answer",
    "q1-answer-1",
    "q2-answer",
    "reflection-1",
    "reflection-2",
    "rating-1",
    "person",
    "certificate",
    "code",
    "attempts",
    "q",
    "new",
]
TYPES = (
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "application/json",
    "text/plain",
    "application/octet-stream",
    "text/html; charset=utf-8",
    None,
)


@dataclass
class World:
    """The app under fuzz, its signed-in clients, the ids that exist, and how to reset it."""

    app: Flask
    clients: dict[str, FlaskClient]
    tokens: dict[str, str]
    cookies: dict[str, list[tuple[str, str]]]
    ints: list[int]
    strings: list[str]
    values: list[str]
    baseline: dict[str, str] = field(default_factory=dict)
    restore: Callable[[list[str]], None] = lambda _changed: None
    seen: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _order(table: Any, alias: str = "") -> str:
    return ", ".join(alias + c.name for c in table.primary_key.columns) or "1"


def table_digests(app: Flask) -> dict[str, str]:
    """Each table's row count and a digest of its contents."""
    tables = SQLModel.metadata.sorted_tables
    connection = engine_of(app).raw_connection()  # the driver's own rows, no ORM
    try:
        cursor = connection.cursor()
        if POSTGRES:  # digested on the server, in one round trip (psycopg parses JSON slowly)
            cursor.execute(
                " UNION ALL ".join(
                    f"SELECT '{t.name}', count(*)::text || ':' || "
                    f"coalesce(md5(string_agg(r::text, '|' ORDER BY {_order(t, 'r.')})), '') "
                    f'FROM "{t.name}" r'
                    for t in tables
                )
            )
            found = {name: digest for name, digest in cursor.fetchall()}
        else:
            found = {}
            for t in tables:
                cursor.execute(f'SELECT * FROM "{t.name}" ORDER BY {_order(t)}')
                rows = cursor.fetchall()
                found[t.name] = f"{len(rows)}:" + hashlib.sha256(repr(rows).encode()).hexdigest()
        cursor.close()
        connection.rollback()
    finally:
        connection.close()
    return found


def _cookie_values(client: FlaskClient) -> list[tuple[str, str]]:
    found = []
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            found.append((name, cookie.value))
    return found


def _restore_cookies(world: World, who: str) -> None:
    client = world.clients[who]
    for name in ("session", "remember_token"):
        client.delete_cookie(name)
    for name, value in world.cookies[who]:
        client.set_cookie(name, value)


def _sqlite_restorer(app: Flask, instance: Path) -> Callable[[list[str]], None]:
    """Put the database file back as it was (a copy: a few milliseconds)."""
    engine_of(app).dispose()  # the last connection to close checkpoints the WAL
    saved = instance / "baseline"
    saved.mkdir()
    files = [f"elearn.sqlite{suffix}" for suffix in ("", "-wal", "-shm")]
    for name in files:
        if (instance / name).exists():
            shutil.copy(instance / name, saved / name)

    def restore(_changed: list[str]) -> None:
        engine_of(app).dispose()
        for name in files:
            (instance / name).unlink(missing_ok=True)
            if (saved / name).exists():
                shutil.copy(saved / name, instance / name)

    return restore


def _postgres_restorer(app: Flask) -> Callable[[list[str]], None]:
    """Put the changed tables back from copies in a schema of their own (a new database from a
    template took two seconds)."""
    names = [t.name for t in SQLModel.metadata.sorted_tables]
    with engine_of(app).begin() as connection:
        connection.exec_driver_sql("CREATE SCHEMA fuzz_baseline")
        for name in names:
            connection.exec_driver_sql(f'CREATE TABLE fuzz_baseline."{name}" AS TABLE "{name}"')

    def restore(changed: list[str]) -> None:
        with engine_of(app).begin() as connection:
            # Foreign keys are triggers: off for this transaction, every row comes back as it was.
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for name in changed:
                connection.exec_driver_sql(f'DELETE FROM "{name}"')
                connection.exec_driver_sql(
                    f'INSERT INTO "{name}" SELECT * FROM fuzz_baseline."{name}"'
                )

    return restore


@pytest.fixture
def world(template_db: Template, tmp_path: Path) -> Iterator[World]:
    app = make_app(tmp_path, **copy_instance(template_db, tmp_path))
    clients: dict[str, FlaskClient] = {}
    for who in IDENTITIES:
        clients[who] = english_client(app)
        assert login(clients[who], ROLE_USERS[who]).status_code == 302
    attempt_id = start(clients["learner"])  # a running attempt, for the exam routes
    open_study(app, clients["certifier"], ROLE_USERS["panellist"], ROLE_USERS["panellist2"])
    with Session(engine_of(app)) as s:
        ints = {attempt_id, 1, 2, 3, 6}
        for model in (User, OrgUnit, Study, Item):
            ints.update(i for i in s.exec(select(model.id)).all() if i is not None)  # type: ignore[attr-defined]
        numbers = s.exec(select(AttemptSlot.number).where(AttemptSlot.attempt_id == attempt_id))
        ints.update(numbers.all())
        codes = [c for c in s.exec(select(Certificate.code)).all() if c]
    strings = [
        "quick-certificate",
        "soa-baerekraft",
        "sdg-basics",
        "sustainability-intro",
        "01-what-is-sustainability",
        "sdgs",
        "event",
        "course",
        "exam",
        *codes[:3],
    ]
    values = [
        *strings,
        *(str(i) for i in sorted(ints)[:20]),
        *ROLE_USERS.values(),
        "",
        "0",
        "1",
        "2",
        "-1",
        "true",
        "on",
        "next",
        "prev",
        "summary",
        "approve",
        "reject",
        "learner",
        "certifier",
        "admin",
        "en",
        "nb",
        "0.70",
        "2026-12-31",
        "9999-12-31",
        "0001-01-01",
        "elearn-demo",
        "²",
        "٣",
        str(2**63),
        "9" * 5000,
        "9" * 400,
        "x" * 20_000,
        "a\x00b",
        "\u202eevil",
        "=HYPERLINK(1)",
        "//[",
        "/\\evil.example",
    ]
    tokens = {who: csrf_token(client) for who, client in clients.items()}
    world = World(
        app,
        clients,
        tokens,
        {who: _cookie_values(c) for who, c in clients.items()},
        sorted(ints),
        strings,
        values,
    )
    world.restore = _postgres_restorer(app) if POSTGRES else _sqlite_restorer(app, tmp_path)
    world.baseline = table_digests(app)
    yield world
    release_app(app)


def _rules(app: Flask) -> list[Any]:
    return sorted(
        (r for r in app.url_map.iter_rules() if set(r.methods or ()) & set(CHANGES)),
        key=lambda r: r.rule,
    )


@st.composite
def requests(draw: st.DrawFn, world: World, rules: list[Any]) -> dict[str, Any]:
    """One request: who sends it, to which rule, with what filled in, in which body."""
    rule = draw(st.sampled_from(rules))
    method = draw(st.sampled_from(sorted(set(rule.methods or ()) & set(CHANGES))))
    path = rule.rule
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            value = str(
                draw(
                    st.one_of(
                        st.sampled_from(world.ints),
                        st.sampled_from(HUGE_INTS),
                        st.integers(min_value=0, max_value=2**80),
                    )
                )
            )
            path = path.replace(f"<int:{name}>", value)
        else:
            value = draw(st.one_of(st.sampled_from(world.strings), st.text(min_size=1)))
            path = path.replace(f"<{name}>", quote(value, safe=""))
    value = st.one_of(st.sampled_from(world.values), st.text(max_size=30))
    fields = draw(
        st.dictionaries(
            st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=12)),
            st.one_of(value, st.lists(value, min_size=2, max_size=3)),
            max_size=8,
        )
    )
    # Mostly forms that parse, so that requests get past the parser into the views.
    raw = draw(st.integers(0, 9)) < 3
    content_type = draw(st.sampled_from(TYPES if raw else TYPES[:2]))
    body: Any
    if raw:
        body = draw(
            st.one_of(
                st.binary(max_size=200),
                st.text(max_size=200).map(str.encode),
                st.just(b'{"answer": "1", "go": "ne'),
                st.just(b'--x\r\nContent-Disposition: form-data; name="answer"\r\n\r\n1'),
            )
        )
    else:
        body = {k: v for k, v in fields.items() if k != "file"}
        if content_type == "multipart/form-data" and draw(st.booleans()):
            body["file"] = (io.BytesIO(draw(st.binary(max_size=300))), "upload.csv")
        if draw(st.booleans()):
            body["csrf_token"] = "<token>"  # the form's own field, as a browser posts it
    access = set(getattr(world.app.view_functions[rule.endpoint], "access", ()))
    allowed = [who for who in IDENTITIES if who in access] or list(IDENTITIES)
    return {
        # Mostly someone the route is for, so that requests get past the role check.
        "who": draw(st.sampled_from(allowed if draw(st.integers(0, 4)) else IDENTITIES)),
        "method": method,
        "path": path,
        "content_type": content_type,
        "raw": raw,
        "body": body,
        "rule": rule.rule,
    }


def send(world: World, request: dict[str, Any]) -> Any:
    who = request["who"]
    client, token = world.clients[who], world.tokens[who]
    headers = {"X-CSRFToken": token}
    body = request["body"]
    if not request["raw"]:
        body = {k: token if v == "<token>" else v for k, v in body.items()}
        return client.open(
            request["path"],
            method=request["method"],
            data=body,
            content_type=request["content_type"],
            headers=headers,
        )
    if request["content_type"] is not None:
        headers["Content-Type"] = request["content_type"]
    return client.open(request["path"], method=request["method"], data=body, headers=headers)


def test_no_state_changing_route_crashes_and_a_refusal_changes_nothing(world: World) -> None:
    rules = _rules(world.app)
    assert len(rules) > 25  # every form of the app, not a handful

    def timed(what: str, started: float) -> None:
        world.timings[what] = world.timings.get(what, 0.0) + time.perf_counter() - started

    def changed_tables() -> list[str]:
        started = time.perf_counter()
        after = table_digests(world.app)
        timed("hash", started)
        return sorted(name for name, digest in after.items() if world.baseline[name] != digest)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not os.environ.get("ELEARN_FUZZ_RANDOM"),
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.target, Phase.shrink),
    )
    @given(request=requests(world, rules))
    def one(request: dict[str, Any]) -> None:
        who = request["who"]
        what = f"{request['method']} {request['path'][:120]} ({request['rule']}) as {who}"
        started = time.perf_counter()
        response = send(world, request)
        timed("request", started)
        status = response.status_code
        world.seen[str(status)] = world.seen.get(str(status), 0) + 1
        changed: list[str] = []
        try:
            assert status < 500, f"{status} on {what}"
            changed = changed_tables()
            assert not (changed and status >= 400), f"{status} changed {changed}: {what}"
            location = response.headers.get("Location", "")
            if 300 <= status < 400 and location.startswith("/"):
                # Where an accepted change leads must show it (a due date of 9999 did not).
                shown = world.clients[who].get(location)
                assert shown.status_code < 500, (
                    f"{shown.status_code} on GET {location} after {what}"
                )
                changed = changed_tables()
        finally:
            if changed:
                started = time.perf_counter()
                world.restore(changed)
                timed("restore", started)
                world.seen["restored"] = world.seen.get("restored", 0) + 1
            _restore_cookies(world, who)

    one()
    print("fuzz answers:", world.seen, {k: round(v, 1) for k, v in world.timings.items()})
    assert any(status.startswith("4") for status in world.seen)
    assert any(status.startswith(("2", "3")) for status in world.seen)
