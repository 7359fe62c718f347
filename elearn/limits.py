"""Brakes on password guessing: Flask-Limiter, one limiter per app, storage configurable.

A whole municipality may sign in from one NAT address when an exam starts, so the limit per
address is generous. Failed sign-ins are counted per account *and* address, strictly: a guesser
is slowed down without locking the owner out, who signs in from their own machine (ten wrong
passwords for someone else's e-mail used to lock its owner out everywhere for ten minutes). A
much higher ceiling per account as a whole stops guessing spread over many addresses. Nothing
sleeps: a throttled attempt is answered at once with 429.

The counts must be shared by every process that serves the site (``RATELIMIT_STORAGE_URI``,
e.g. Redis): with ``memory://`` each gunicorn worker counts apart, so N workers allow N times
as many guesses, and a recycled worker starts from zero. Production refuses that (``check_store``,
called by the gunicorn master before it forks).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse
from werkzeug.exceptions import TooManyRequests

from elearn.domain.staff import normalise_email

GUARDED = ("auth.login", "auth.signup", "auth.reset", "auth.forgot", "auth.confirm_signup")
# Each of these e-mails the address in the form: a brake per address typed in (against filling
# someone's inbox), and for reset links one per network address too. Only what sent a message
# counts (a view sets MAILED on g), so a mistyped form costs nothing.
MAILS = {
    "auth.forgot": ("PASSWORD_FORGOT_LIMIT_PER_ACCOUNT", "PASSWORD_FORGOT_LIMIT_PER_ADDRESS"),
    "auth.signup": ("PASSWORD_FORGOT_LIMIT_PER_ACCOUNT", None),
}
MAILED = "elearn_mailed"
# Look-ups of certificate codes: the page, the PDF and the signed credential (JWT and JSON-LD)
# share one budget of failed look-ups per address; a code that exists is always answered
# (docs/decisions/0014).
LOOKUPS = (
    "certificates.verify",
    "certificates.pdf",
    "certificates.credential",
    "issuer.credential_jsonld",
)
LOOKUP_SCOPE = "verify-lookups"
UPLOAD = "certificates.verify_upload"


# Stores whose counts live in one process: each worker would count for itself.
PER_PROCESS_SCHEMES = frozenset({"memory"})


class PerProcessStore(RuntimeError):
    """Production with several worker processes and a limiter store of each process's own."""


def per_process(storage_uri: str) -> bool:
    return storage_uri.partition("://")[0].lower() in PER_PROCESS_SCHEMES


def check_store(*, production: bool, storage_uri: str, workers: int) -> str | None:
    """Raise when production would count sign-ins apart in several workers; return a warning
    when one production worker does (its counts start again whenever it is recycled)."""
    if not production or not per_process(storage_uri):
        return None
    if workers > 1:
        raise PerProcessStore(
            f"RATELIMIT_STORAGE_URI is {storage_uri!r}, a store of each worker process's own: "
            f"with {workers} workers the sign-in limits would allow {workers} times as many "
            "guesses and start again whenever a worker is recycled. Set RATELIMIT_STORAGE_URI to "
            "a shared store such as redis://127.0.0.1:6379/0 (in instance/config.py, or "
            "ELEARN_RATELIMIT_STORAGE_URI), or run a single worker; see docs/deploy.md."
        )
    return (
        f"RATELIMIT_STORAGE_URI is {storage_uri!r}: the sign-in limits start again whenever "
        "the worker is recycled; a shared store such as redis:// keeps them (docs/deploy.md)."
    )


def _account_key() -> str:
    return "account:" + normalise_email(request.form.get("email", ""))


def _account_and_address_key() -> str:
    return f"{_account_key()}|address:{get_remote_address()}"


def _failed(response: Any) -> bool:
    return bool(response.status_code == 401)


def _mailed(response: Any) -> bool:
    return bool(g.get(MAILED))


def init_app(app: Flask) -> None:
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        default_limits=[],
    )
    # Per address: sign-in, sign-up and reset; and PDF uploads on /verify (each is parsed and its
    # signature checked).
    per_address = {
        **dict.fromkeys(GUARDED, "SIGN_IN_LIMIT_PER_ADDRESS"),
        UPLOAD: "VERIFY_UPLOAD_LIMIT_PER_ADDRESS",
    }
    for endpoint, setting in per_address.items():
        view: Any = app.view_functions[endpoint]
        wrapped: Any = limiter.limit(_setting(setting), methods=["POST"])(view)
        if endpoint in MAILS:
            by_account, by_address = MAILS[endpoint]
            wrapped = limiter.limit(
                _setting(by_account),
                key_func=_account_key,
                methods=["POST"],
                deduct_when=_mailed,
                scope=f"{endpoint}:account",
            )(wrapped)
            if by_address:
                wrapped = limiter.limit(
                    _setting(by_address),
                    methods=["POST"],
                    deduct_when=_mailed,
                    scope=f"{endpoint}:address",
                )(wrapped)
        if endpoint == "auth.login":
            wrapped = limiter.limit(
                lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT_AND_ADDRESS"],
                key_func=_account_and_address_key,
                methods=["POST"],
                deduct_when=_failed,
            )(wrapped)
            wrapped = limiter.limit(
                lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"],
                key_func=_account_key,
                methods=["POST"],
                deduct_when=_failed,
            )(wrapped)
        wrapped.access = view.access  # read by the route matrix test
        app.view_functions[endpoint] = wrapped
    for endpoint in LOOKUPS:
        app.view_functions[endpoint] = _lookup_budget(app.view_functions[endpoint])
    app.extensions["elearn.limiter"] = limiter


def _setting(name: str) -> Callable[[], str]:
    """The limit in a setting, read at each request (tests and operators change it)."""
    return lambda: str(current_app.config[name])


def _lookup_budget(view: Any) -> Any:
    """Count the view's failed look-ups (404) against the address's one budget for every
    look-up endpoint, in the shared store; past it a failed look-up is answered 429 with
    Retry-After. The look-up runs first, so a code that exists is never refused."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code != 404:
            return response
        retry_after = _spend_failed_lookup()
        if retry_after is None:
            return response
        if response.mimetype == "application/json":
            refused = current_app.make_response(({"error": "too many failed look-ups"}, 429))
        else:
            refused = current_app.make_response(
                current_app.handle_http_exception(TooManyRequests())
            )
        refused.headers["Retry-After"] = str(retry_after)
        return refused

    return wrapped


def _spend_failed_lookup() -> int | None:
    """Count one failed look-up; the seconds to wait when the budget is spent, else None."""
    limiter: Limiter = current_app.extensions["elearn.limiter"]
    limit = parse(current_app.config["VERIFY_LIMIT_PER_ADDRESS"])
    address = get_remote_address()
    try:
        if limiter.limiter.hit(limit, LOOKUP_SCOPE, address):
            return None
        reset_at = limiter.limiter.get_window_stats(limit, LOOKUP_SCOPE, address).reset_time
    except Exception:  # the store does not answer: a look-up is not refused for that
        current_app.logger.warning("verify limit: the limiter store does not answer")
        return None
    return max(1, math.ceil(reset_at - time.time()))
