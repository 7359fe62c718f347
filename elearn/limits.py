"""Brakes on password guessing: Flask-Limiter, one limiter per app, storage configurable.

A whole municipality may sign in from one NAT address when an exam starts, so the limit per
address is generous; the limit per account is strict and counts only failed sign-ins.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from elearn.domain.staff import normalise_email

GUARDED = ("auth.login", "auth.signup", "auth.reset")
# Look-ups of certificate codes: only failed ones count, so a verifier is never slowed down.
LOOKUPS = ("certificates.verify", "certificates.pdf", "certificates.credential")


def _account_key() -> str:
    return "account:" + normalise_email(request.form.get("email", ""))


def init_app(app: Flask) -> None:
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        default_limits=[],
    )
    for endpoint in GUARDED:
        view: Any = app.view_functions[endpoint]
        wrapped: Any = limiter.limit(
            lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], methods=["POST"]
        )(view)
        if endpoint == "auth.login":
            wrapped = limiter.limit(
                lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"],
                key_func=_account_key,
                methods=["POST"],
                deduct_when=lambda response: response.status_code == 401,
            )(wrapped)
        wrapped.access = view.access  # read by the route matrix test
        app.view_functions[endpoint] = wrapped
    for endpoint in LOOKUPS:
        view = app.view_functions[endpoint]
        wrapped = limiter.limit(
            lambda: current_app.config["VERIFY_LIMIT_PER_ADDRESS"],
            deduct_when=lambda response: response.status_code == 404,
        )(view)
        wrapped.access = view.access
        app.view_functions[endpoint] = wrapped
    app.extensions["elearn.limiter"] = limiter
