"""A write that finds SQLite's lock taken is tried again within a budget, then answered 503.

Only short writes that a learner's page repeats on its own (an answer's save) are wrapped: the
whole request (sign-in check and view) runs again from a clean session, so nothing of a failed
try is kept, and the one commit after the view stays as it is (docs/decisions/0007).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError

from elearn.db import is_locked, lock_wait, rollback_request

F = TypeVar("F", bound=Callable[..., Any])
FIRST_PAUSE_S = 0.05  # between tries: doubled each time, up to MAX_PAUSE_S
MAX_PAUSE_S = 0.4


def busy_answer(retry_after_s: int) -> Any:
    """503 with Retry-After: JSON for the page's script, a page for a form post."""
    if "_login_user" not in g:
        # The sign-in read itself met the lock: render as signed out rather than wait for the
        # lock once more (Flask-Login keeps the request's user in g._login_user).
        g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    if request.accept_mimetypes.best == "application/json":
        response = jsonify(saved=False, busy=True, retry_after=retry_after_s)
        response.status_code = 503
    else:
        body = render_template(
            "error.html",
            status=503,
            title=_("Not saved yet"),
            message=_(
                "Many people are saving at the same moment and yours could not be saved yet. "
                "Nothing is lost: go back and send the page again in a moment."
            ),
        )
        response = current_app.make_response((body, 503))
    response.headers["Retry-After"] = str(retry_after_s)
    response.headers["Cache-Control"] = "no-store"
    return response


def retries_when_locked(view: F) -> F:
    """Run the view again while the database is locked, within ``SAVE_LOCK_BUDGET_MS``; past
    the budget answer 503 with Retry-After, never 500 "database is locked". Put it above the
    role check, so that the sign-in read is inside the retried transaction too."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        budget_s = int(current_app.config["SAVE_LOCK_BUDGET_MS"]) / 1000
        deadline = time.monotonic() + budget_s
        pause = FIRST_PAUSE_S
        tries = 0
        while True:
            tries += 1
            left_ms = (deadline - time.monotonic()) * 1000
            try:
                with lock_wait(max(1, int(left_ms))):  # each try waits at most what is left
                    return view(*args, **kwargs)
            except OperationalError as exc:
                if not is_locked(exc):
                    raise
                rollback_request()
                if time.monotonic() + pause >= deadline:
                    current_app.logger.warning(
                        "database locked: %s %s not saved after %d tries in %.1f s",
                        request.method,
                        request.path,
                        tries,
                        budget_s,
                    )
                    return busy_answer(max(1, math.ceil(budget_s)))
                time.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE_S)

    return wrapped  # type: ignore[return-value]
