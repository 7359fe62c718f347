"""Searches take the user's text literally: '%', '_' and '\\' are not LIKE wildcards, in the admin
user list, the certifier's attempt list and the certificate list."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.models import Certificate
from elearn.services import accounts
from tests.web.test_certify_desk import add_attempts

NAMES = {
    "percent@example.org": "Kari 100% Hansen",
    "under@example.org": "Per_Olsen",
    "slash@example.org": "Ola \\ Normann",
    "plain@example.org": "Plain Person",
}


def shown_users(admin: FlaskClient, query: str) -> set[str]:
    page = admin.get(f"/admin/?q={quote(query)}").get_data(as_text=True)
    total = int(re.search(r"(\d+) user\(s\)", page).group(1))  # type: ignore[union-attr]
    found = {email for email in NAMES if email in page}
    assert total == len(found), (query, total, found)
    return found


def test_admin_search_takes_percent_underscore_and_backslash_literally(
    app: Flask, admin: FlaskClient
) -> None:
    with Session(engine_of(app)) as s:
        for email, name in NAMES.items():
            accounts.create_user(session=s, email=email, name=name, password=None, now=utcnow())
        s.commit()
    assert shown_users(admin, "%") == {"percent@example.org"}
    assert shown_users(admin, "100%") == {"percent@example.org"}
    assert shown_users(admin, "_") == {"under@example.org"}
    assert shown_users(admin, "r_o") == {"under@example.org"}  # not "r", any one letter, "o"
    assert shown_users(admin, "\\") == {"slash@example.org"}
    assert shown_users(admin, "%%") == set()


def test_attempt_search_takes_percent_and_underscore_literally(app: Flask, as_role: Any) -> None:
    when = utcnow() - timedelta(days=1)
    add_attempts(app, "percent@example.org", "Kari 100% Hansen", [when])
    add_attempts(app, "under@example.org", "Per_Olsen", [when])
    certifier = as_role("certifier")
    found = certifier.get("/certify/attempts?q=%25").get_data(as_text=True)
    assert "1 attempt(s)" in found and "Kari 100% Hansen" in found
    found = certifier.get("/certify/attempts?q=_").get_data(as_text=True)
    assert "1 attempt(s)" in found and "Per_Olsen" in found


def test_certificate_search_takes_percent_literally(app: Flask, as_role: Any) -> None:
    with Session(engine_of(app)) as s:
        cert = s.exec(select(Certificate).where(Certificate.holder_name == "Kari Gyldig")).one()
        cert.holder_name = "Kari 100% Gyldig"
        s.commit()
    certifier = as_role("certifier")
    found = certifier.get("/certify/certificates?q=%25").get_data(as_text=True)
    assert "1 certificate(s)" in found and "Kari 100% Gyldig" in found
    assert "0 certificate(s)" in certifier.get("/certify/certificates?q=_").get_data(as_text=True)
