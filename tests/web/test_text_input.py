"""Names and free text are checked wherever they enter: stored in NFC, never with control or
bidi-override characters, never blank; a refusal names the field, in the user's language."""

from __future__ import annotations

import html
import io
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.fields import EmailField

from elearn.db import engine_of
from elearn.models import AuditEntry, Certificate, ExtraTime, Reflection, User
from tests.conftest import ROLE_USERS, csrf_token, english_client, login, post
from tests.mailbox import confirm_signup

# A control character a browser can send in a field (a NUL in any form is refused before the
# view with 400: tests/web/test_bad_input.py).
NUL = "Ann\x07Admin"
RLO = "Ann\u202eNIMDA"
SPACES = "   "
NFD = unicodedata.normalize("NFD", "Åse Ødegård")
CONTROL_MSG = "Full name: contains a control character, which is not allowed (U+0007)."
BIDI_MSG = (
    "Full name: contains a character that reverses the direction of text, which is not allowed "
    "(U+202E)."
)
BLANK_MSG = "Full name: needs visible text, not only spaces or invisible characters."
REFUSED = [(NUL, CONTROL_MSG), (RLO, BIDI_MSG), (SPACES, BLANK_MSG), ("\u200b\u3164", BLANK_MSG)]


def name_of(app: Flask, email: str) -> str | None:
    with Session(engine_of(app)) as s:
        return s.exec(select(User.name).where(User.email == email)).first()


def page_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- names on forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "message"), REFUSED)
def test_own_account_name_is_refused_with_a_message_naming_the_field(
    app: Flask, learner: FlaskClient, name: str, message: str
) -> None:
    response = post(learner, "/account", {"name": name, "locale": "en"})
    assert response.status_code == 200 and message in page_of(response)
    assert name_of(app, ROLE_USERS["learner"]) == "Lena Læring"


def test_own_account_name_is_stored_composed(app: Flask, learner: FlaskClient) -> None:
    assert post(learner, "/account", {"name": f" {NFD} ", "locale": "en"}).status_code == 302
    assert name_of(app, ROLE_USERS["learner"]) == "Åse Ødegård"


@pytest.mark.parametrize(("name", "message"), REFUSED)
def test_sign_up_refuses_the_name(app: Flask, client: FlaskClient, name: str, message: str) -> None:
    response = post(
        client,
        "/signup",
        {"name": name, "email": "new@example.org", "password": "x" * 12, "confirm": "x" * 12},
    )
    assert response.status_code == 200 and message in page_of(response)
    assert name_of(app, "new@example.org") is None


def test_sign_up_stores_the_name_composed(app: Flask, client: FlaskClient) -> None:
    response = post(
        client,
        "/signup",
        {"name": NFD, "email": "new@example.org", "password": "x" * 12, "confirm": "x" * 12},
    )
    assert response.status_code == 200
    assert confirm_signup(client, app, "new@example.org").status_code == 302
    assert name_of(app, "new@example.org") == "Åse Ødegård"


@pytest.mark.parametrize(("name", "message"), REFUSED)
def test_the_admins_user_form_refuses_the_name(
    app: Flask, admin: FlaskClient, name: str, message: str
) -> None:
    new = post(
        admin, "/admin/users/new", {"name": name, "email": "x@example.org", "roles": ["learner"]}
    )
    assert new.status_code == 200 and message in page_of(new)
    assert name_of(app, "x@example.org") is None
    with Session(engine_of(app)) as s:
        lena = s.exec(select(User).where(User.email == ROLE_USERS["learner"])).one()
    edit = post(
        admin,
        f"/admin/users/{lena.id}",
        {"name": name, "email": lena.email, "roles": ["learner"], "active": "y"},
    )
    assert edit.status_code == 200 and message in page_of(edit)
    assert name_of(app, ROLE_USERS["learner"]) == "Lena Læring"


