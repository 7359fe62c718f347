"""E-mail in the site: forgot password and sign-up by e-mail (the same answer whether or not the
address has an account), the admins' queue page and the development mailbox."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from elearn.clock import utcnow
from elearn.db import engine_of, open_session
from elearn.models import MailMessage, PasswordReset, SignupRequest, User
from elearn.services.mail import queue_mail
from tests.conftest import ROLE_USERS, csrf_token, english_client, login, post
from tests.mailbox import confirm_signup, link_in, messages

LEARNER = ROLE_USERS["learner"]


def forgot(client: FlaskClient, email: str) -> str:
    response = post(client, "/forgot", {"email": email})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def reset_with(client: FlaskClient, path: str, password: str) -> int:
    return int(
        client.post(
            path,
            data={
                "password": password,
                "confirm": password,
                "csrf_token": csrf_token(client, path),
            },
        ).status_code
    )


def test_forgot_password_mails_a_link_that_works_once(app: Flask, client: FlaskClient) -> None:
    assert 'href="/forgot"' in client.get("/login").get_data(as_text=True)
    page = forgot(client, LEARNER.upper())  # any case
    assert "Check your e-mail" in page
    [row] = messages(app, to=LEARNER)
    # In the account's language (none chosen: the site's default), not the asking browser's.
    assert row.template == "password_reset" and row.lang == "nb"
    path = link_in(row, "/reset/")
    assert f"http://127.0.0.1:5000{path}" in row.body_text  # at PUBLIC_URL
    assert client.get(path).status_code == 200
    assert reset_with(client, path, "a-brand-new-pw") == 302
    assert login(english_client(app), LEARNER, "a-brand-new-pw").status_code == 302
    # Once: the link is spent.
    assert client.get(path).status_code == 404
    assert reset_with(client, path, "yet-another-pw") == 404
    assert login(english_client(app), LEARNER, "yet-another-pw").status_code == 401


def test_the_reset_link_by_e_mail_expires(app: Flask, client: FlaskClient) -> None:
    forgot(client, LEARNER)
    path = link_in(messages(app, to=LEARNER)[0], "/reset/")
    with Session(engine_of(app)) as s:
        reset = s.exec(select(PasswordReset).order_by(PasswordReset.id.desc())).first()  # type: ignore[union-attr]
        assert reset is not None and reset.created_by_id is None
        assert reset.expires_at - reset.created_at == timedelta(minutes=60)
        reset.expires_at = utcnow() - timedelta(seconds=1)
        s.add(reset)
        s.commit()
    response = client.get(path)
    assert response.status_code == 404 and 'href="/forgot"' in response.get_data(as_text=True)


def test_forgot_password_answers_the_same_for_an_unknown_address(
    app: Flask, client: FlaskClient
) -> None:
    known = forgot(client, LEARNER).replace(LEARNER, "ADDRESS")
    unknown = forgot(client, "nobody@example.org").replace("nobody@example.org", "ADDRESS")
    strip = lambda page: page.split('name="csrf_token"')[0]  # noqa: E731
    assert strip(known) == strip(unknown)
    assert messages(app, to="nobody@example.org") == []


def test_a_deactivated_account_gets_no_reset_link(app: Flask, client: FlaskClient) -> None:
    with Session(engine_of(app)) as s:
        u = s.exec(select(User).where(User.email == LEARNER)).one()
        u.active = False
        s.add(u)
        s.commit()
    assert "Check your e-mail" in forgot(client, LEARNER)
    assert messages(app, to=LEARNER) == []


def test_forgot_password_refuses_a_malformed_address_without_mail(
    app: Flask, client: FlaskClient
) -> None:
    for bad in ("not-an-address", "", "a@b.org\r\nBcc: x@y.org", "x" * 300 + "@example.org"):
        response = post(client, "/forgot", {"email": bad})
        assert response.status_code == 200 and "Check your e-mail" not in response.get_data(
            as_text=True
        )
    assert messages(app) == []


def test_forgot_password_is_rate_limited_per_account_whether_or_not_it_exists(
    app: Flask,
) -> None:
    app.config["PASSWORD_FORGOT_LIMIT_PER_ACCOUNT"] = "2 per hour"
    for email in (LEARNER, "nobody@example.org"):
        client = english_client(app)
        codes = [post(client, "/forgot", {"email": email}).status_code for _ in range(3)]
        assert codes == [200, 200, 429], (email, codes)
    assert len(messages(app, to=LEARNER)) == 2


def test_the_admin_path_to_reset_links_stays(app: Flask, admin: FlaskClient) -> None:
    with Session(engine_of(app)) as s:
        learner_id = s.exec(select(User.id).where(User.email == LEARNER)).one()
    response = post(admin, f"/admin/users/{learner_id}/reset-link", {})
    assert response.status_code == 200 and "/reset/" in response.get_data(as_text=True)
    assert messages(app) == []  # shown to the admin, not mailed


def signup(client: FlaskClient, email: str, name: str = "Kari Nordmann") -> tuple[int, str]:
    response = post(
        client,
        "/signup",
        {"name": name, "email": email, "password": "long-enough-pw", "confirm": "long-enough-pw"},
    )
    return response.status_code, response.get_data(as_text=True)


def test_sign_up_answers_the_same_whether_or_not_the_address_has_an_account(
    app: Flask, client: FlaskClient
) -> None:
    new_status, new_page = signup(client, "kari@example.org")
    old_status, old_page = signup(english_client(app), LEARNER)
    assert new_status == old_status == 200

    def same(page: str, email: str) -> str:
        return page.replace(email, "ADDRESS").split('name="csrf_token"')[0]

    assert same(new_page, "kari@example.org") == same(old_page, LEARNER)
    # Each address got one message; the owner's says they have an account, and changes nothing.
    [confirm] = messages(app, to="kari@example.org")
    [exists] = messages(app, to=LEARNER)
    assert confirm.template == "signup_confirm" and exists.template == "account_exists"
    assert "/forgot" in exists.body_text and "/login" in exists.body_text
    assert login(english_client(app), LEARNER).status_code == 302  # the old password still works


def test_sign_up_takes_as_long_whether_or_not_the_address_has_an_account(app: Flask) -> None:
    """Both ways hash the password and queue one message: the medians stay within a factor
    (a lookup alone would be ten times faster than a password hash)."""

    def timed(email: str) -> float:
        client = english_client(app)
        token = csrf_token(client, "/signup")
        data = {
            "name": "Kari",
            "email": email,
            "password": "long-enough-pw",
            "confirm": "long-enough-pw",
            "csrf_token": token,
        }
        start = time.perf_counter()
        assert client.post("/signup", data=data).status_code == 200
        return time.perf_counter() - start

    timed("warm-up@example.org")
    new = [timed(f"new{n}@example.org") for n in range(5)]
    old = [timed(ROLE_USERS[role]) for role in ("learner", "manager", "certifier", "panellist")]
    ratio = statistics.median(new) / statistics.median(old)
    assert 0.5 < ratio < 2.0, (new, old)


def test_the_account_opens_when_the_address_is_confirmed_once(
    app: Flask, client: FlaskClient
) -> None:
    signup(client, "kari@example.org")
    link = link_in(messages(app, to="kari@example.org")[0], "/signup/confirm/")
    # Opening the link (as a mail scanner does) opens no account: the button does.
    assert client.get(link).status_code == 200
    with Session(engine_of(app)) as s:
        assert s.exec(select(User).where(User.email == "kari@example.org")).first() is None
    response = confirm_signup(client, app, "kari@example.org")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert client.get("/courses").status_code == 200  # signed in
    assert english_client(app).get(link).status_code == 404  # once
    assert login(english_client(app), "kari@example.org", "long-enough-pw").status_code == 302


def test_a_second_sign_up_confirmed_after_the_first_opens_nothing(
    app: Flask, client: FlaskClient
) -> None:
    signup(client, "kari@example.org", "Kari One")
    signup(english_client(app), "kari@example.org", "Kari Two")
    first, second = messages(app, to="kari@example.org")
    other = english_client(app)
    path = link_in(second, "/signup/confirm/")
    assert other.post(path, data={"csrf_token": csrf_token(other, path)}).status_code == 302
    path = link_in(first, "/signup/confirm/")
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    with Session(engine_of(app)) as s:
        [u] = s.exec(select(User).where(User.email == "kari@example.org")).all()
        assert u.name == "Kari Two"


def test_an_expired_or_forged_confirmation_link_opens_nothing(
    app: Flask, client: FlaskClient
) -> None:
    signup(client, "kari@example.org")
    path = link_in(messages(app, to="kari@example.org")[0], "/signup/confirm/")
    with Session(engine_of(app)) as s:
        pending = s.exec(select(SignupRequest)).one()
        pending.expires_at = utcnow() - timedelta(seconds=1)
        s.add(pending)
        s.commit()
    for link in (path, "/signup/confirm/forged-token", "/signup/confirm/" + "x" * 5000):
        assert client.get(link).status_code == 404
        token = csrf_token(client, "/login")
        assert client.post(link, data={"csrf_token": token}).status_code == 404
    with Session(engine_of(app)) as s:
        assert s.exec(select(User).where(User.email == "kari@example.org")).first() is None


def test_sign_up_is_rate_limited_per_address_typed_in(app: Flask) -> None:
    app.config["PASSWORD_FORGOT_LIMIT_PER_ACCOUNT"] = "2 per hour"
    codes = [signup(english_client(app), LEARNER)[0] for _ in range(3)]
    assert codes == [200, 200, 429]
    assert len(messages(app, to=LEARNER)) == 2


# --- the admins' pages ---------------------------------------------------------------------------


def queue_some(app: Flask) -> None:
    with open_session(app) as session:
        for n, lang in enumerate(("nb", "da", "en")):
            queue_mail(
                session,
                to=f"p{n}@example.org",
                template="password_reset",
                lang=lang,
                context={"name": "<script>x</script>", "reset_url": "https://x/r", "minutes": 5},
            )
        session.commit()
        row = session.exec(select(MailMessage).where(MailMessage.lang == "da")).one()
        row.rejected_at, row.last_error = utcnow(), "SMTP 550: 5.1.1 no such user"
        session.add(row)
        session.commit()


def test_the_admin_sees_the_queue_with_refusals_and_their_reasons(
    app: Flask, admin: FlaskClient
) -> None:
    queue_some(app)
    page = admin.get("/admin/mail").get_data(as_text=True)
    assert "p0@example.org" in page and "SMTP 550: 5.1.1 no such user" in page
    refused = admin.get("/admin/mail?state=refused").get_data(as_text=True)
    assert "p1@example.org" in refused and "p0@example.org" not in refused
    assert admin.get("/admin/mail?state=nonsense&page=-5").status_code == 200


def test_the_local_mailbox_shows_messages_in_development(app: Flask, admin: FlaskClient) -> None:
    queue_some(app)
    listing = admin.get("/admin/mailbox").get_data(as_text=True)
    assert "Tilbakestill passordet ditt" in listing and "Nulstil din adgangskode" in listing
    with Session(engine_of(app)) as s:
        row = s.exec(select(MailMessage).where(MailMessage.lang == "nb")).one()
    one = admin.get(f"/admin/mailbox/{row.id}")
    assert one.status_code == 200 and "Hei, &lt;script&gt;" in one.get_data(as_text=True)
    html = admin.get(f"/admin/mailbox/{row.id}/html")
    assert html.status_code == 200 and "sandbox" in html.headers["Content-Security-Policy"]
    assert "<script>" not in html.get_data(as_text=True)  # escaped when rendered
    assert admin.get(f"/admin/mailbox/{row.id}/files/0").status_code == 404


def test_the_mailbox_is_closed_once_a_mail_server_is_set(app: Flask, admin: FlaskClient) -> None:
    queue_some(app)
    app.config["MAIL_HOST"] = "smtp.example.no"
    assert admin.get("/admin/mailbox").status_code == 404
    assert admin.get("/admin/mailbox/1").status_code == 404
    assert "smtp.example.no" in admin.get("/admin/mail").get_data(as_text=True)


@pytest.mark.parametrize("role", ["learner", "manager", "certifier"])
def test_only_admins_see_mail(app: Flask, as_role, role: str) -> None:  # type: ignore[no-untyped-def]
    client = as_role(role)
    for path in ("/admin/mail", "/admin/mailbox", "/admin/mailbox/1", "/admin/mailbox/1/html"):
        assert client.get(path).status_code == 403


def test_forgot_password_takes_as_long_whether_or_not_the_address_has_an_account(
    app: Flask,
) -> None:
    """A known address makes a link and a message; the answer waits for a floor that covers it."""
    app.config["PASSWORD_FORGOT_LIMIT_PER_ADDRESS"] = "100 per hour"

    def timed(email: str) -> float:
        client = english_client(app)
        token = csrf_token(client, "/forgot")
        start = time.perf_counter()
        assert client.post("/forgot", data={"email": email, "csrf_token": token}).status_code == 200
        return time.perf_counter() - start

    known = [timed(ROLE_USERS[role]) for role in ("learner", "manager", "certifier", "admin")]
    unknown = [timed(f"nobody{n}@example.org") for n in range(4)]
    floor = app.config["PASSWORD_FORGOT_ANSWER_SECONDS"]
    assert min(known + unknown) >= floor
    assert 0.8 < statistics.median(known) / statistics.median(unknown) < 1.25, (known, unknown)
