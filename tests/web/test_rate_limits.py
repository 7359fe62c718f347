"""Password guessing is slowed per account without locking out a cohort behind one address."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from limits import parse
from sqlalchemy.engine import make_url

from elearn.db import engine_of
from elearn.limits import PerProcessStore, check_store
from tests.conftest import (
    POSTGRES,
    REDIS,
    Template,
    copy_instance,
    drop_database,
    english_client,
    login,
    make_app,
)

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


GUESSER = "203.0.113.9"  # one address (documentation ranges, RFC 5737)
OWNER = "198.51.100.7"


def from_address(app: Flask, address: str) -> FlaskClient:
    client = english_client(app)
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_guesser_is_throttled_on_the_account_from_their_address(app: Flask) -> None:
    guesser = from_address(app, GUESSER)
    for _ in range(10):
        assert login(guesser, "learner@example.org", "wrong-guess").status_code == 401
    blocked = login(guesser, "learner@example.org", "wrong-guess")
    assert blocked.status_code == 429
    assert "too many attempts" in blocked.get_data(as_text=True).lower()
    # Even the right password waits there now: the guesser learns nothing.
    assert login(from_address(app, GUESSER), "learner@example.org").status_code == 429
    # Other accounts from the same address are not affected.
    assert login(from_address(app, GUESSER), "manager@example.org").status_code == 302


def test_the_owner_still_signs_in_from_their_own_machine(app: Flask) -> None:
    guesser = from_address(app, GUESSER)
    for _ in range(10):
        assert login(guesser, "learner@example.org", "wrong-guess").status_code == 401
    for _ in range(5):  # the guesser goes on, and is refused
        assert login(guesser, "learner@example.org", "wrong-guess").status_code == 429
    owner = from_address(app, OWNER)
    assert login(owner, "learner@example.org", "typo-in-it").status_code == 401
    assert login(owner, "learner@example.org").status_code == 302


def test_one_address_cannot_lock_a_whole_unit_out(app: Flask) -> None:
    guesser = from_address(app, GUESSER)
    unit = ("learner@example.org", "learner2@example.org", "manager@example.org")
    for email in unit:
        for _ in range(11):
            login(guesser, email, "wrong-guess")
    for email in unit:
        assert login(from_address(app, OWNER), email).status_code == 302


def test_the_ceiling_per_account_applies_across_addresses(app: Flask) -> None:
    app.config["SIGN_IN_LIMIT_PER_ACCOUNT"] = "25 per hour"
    for address, guesses in (("203.0.113.1", 10), ("203.0.113.2", 10), ("203.0.113.3", 5)):
        client = from_address(app, address)
        for _ in range(guesses):
            assert login(client, "learner@example.org", "wrong-guess").status_code == 401
    # 25 failures from many addresses: the account waits, wherever the next try comes from.
    assert login(from_address(app, "203.0.113.4"), "learner@example.org", "x").status_code == 429
    assert login(from_address(app, OWNER), "learner@example.org").status_code == 429
    assert login(from_address(app, OWNER), "manager@example.org").status_code == 302


def test_one_address_alone_never_reaches_the_ceiling_per_account(app: Flask) -> None:
    per_pair = parse(app.config["SIGN_IN_LIMIT_PER_ACCOUNT_AND_ADDRESS"])
    ceiling = parse(app.config["SIGN_IN_LIMIT_PER_ACCOUNT"])
    # Fixed windows: one address gets a full allowance in every pair window that touches the
    # ceiling's window, one more than fit in it.
    windows = math.ceil(ceiling.get_expiry() / per_pair.get_expiry()) + 1
    assert per_pair.amount * windows < ceiling.amount


def test_successful_sign_ins_do_not_count_against_the_account(app: Flask) -> None:
    for _ in range(12):
        c = english_client(app)
        assert login(c, "learner@example.org").status_code == 302


def test_per_address_limit_is_high_enough_for_a_cohort(app: Flask) -> None:
    assert app.config["SIGN_IN_LIMIT_PER_ADDRESS"] == "300 per minute"
    app.config["SIGN_IN_LIMIT_PER_ADDRESS"] = "3 per minute"
    c = english_client(app)
    for email in ("learner@example.org", "manager@example.org", "admin@example.org"):
        assert login(c, email, "wrong-guess").status_code == 401
    assert login(c, "certifier@example.org").status_code == 429


# --- one count for every worker (issue 14, point 4) ------------------------------------------


def another_worker(app: Flask) -> Flask:
    """A second process serving the same site: same database, same limiter store."""
    return make_app(
        Path(app.instance_path),
        DATABASE_URL=app.config["DATABASE_URL"],
        RATELIMIT_STORAGE_URI=app.config["RATELIMIT_STORAGE_URI"],
        RATELIMIT_STORAGE_OPTIONS=app.config.get("RATELIMIT_STORAGE_OPTIONS", {}),
    )


@pytest.mark.skipif(not REDIS, reason="no Redis answers: the limiter runs in memory")
def test_workers_share_one_count_of_failed_sign_ins(app: Flask) -> None:
    assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
    second = another_worker(app)
    try:
        # A guesser whose requests are spread over two workers gets 10 guesses, not 20.
        for i in range(10):
            worker = app if i % 2 else second
            assert login(english_client(worker), "learner@example.org", "guess").status_code == 401
        for worker in (app, second):
            assert login(english_client(worker), "learner@example.org", "guess").status_code == 429
    finally:
        engine_of(second).dispose()


def test_the_store_outlives_a_recycled_worker(app: Flask) -> None:
    if not REDIS:
        pytest.skip("no Redis answers: the limiter runs in memory")
    for _ in range(10):
        assert login(english_client(app), "learner@example.org", "guess").status_code == 401
    recycled = another_worker(app)  # gunicorn replaced the worker (max_requests)
    try:
        assert login(english_client(recycled), "learner@example.org", "guess").status_code == 429
    finally:
        engine_of(recycled).dispose()


def test_sign_in_goes_on_while_the_shared_store_is_down(
    template_db: Template, tmp_path: Path
) -> None:
    # Nothing listens on port 1: the limiter counts in the process until the store is back.
    app = make_app(
        tmp_path,
        **copy_instance(template_db, tmp_path),
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
    )
    try:
        assert login(english_client(app), "manager@example.org").status_code == 302
        for _ in range(10):
            assert login(english_client(app), "learner@example.org", "guess").status_code == 401
        assert login(english_client(app), "learner@example.org", "guess").status_code == 429
    finally:
        engine_of(app).dispose()
        if POSTGRES:
            drop_database(str(make_url(app.config["DATABASE_URL"]).database))


def test_production_with_several_workers_needs_a_shared_store() -> None:
    with pytest.raises(PerProcessStore, match="RATELIMIT_STORAGE_URI"):
        check_store(production=True, storage_uri="memory://", workers=2)
    assert check_store(production=True, storage_uri="redis://127.0.0.1:6379/0", workers=8) is None
    assert check_store(production=False, storage_uri="memory://", workers=4) is None
    warning = check_store(production=True, storage_uri="memory://", workers=1)
    assert warning and "RATELIMIT_STORAGE_URI" in warning


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gunicorn_refuses_to_start_production_workers_counting_apart(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ELEARN_INSTANCE_PATH": str(tmp_path),
        "ELEARN_SECRET_KEY": "x",
        "ELEARN_PRODUCTION": "true",
        "ELEARN_PUBLIC_URL": "https://kurs.example.no",
        "ELEARN_WORKERS": "2",
        "ELEARN_RATELIMIT_STORAGE_URI": "memory://",
        "ELEARN_BIND": f"127.0.0.1:{free_port()}",
    }
    result = subprocess.run(
        [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), "elearn.wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "RATELIMIT_STORAGE_URI is 'memory://'" in result.stderr, result.stderr
    assert "Booting worker" not in result.stderr
