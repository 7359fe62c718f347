"""Starting and ending a browser's login session: shared by password and provider sign-in."""

from __future__ import annotations

from flask import current_app, session
from flask_login import login_user, logout_user

from elearn.auth import principal_of
from elearn.clock import utcnow
from elearn.db import get_session
from elearn.models import User
from elearn.services import accounts


def sign_in(user: User, remember: bool) -> None:
    """A new login session on the server for this browser, and its cookies."""
    session_ = get_session()
    assert user.id is not None
    # The server forgets the session when its cookie would expire: 12 hours, or 14 days when
    # the browser is remembered (config PERMANENT_SESSION_LIFETIME, REMEMBER_COOKIE_DURATION).
    lifetime = current_app.config[
        "REMEMBER_COOKIE_DURATION" if remember else "PERMANENT_SESSION_LIFETIME"
    ]
    token = accounts.start_session(
        session=session_, user_id=user.id, remember=remember, now=utcnow(), lifetime=lifetime
    )
    roles = accounts.user_roles(session=session_, user_id=user.id)
    login_user(principal_of(user, roles, token), remember=remember)


def forget_in_browser() -> None:
    """Drop the user from this browser's cookies: the session's contents and the remember
    cookie (Flask-Login deletes it when ``_remember`` says "clear", so that survives)."""
    logout_user()
    remember = session.get("_remember")
    session.clear()
    if remember:
        session["_remember"] = remember
