"""Password guessing is slowed per account without locking out a cohort behind one address."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import english_client, login


def test_failed_sign_ins_to_one_account_are_capped(app: Flask, client: FlaskClient) -> None:
    for _ in range(10):
        assert login(client, "learner@example.org", "wrong-guess").status_code == 401
    blocked = login(client, "learner@example.org", "wrong-guess")
    assert blocked.status_code == 429
    assert "too many attempts" in blocked.get_data(as_text=True).lower()
    # Even the right password waits now: the guesser learns nothing.
    assert login(english_client(app), "learner@example.org").status_code == 429
    # Other accounts from the same address are not affected.
    assert login(english_client(app), "manager@example.org").status_code == 302


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
