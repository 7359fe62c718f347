"""Reading the e-mail outbox in tests: the messages queued, and the links in them."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from elearn.db import engine_of
from elearn.models import MailMessage

LINK = re.compile(r"https?://\S+")


def messages(app: Flask, to: str | None = None, template: str | None = None) -> list[MailMessage]:
    with Session(engine_of(app)) as s:
        query = select(MailMessage).order_by(col(MailMessage.id))
        if to is not None:
            query = query.where(MailMessage.to_address == to)
        if template is not None:
            query = query.where(MailMessage.template == template)
        return list(s.exec(query).all())


def link_in(row: MailMessage, path: str) -> str:
    """The path (and query) of the first link in the plain text whose path starts with ``path``."""
    from urllib.parse import urlsplit

    for url in LINK.findall(row.body_text):
        parts = urlsplit(url)
        if parts.path.startswith(path):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"no link to {path} in:\n{row.body_text}")


def confirm_signup(client: FlaskClient, app: Flask, email: str) -> object:
    """Open the sign-up link e-mailed to ``email`` and press its button."""
    from tests.conftest import csrf_token

    [row] = messages(app, to=email, template="signup_confirm")[-1:]
    path = link_in(row, "/signup/confirm/")
    return client.post(path, data={"csrf_token": csrf_token(client, path)})
