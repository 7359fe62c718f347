"""Sign-in, sign-up, passwords and reset links, including the ways they are misused."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from elearn.db import engine_of
from elearn.models import AuditEntry, PasswordReset, User, UserRole
from tests.conftest import csrf_token, english_client, login, post
from tests.mailbox import confirm_signup

GENERIC = "The e-mail address or the password is not right."


def user(app: Flask, email: str) -> User | None:
    with Session(engine_of(app)) as s:
        return s.exec(select(User).where(User.email == email)).first()


def test_sign_in_and_out(client: FlaskClient) -> None:
    response = login(client, "learner@example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Lena Læring" in client.get("/").get_data(as_text=True)
    response = post(client, "/logout")
    assert response.status_code == 302
    assert client.get("/courses").status_code == 302  # signed out: back to the login page


def test_email_is_case_insensitive(client: FlaskClient) -> None:
    assert login(client, "  Learner@Example.ORG ").status_code == 302


def test_wrong_password_and_unknown_email_get_one_generic_message(client: FlaskClient) -> None:
    wrong = login(client, "learner@example.org", "not-the-password")
    unknown = login(client, "nobody@example.org", "whatever-123")
    assert wrong.status_code == unknown.status_code == 401
    assert GENERIC in wrong.get_data(as_text=True)
    assert GENERIC in unknown.get_data(as_text=True)


def test_deactivated_account_cannot_sign_in(app: Flask, client: FlaskClient) -> None:
    with Session(engine_of(app)) as s:
        u = s.exec(select(User).where(User.email == "learner@example.org")).one()
        u.active = False
        s.commit()
    response = login(client, "learner@example.org")
    assert response.status_code == 401 and GENERIC in response.get_data(as_text=True)


def test_form_without_csrf_token_is_refused_with_a_page_not_a_trace(client: FlaskClient) -> None:
    response = client.post(
        "/login", data={"email": "learner@example.org", "password": "elearn-demo"}
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "The form had expired" in body and "Traceback" not in body
    assert client.get("/courses").status_code == 302  # not signed in


def test_forged_csrf_token_is_refused(client: FlaskClient) -> None:
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": "learner@example.org", "password": "elearn-demo", "csrf_token": "forged"},
    )
    assert response.status_code == 400


def test_next_goes_to_a_local_page_only(client: FlaskClient) -> None:
    token = csrf_token(client, "/login")
    ok = client.post(
        "/login",
        data={
            "email": "learner@example.org",
            "password": "elearn-demo",
            "next": "/me/reflections",
            "csrf_token": token,
        },
    )
    assert ok.headers["Location"] == "/me/reflections"
    post(client, "/logout")
    token = csrf_token(client, "/login")
    evil = client.post(
        "/login",
        data={
            "email": "learner@example.org",
            "password": "elearn-demo",
            "next": "//evil.example/x",
            "csrf_token": token,
        },
    )
    assert evil.headers["Location"] == "/"


def test_logout_needs_post(learner: FlaskClient) -> None:
    assert learner.get("/logout").status_code == 405


def test_signup_creates_a_learner(app: Flask, client: FlaskClient) -> None:
    response = post(
        client,
        "/signup",
        {
            "name": "Kari Nordmann",
            "email": "kari@example.org",
            "password": "long-enough-pw",
            "confirm": "long-enough-pw",
        },
    )
    assert response.status_code == 200 and "Check your e-mail" in response.get_data(as_text=True)
    assert user(app, "kari@example.org") is None  # not before the address is confirmed
    assert confirm_signup(client, app, "kari@example.org").status_code == 302
    u = user(app, "kari@example.org")
    assert u is not None and u.password_hash != "long-enough-pw"
    with Session(engine_of(app)) as s:
        assert s.exec(select(UserRole.role).where(UserRole.user_id == u.id)).all() == ["learner"]
    assert client.get("/courses").status_code == 200


def test_signup_refuses_bad_input_and_saves_nothing(app: Flask, client: FlaskClient) -> None:
    cases = [
        (
            {"name": "K", "email": "k@example.org", "password": "short", "confirm": "short"},
            "Field must be between 10 and 128 characters long.",
        ),
        (
            {
                "name": "K",
                "email": "k@example.org",
                "password": "long-enough-pw",
                "confirm": "other-password",
            },
            "The passwords differ.",
        ),
        (
            {
                "name": "K",
                "email": "not-an-email",
                "password": "long-enough-pw",
                "confirm": "long-enough-pw",
            },
            "Invalid email address.",
        ),
        (
            {
                "name": "",
                "email": "k@example.org",
                "password": "long-enough-pw",
                "confirm": "long-enough-pw",
            },
            "This field is required.",
        ),
    ]
    for data, message in cases:
        response = post(client, "/signup", data)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    assert user(app, "k@example.org") is None


def test_admin_can_close_self_signup(app: Flask, admin: FlaskClient, client: FlaskClient) -> None:
    assert post(admin, "/admin/settings", {}).status_code == 302  # unchecked box: off
    assert client.get("/signup").status_code == 403
    response = post(
        client,
        "/signup",
        {
            "name": "K",
            "email": "k@example.org",
            "password": "long-enough-pw",
            "confirm": "long-enough-pw",
        },
    )
    assert response.status_code == 403
    assert user(app, "k@example.org") is None
    assert "Create an account" not in client.get("/login").get_data(as_text=True)
    post(admin, "/admin/settings", {"self_signup": "y"})
    assert client.get("/signup").status_code == 200


def test_change_password_ends_other_sessions(app: Flask, as_role) -> None:  # type: ignore[no-untyped-def]
    first, second = as_role("learner"), as_role("learner")
    wrong = post(
        first,
        "/account/password",
        {"current": "nope-nope-nope", "password": "brand-new-pw1", "confirm": "brand-new-pw1"},
    )
    assert "The current password is not right." in wrong.get_data(as_text=True)
    ok = post(
        first,
        "/account/password",
        {"current": "elearn-demo", "password": "brand-new-pw1", "confirm": "brand-new-pw1"},
    )
    assert ok.status_code == 302
    assert first.get("/courses").status_code == 200  # this session goes on
    assert second.get("/courses").status_code == 302  # the other one ended
    fresh = english_client(app)
    assert login(fresh, "learner@example.org").status_code == 401
    assert login(fresh, "learner@example.org", "brand-new-pw1").status_code == 302


def _reset_link(admin: FlaskClient, app: Flask, email: str) -> str:
    target = user(app, email)
    assert target is not None
    page = post(admin, f"/admin/users/{target.id}/reset-link").get_data(as_text=True)
    match = re.search(r'value="http://localhost(/reset/[^"]+)"', page)
    assert match, page
    return match.group(1)


def test_reset_link_works_once(app: Flask, admin: FlaskClient, client: FlaskClient) -> None:
    path = _reset_link(admin, app, "learner@example.org")
    assert client.get(path).status_code == 200
    done = post(client, path, {"password": "reset-password-1", "confirm": "reset-password-1"})
    assert done.status_code == 302
    assert login(client, "learner@example.org", "reset-password-1").status_code == 302
    post(client, "/logout")
    assert client.get(path).status_code == 404  # used
    again = post(client, path, {"password": "another-pass-2", "confirm": "another-pass-2"})
    assert again.status_code == 404
    assert login(client, "learner@example.org", "another-pass-2").status_code == 401
    with Session(engine_of(app)) as s:
        actions = s.exec(select(AuditEntry.action)).all()
    assert "user.password_reset" in actions


def test_new_reset_link_voids_the_old_and_expired_links_fail(
    app: Flask, admin: FlaskClient, client: FlaskClient
) -> None:
    old = _reset_link(admin, app, "learner@example.org")
    new = _reset_link(admin, app, "learner@example.org")
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    with Session(engine_of(app)) as s:
        for reset in s.exec(select(PasswordReset)).all():
            reset.expires_at = reset.created_at - timedelta(seconds=1)
        s.commit()
    assert client.get(new).status_code == 404
    assert client.get("/reset/made-up-token").status_code == 404


def test_profile_language_sets_the_interface_language(learner: FlaskClient) -> None:
    response = post(learner, "/account", {"name": "Lena Læring", "locale": "en"})
    assert response.status_code == 302
    assert '<html lang="en">' in learner.get("/courses").get_data(as_text=True)
    post(learner, "/account", {"name": "Lena Læring", "locale": "da"})
    assert '<html lang="da">' in learner.get("/courses").get_data(as_text=True)
    bad = post(learner, "/account", {"name": "Lena Læring", "locale": "xx"})
    assert bad.status_code == 200 and "Not a valid choice" in bad.get_data(as_text=True)


def test_browser_language_is_the_first_guess(client: FlaskClient) -> None:
    for header, lang in (("da-DK,da;q=0.9", "da"), ("nn-NO", "nb"), ("en-GB", "en"), ("fr", "nb")):
        page = client.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)
        assert f'<html lang="{lang}">' in page, header


def test_language_switch_for_anonymous_visitors(client: FlaskClient) -> None:
    response = post(client, "/language", {"lang": "da", "next": "/login"})
    assert response.headers["Location"] == "/login"
    assert '<html lang="da">' in client.get("/login", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert post(client, "/language", {"lang": "klingon"}).status_code == 400


def test_no_password_is_hashed_at_import_and_the_dummy_hash_is_made_once() -> None:
    code = (
        "import werkzeug.security as ws\n"
        "calls = []\n"
        "real = ws.generate_password_hash\n"
        "ws.generate_password_hash = lambda *a, **k: calls.append(1) or real(*a, **k)\n"
        "from elearn.services import accounts\n"
        "imported = len(calls)\n"
        "first = accounts._dummy_hash()\n"
        "assert accounts._dummy_hash() == first\n"
        "print(imported, len(calls))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.split() == ["0", "1"]


def test_an_unknown_email_still_checks_a_password(app: Flask, client: FlaskClient) -> None:
    from elearn.services import accounts

    accounts._dummy_hash.cache_clear()
    response = login(client, "nobody@example.org", "whatever-password")
    assert response.status_code == 401 and accounts._dummy_hash.cache_info().misses == 1
