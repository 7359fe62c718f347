"""Signing out ends the session on the server: a copied cookie is worth nothing afterwards."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from elearn.db import engine_of
from elearn.models import AuditEntry, LoginSession, User
from tests.conftest import DEMO_PASSWORD, csrf_token, english_client, login, post

SESSION_COOKIE = "session"
REMEMBER_COOKIE = "remember_token"


def sign_in(app: Flask, email: str = "learner@example.org", remember: bool = True) -> FlaskClient:
    client = english_client(app)
    data = {"email": email, "password": DEMO_PASSWORD, "csrf_token": csrf_token(client, "/login")}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302
    return client


def cookie(client: FlaskClient, name: str) -> str:
    found = client.get_cookie(name)
    assert found is not None and found.value, f"no {name} cookie"
    return found.value


def with_cookie(app: Flask, name: str, value: str) -> FlaskClient:
    """Another browser, anywhere, holding only this one copied cookie."""
    thief = english_client(app)
    thief.set_cookie(name, value)
    return thief


def signed_in(client: FlaskClient) -> bool:
    response = client.get("/account")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    return False


def sessions_of(app: Flask, email: str) -> list[LoginSession]:
    with Session(engine_of(app)) as s:
        user_id = s.exec(select(User.id).where(User.email == email)).one()
        return list(s.exec(select(LoginSession).where(LoginSession.user_id == user_id)))


def test_copied_cookies_stop_working_when_the_session_signs_out(app: Flask) -> None:
    first = sign_in(app, remember=True)
    session_value = cookie(first, SESSION_COOKIE)
    remember_value = cookie(first, REMEMBER_COOKIE)
    # Before: each copy alone signs its holder in, from any browser.
    assert signed_in(with_cookie(app, SESSION_COOKIE, session_value))
    assert signed_in(with_cookie(app, REMEMBER_COOKIE, remember_value))

    assert post(first, "/logout").status_code == 302

    assert not signed_in(first)
    assert not signed_in(with_cookie(app, SESSION_COOKIE, session_value))
    assert not signed_in(with_cookie(app, REMEMBER_COOKIE, remember_value))
    both = with_cookie(app, SESSION_COOKIE, session_value)
    both.set_cookie(REMEMBER_COOKIE, remember_value)
    assert not signed_in(both)


def test_sign_out_deletes_the_remember_cookie_in_the_browser(app: Flask) -> None:
    client = sign_in(app, remember=True)
    response = post(client, "/logout")
    cleared = [
        h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{REMEMBER_COOKIE}=")
    ]
    assert cleared and ("Max-Age=0" in cleared[0] or "1970" in cleared[0]), cleared
    assert client.get_cookie(REMEMBER_COOKIE) is None
    assert not signed_in(client)


def test_plain_sign_out_leaves_other_devices_signed_in(app: Flask) -> None:
    laptop, phone = sign_in(app), sign_in(app, remember=False)
    assert len(sessions_of(app, "learner@example.org")) == 2
    assert post(laptop, "/logout").status_code == 302
    assert not signed_in(laptop)
    assert signed_in(phone)
    assert len(sessions_of(app, "learner@example.org")) == 1


def test_sign_out_everywhere_ends_every_session_of_the_user_only(app: Flask) -> None:
    laptop, phone = sign_in(app), sign_in(app, remember=True)
    stolen = with_cookie(app, REMEMBER_COOKIE, cookie(phone, REMEMBER_COOKIE))
    someone_else = sign_in(app, "manager@example.org")
    page = laptop.get("/account").get_data(as_text=True)
    assert 'action="/account/sign-out-everywhere"' in page

    response = post(laptop, "/account/sign-out-everywhere")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "signed out everywhere" in laptop.get("/login").get_data(as_text=True)

    assert not signed_in(laptop) and not signed_in(phone) and not signed_in(stolen)
    assert sessions_of(app, "learner@example.org") == []
    assert signed_in(someone_else)
    with Session(engine_of(app)) as s:
        actions = list(s.exec(select(AuditEntry.action).order_by(col(AuditEntry.id).desc())))
    assert actions[0] == "user.signed_out_everywhere"
    # The owner signs in again as usual.
    assert signed_in(sign_in(app))


def test_sign_out_everywhere_needs_a_signed_in_post(app: Flask, client: FlaskClient) -> None:
    assert client.get("/account/sign-out-everywhere").status_code == 405
    response = post(client, "/account/sign-out-everywhere")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    learner = sign_in(app)
    refused = learner.post("/account/sign-out-everywhere")  # no CSRF token
    assert refused.status_code == 400 and signed_in(learner)


def test_an_expired_session_is_refused_even_with_valid_cookies(app: Flask) -> None:
    client = sign_in(app, remember=True)
    remember_value = cookie(client, REMEMBER_COOKIE)
    with Session(engine_of(app)) as s:
        for row in s.exec(select(LoginSession)):
            row.expires_at = row.created_at - timedelta(seconds=1)
        s.commit()
    assert not signed_in(client)
    assert not signed_in(with_cookie(app, REMEMBER_COOKIE, remember_value))


def test_sessions_last_as_long_as_their_cookies(app: Flask) -> None:
    sign_in(app, remember=True)
    sign_in(app, remember=False)
    lifetimes = sorted(r.expires_at - r.created_at for r in sessions_of(app, "learner@example.org"))
    assert lifetimes == [
        app.config["PERMANENT_SESSION_LIFETIME"],
        app.config["REMEMBER_COOKIE_DURATION"],
    ]


def test_only_a_hash_of_the_session_token_is_stored(app: Flask) -> None:
    client = sign_in(app, remember=True)
    remember_value = cookie(client, REMEMBER_COOKIE)
    token = remember_value.split("|")[0]
    (row,) = sessions_of(app, "learner@example.org")
    assert token not in row.token_hash and row.token_hash == LoginSession.digest(token)


def test_deactivating_an_account_ends_its_sessions(app: Flask, admin: FlaskClient) -> None:
    learner = sign_in(app)
    (row,) = sessions_of(app, "learner@example.org")
    post(
        admin,
        f"/admin/users/{row.user_id}",
        {"email": "learner@example.org", "name": "Lena Læring", "roles": "learner"},
    )
    assert not signed_in(learner)
    assert sessions_of(app, "learner@example.org") == []


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(app: Flask) -> None:
    here, there = sign_in(app), sign_in(app, remember=True)
    stolen = with_cookie(app, REMEMBER_COOKIE, cookie(there, REMEMBER_COOKIE))
    new = "brand-new-pw1"
    response = post(
        here, "/account/password", {"current": DEMO_PASSWORD, "password": new, "confirm": new}
    )
    assert response.status_code == 302
    assert signed_in(here) and not signed_in(there) and not signed_in(stolen)
    assert len(sessions_of(app, "learner@example.org")) == 1
    assert login(english_client(app), "learner@example.org", new).status_code == 302