def test_the_admins_user_form_stores_the_name_composed(app: Flask, admin: FlaskClient) -> None:
    response = post(
        admin, "/admin/users/new", {"name": NFD, "email": "x@example.org", "roles": ["learner"]}
    )
    assert response.status_code == 200 and "one-time link" in response.get_data(as_text=True)
    assert name_of(app, "x@example.org") == "Åse Ødegård"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("nb", "Fullt navn: inneholder et kontrolltegn, og det er ikke tillatt (U+0007)."),
        ("da", "Fulde navn: indeholder et kontroltegn, og det er ikke tilladt (U+0007)."),
    ],
)
def test_the_refusal_is_translated(app: Flask, language: str, message: str) -> None:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert login(client, ROLE_USERS["learner"]).status_code == 302
    response = post(client, "/account", {"name": NUL, "locale": language})
    assert message in page_of(response)


# --- free text -----------------------------------------------------------------------------------


def test_reflections_keep_line_breaks_and_refuse_control_and_bidi(
    app: Flask, learner: FlaskClient
) -> None:
    url = "/courses/sustainability-intro/modules/01-what-is-sustainability"
    text = "Første linje\r\n\tandre linje"
    assert post(learner, url, {"save": "1", "reflection-1": text}).status_code == 302
    for bad, code in (("a\x07b", "U+0007"), ("a\u202eb", "U+202E"), ("a\x0bb", "U+000B")):
        response = post(learner, url, {"save": "1", "reflection-1": bad})
        assert response.status_code == 400
        assert "Reflection 1: " in page_of(response) and code in page_of(response)
    with Session(engine_of(app)) as s:
        assert [r.answer for r in s.exec(select(Reflection))] == [text]
    nfd = unicodedata.normalize("NFD", "Økonomi og Åse")
    assert post(learner, url, {"save": "1", "reflection-1": nfd}).status_code == 302
    with Session(engine_of(app)) as s:
        assert [r.answer for r in s.exec(select(Reflection))] == ["Økonomi og Åse"]


