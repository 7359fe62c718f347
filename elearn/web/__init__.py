"""The web layer: blueprints by audience, error pages, security headers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from elearn.clock import utcnow
from elearn.db import (
    CommitFailed,
    UndocumentedWrite,
    get_session,
    is_locked,
    keep_after_error,
    ping,
    rollback_request,
)
from elearn.domain.duties import OwnCase
from elearn.domain.errors import DomainError
from elearn.services import duties
from elearn.services.certificates import Authority, authority_of
from elearn.web.busy import busy_answer

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Powerful browser features no page here uses: refused to the site and anything it embeds.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)


def safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site: never an open redirect."""
    # Browsers read a backslash as '/' and drop tabs and line breaks, so that '/' + backslash +
    # 'evil.example' leads to another site.
    if not target or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return fallback
    try:
        parts = urlsplit(target)
    except ValueError:  # '//[' is no address at all (it was a 500)
        return fallback
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def authority() -> Authority:
    """The app's signing authority, for the use cases that sign or verify."""
    return authority_of(app=current_app)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if current_app.config["PRODUCTION"]:  # production is served over HTTPS only
        response.headers.setdefault(
            "Strict-Transport-Security", current_app.config["STRICT_TRANSPORT_SECURITY"]
        )
    if current_user and current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
    return response


def _refuse_nul_in_query() -> None:
    """A query string with a NUL is a bad request: PostgreSQL cannot hold NUL in text, so a
    search or filter that passed one on would fail there (a 500), and no address needs one."""
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        from flask import abort

        abort(400)


def _error_page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, message=message), status


def _language_form() -> Any:
    from elearn.web.forms import LanguageForm, language_choices

    form = LanguageForm(formdata=None)
    form.lang.choices = language_choices()
    return form


def _item_type_partials(app: Flask) -> None:
    """Templates find each item type's partial beside its module as ``itemtypes/<name>.html``,
    and its script and style (where it has them) are served at ``/itemtypes/<name>.js|.css``."""
    from pathlib import Path

    from flask import abort, send_from_directory
    from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

    import elearn.domain.itemtypes as itemtypes

    folder = Path(itemtypes.__file__).parent
    assert app.jinja_loader is not None
    app.jinja_loader = ChoiceLoader(
        [app.jinja_loader, PrefixLoader({"itemtypes": FileSystemLoader(folder)})]
    )
    assets = {
        f"{name}{suffix}"
        for name in itemtypes.item_type_names()
        for suffix in (".js", ".css")
        if (folder / f"{name}{suffix}").is_file()
    }

    @app.get("/itemtypes/<name>")
    def itemtype_asset(name: str) -> Any:
        if name not in assets:
            abort(404)
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        response = send_from_directory(folder, name, mimetype=kind)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    itemtype_asset.access = ("public",)  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    from elearn.web import (
        admin,
        auth,
        cases,
        certificates,
        certify,
        events,
        exam,
        inputs,
        issuer,
        learn,
        manage,
        panel,
        privacy,
        programmes,
        sittings,
        sso,
        team_reflection,
    )

    inputs.init_app(app)  # first: routes take its converter, and CSRF reads a form it checked
    CSRFProtect(app)
    _item_type_partials(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(learn.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(exam.bp)
    app.register_blueprint(certify.bp)
    app.register_blueprint(certificates.bp)
    app.register_blueprint(issuer.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(panel.studies)
    app.register_blueprint(panel.panel)
    app.register_blueprint(sittings.desk)
    app.register_blueprint(sittings.room)
    sso.init_app(app)
    app.register_blueprint(privacy.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(events.organise)
    app.register_blueprint(programmes.bp)
    app.register_blueprint(programmes.mine)
    app.register_blueprint(team_reflection.team)
    app.register_blueprint(team_reflection.mine)
    app.before_request(_refuse_nul_in_query)
    app.after_request(_security_headers)

    # Every handler rolls back first: the request's commit only follows a view that returned.
    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> Any:
        rollback_request()
        return _error_page(
            400,
            _("The form had expired"),
            _(
                "For your safety the form could not be sent. Go back, reload the page and try "
                "again: what you typed may still be in the form."
            ),
        )

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Any:
        rollback_request()
        title = _("Page not found") if exc.status == 404 else _("That could not be done")
        return _error_page(exc.status, title, _(exc.message))

    @app.errorhandler(OwnCase)
    def _own_case(exc: OwnCase) -> Any:
        # Nothing of the refused action is kept, but the refusal is: the audit log shows who
        # tried to act on their own case, and what (decision 0013).
        keep_after_error(
            lambda session: duties.record_refusal(session=session, refusal=exc, now=utcnow())
        )
        return _error_page(403, _("Not on your own case"), _(exc.message))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        rollback_request()
        if exc.code is None or exc.code < 400:
            return exc
        titles = {
            400: _("Bad request"),
            403: _("You do not have access to this page"),
            404: _("Page not found"),
            405: _("Not allowed"),
            413: _("Too large"),
            415: _("Not a form"),
            429: _("Too many attempts"),
        }
        messages = {
            403: _(
                "Your account does not have the role this page needs. If you think it "
                "should, ask your administrator."
            ),
            429: _("There were too many attempts. Wait a few minutes and try again."),
            404: _(
                "There is no page at this address. It may have moved, or the link may be wrong."
            ),
            413: _(
                "The file is larger than %(size)s MB, the most this site accepts. Nothing was "
                "kept. Send a smaller file.",
                size=int((app.config["MAX_CONTENT_LENGTH"] or 0) // (1024 * 1024)),
            ),
        }
        code = exc.code
        return _error_page(
            code,
            titles.get(code, _("Error")),
            messages.get(code, _("The request could not be handled.")),
        )

    @app.errorhandler(CommitFailed)
    def _not_saved(exc: CommitFailed) -> Any:
        rollback_request()
        app.logger.error("commit failed on %s %s", request.method, request.path, exc_info=exc)
        body, status = _error_page(
            503,
            _("Not saved"),
            _(
                "What you sent could not be saved, and nothing of it was kept. Please try "
                "again in a moment."
            ),
        )
        return body, status, {"Retry-After": "2"}

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        rollback_request()
        if isinstance(exc, UndocumentedWrite) and app.testing:
            raise exc  # a test fails on it loudly, with its traceback
        if isinstance(exc, OperationalError) and is_locked(exc):
            # Another request held SQLite's write lock longer than this one could wait.
            app.logger.warning("database locked on %s %s", request.method, request.path)
            return busy_answer(2)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _error_page(
            500,
            _("Something went wrong"),
            _(
                "An unexpected error occurred and has been logged. Nothing you had "
                "saved is lost. Please try again in a moment."
            ),
        )

    @app.context_processor
    def _nav() -> dict[str, Any]:
        return {"language_form": _language_form, "request_path": request.full_path.rstrip("?")}

    @app.get("/healthz")
    def healthz() -> Any:
        ping(get_session())
        return {"status": "ok"}

    healthz.access = ("public",)  # type: ignore[attr-defined]