def test_extra_time_reason_and_sign_off_comment_refuse_control_characters(
    app: Flask, as_role: Any
) -> None:
    certifier = as_role("certifier")
    response = post(
        certifier,
        "/certify/extra-time",
        {"email": ROLE_USERS["learner"], "exam": "quick-certificate", "minutes": "10",
         "reason": "dysleksi\x07"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Reason (kept with the grant): contains a control character" in page_of(response)
    with Session(engine_of(app)) as s:
        assert s.exec(select(ExtraTime)).all() == []
    refused = post(certifier, "/certify/reviews/1", {"decision": "reject", "comment": "x\u2067y"})
    assert refused.status_code == 400  # the comment is refused before anything is looked up


def test_a_revocation_reason_of_spaces_or_with_bidi_is_refused(app: Flask, as_role: Any) -> None:
    certifier = as_role("certifier")
    with Session(engine_of(app)) as s:
        code = s.exec(select(Certificate.code).where(Certificate.revoked_at.is_(None))).first()  # type: ignore[union-attr]
    for reason, message in (
        ("   ", "Reason for revoking: needs visible text"),
        ("fraud\u202e", "Reason for revoking: contains a character that reverses"),
    ):
        response = post(certifier, f"/certify/certificates/{code}", {"reason": reason})
        assert response.status_code == 200 and message in page_of(response)
    with Session(engine_of(app)) as s:
        cert = s.exec(select(Certificate).where(Certificate.code == code)).one()
        assert cert.revoked_at is None
        revoked = select(AuditEntry).where(AuditEntry.subject == f"certificate:{code}")
        assert "certificate.revoked" not in [e.action for e in s.exec(revoked)]


# --- staff file and command ----------------------------------------------------------------------


def upload(client: FlaskClient, text: str) -> Any:
    return client.post(
        "/admin/staff",
        data={
            "csrf_token": csrf_token(client),
            "file": (io.BytesIO(text.encode("utf-8")), "staff.csv"),
            "confirm": "y",
        },
        content_type="multipart/form-data",
    )


def test_the_staff_upload_refuses_bad_names_by_line_and_imports_nothing(
    app: Flask, admin: FlaskClient
) -> None:
    text = (
        "name,email,unit,roles\n"
        f"{NUL},a@example.org,Eksempel kommune,\n"
        f"{RLO},b@example.org,Eksempel kommune,\n"
        f'"{SPACES}",c@example.org,Eksempel kommune,\n'
        f"{NFD},d@example.org,Eksempel kommune,\n"
    )
    response = upload(admin, text)
    assert response.status_code == 400
    page = page_of(response)
    assert "name contains a control character, which is not allowed (U+0007)" in page
    assert "name contains a character that reverses the direction of text" in page
    assert "missing name" in page
    assert all(name_of(app, f"{x}@example.org") is None for x in "abcd")


def test_the_staff_upload_stores_names_composed(app: Flask, admin: FlaskClient) -> None:
    response = upload(admin, f"name,email,unit,roles\n{NFD},d@example.org,Eksempel kommune,\n")
    assert response.status_code == 302
    assert name_of(app, "d@example.org") == "Åse Ødegård"


def test_the_staff_command_refuses_a_nul_in_a_name(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(f"name,email,unit,roles\n{NUL},a@example.org,A,\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["staff", "import", str(path)])
    assert result.exit_code == 1 and f"{path}:2: name contains a control character" in result.output
    assert name_of(app, "a@example.org") is None


def test_the_users_command_refuses_bad_names_and_stores_nfc(app: Flask) -> None:
    runner = app.test_cli_runner()
    for bad in (NUL, RLO, SPACES):
        result = runner.invoke(
            args=["users", "create", "--email", "z@example.org", "--name", bad,
                  "--password", "a-long-password"],
        )  # fmt: skip
        assert result.exit_code == 1 and "--name: " in result.output, result.output
    assert name_of(app, "z@example.org") is None
    result = runner.invoke(
        args=["users", "create", "--email", "z@example.org", "--name", NFD, "--unit",
              "Eksempel kommune/Ny\u202e", "--password", "a-long-password"],
    )  # fmt: skip
    assert result.exit_code == 1 and "--unit: unit name contains a character" in result.output
    result = runner.invoke(
        args=["users", "create", "--email", "z@example.org", "--name", NFD,
              "--password", "a-long-password"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert name_of(app, "z@example.org") == "Åse Ødegård"


# --- every form ----------------------------------------------------------------------------------

NOT_TEXT = (EmailField, PasswordField, HiddenField)
CARRIERS = {("StaffUploadForm", "text")}  # the staff file itself, checked row by row


def test_every_text_field_of_every_form_checks_its_text(app: Flask) -> None:
    """A new StringField or TextAreaField without PlainText would let NUL or U+202E in."""
    from flask_wtf import FlaskForm

    from elearn.web.forms import PlainText

    def subclasses(cls: type) -> set[type]:
        return {cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))}

    checked, missing = 0, []
    for form_class in subclasses(FlaskForm):
        if not form_class.__module__.startswith("elearn."):
            continue
        for name, unbound in vars(form_class).items():
            field_class = getattr(unbound, "field_class", None)
            if field_class is None or not issubclass(field_class, StringField | TextAreaField):
                continue
            if issubclass(field_class, NOT_TEXT) or (form_class.__name__, name) in CARRIERS:
                continue
            checked += 1
            validators = unbound.kwargs.get("validators") or []
            if not any(isinstance(v, PlainText) for v in validators):
                missing.append(f"{form_class.__module__}.{form_class.__name__}.{name}")
    assert checked >= 10 and missing == []


# --- NUL where PostgreSQL would refuse it --------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/admin/?q=a%00b",
        "/certify/attempts?q=%00",
        "/certify/certificates?q=%00",
        "/certify/audit?person=a%00b",
        "/certify/audit?exam=a%00b",
        "/certify/audit?certificate=a%00b",
        "/?x%00=1",
    ],
)
def test_a_nul_in_a_query_string_is_a_bad_request(as_role: Any, path: str) -> None:
    client = as_role("admin")
    assert client.get(path).status_code == 400


def test_a_nul_in_an_e_mail_address_finds_no_account(app: Flask, as_role: Any) -> None:
    client = english_client(app)
    response = client.post(
        "/login",
        data={
            "email": ROLE_USERS["learner"] + "\x00",
            "password": "elearn-demo",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 400  # a NUL in a form is refused before any view
    response = post(
        as_role("certifier"),
        "/certify/extra-time",
        {"email": "a\x07@example.org", "exam": "quick-certificate", "minutes": "5"},
    )
    assert response.status_code == 200
    assert "There is no account with this e-mail address." in page_of(response)
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "a\x00b@example.org", "--name", "A",
              "--password", "a-long-password"],
    )  # fmt: skip
    assert result.exit_code == 1 and "--email: " in result.output
