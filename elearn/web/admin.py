"""Administration: users and roles, one-time reset links, settings, evaluations, content."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, TextAreaField
from wtforms.fields.choices import SelectChoice

from elearn.auth import ROLE_LABELS, roles_required
from elearn.clock import utcnow
from elearn.db import get_session, rollback_request, writes_in_jobs
from elearn.domain.errors import AccountError
from elearn.domain.staff import decode_staff_file
from elearn.jobs.staff import import_staff
from elearn.models import ROLES, User
from elearn.services import accounts, content_sync, learning, mail, reports, staff_import, xapi
from elearn.web.auth import signup_open
from elearn.web.forms import ConfirmForm, SettingsForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = roles_required("admin")
PAGE_SIZE = 50


def _user_form(user: User | None) -> UserForm:
    session = get_session()
    form = UserForm(obj=user)
    form.roles.choices = [SelectChoice(r, str(ROLE_LABELS[r])) for r in ROLES]
    units = [SelectChoice(str(uid), path) for uid, path in reports.unit_paths(session=session)]
    form.unit.choices = [SelectChoice("", _("(none)")), *units]
    form.manages.choices = units
    if request.method == "GET":
        if user is not None:
            assert user.id is not None
            form.roles.data = sorted(accounts.user_roles(session=session, user_id=user.id))
            form.unit.data = str(user.org_unit_id or "")
            form.manages.data = [
                str(u) for u in sorted(accounts.managed_units(session=session, user_id=user.id))
            ]
        else:
            form.roles.data = ["learner"]
    return form


def _account_fields(form: UserForm) -> dict[str, Any]:
    """What the user form says, as the account use cases take it."""
    return {
        "email": form.email.data or "",
        "name": form.name.data or "",
        "roles": form.roles.data or [],
        "org_unit_id": int(form.unit.data) if form.unit.data else None,
        "manages": [int(u) for u in form.manages.data or []],
        "active": bool(form.active.data),
    }


def _show_on_form(form: UserForm, error: AccountError) -> None:
    getattr(form, error.field or "email").errors = [_(error.message)]


@bp.get("/")
@admin_only
def index() -> Any:
    query = request.args.get("q", "").strip()
    page = accounts.user_page(
        session=get_session(),
        query=query,
        number=request.args.get("page", 1, type=int) or 1,
        size=PAGE_SIZE,
    )
    return render_template("admin/users.html", page=page, query=query)


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def new_user() -> Any:
    form = _user_form(None)
    if form.validate_on_submit():
        try:
            user, token = accounts.new_account(
                session=get_session(),
                **_account_fields(form),
                actor_id=current_user.id,
                now=utcnow(),
                reset_hours=current_app.config["PASSWORD_RESET_HOURS"],
            )
        except AccountError as exc:
            _show_on_form(form, exc)
        else:
            flash(
                _("The account is created. Give the person this one-time link to set a password:"),
                "success",
            )
            return render_template("admin/reset_link.html", user=user, token=_reset_url(token))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def edit_user(user_id: int) -> Any:
    user = accounts.user_by_id(session=get_session(), user_id=user_id)
    if user is None:
        abort(404)
    form = _user_form(user)
    if form.validate_on_submit():
        try:
            accounts.edit_account(
                session=get_session(),
                user_id=user_id,
                **_account_fields(form),
                actor_id=current_user.id,
                now=utcnow(),
            )
        except AccountError as exc:
            _show_on_form(form, exc)
        else:
            flash(_("The account is saved."), "success")
            return redirect(url_for("admin.edit_user", user_id=user_id))
    return render_template("admin/user_form.html", form=form, user=user, reset_form=ConfirmForm())


def _reset_url(token: str) -> str:
    return url_for("auth.reset", token=token, _external=True)


@bp.post("/users/<int:user_id>/reset-link")
@admin_only
def reset_link(user_id: int) -> Any:
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    user, token = accounts.reset_link_for(
        session=get_session(),
        user_id=user_id,
        actor_id=current_user.id,
        now=utcnow(),
        hours=current_app.config["PASSWORD_RESET_HOURS"],
    )
    return render_template("admin/reset_link.html", user=user, token=_reset_url(token))


@bp.route("/settings", methods=["GET", "POST"])
@admin_only
def settings() -> Any:
    form = SettingsForm()
    if request.method == "GET":
        form.self_signup.data = signup_open()
    if form.validate_on_submit():
        accounts.put_setting(
            session=get_session(),
            key="self_signup",
            value=bool(form.self_signup.data),
            actor_id=current_user.id,
            now=utcnow(),
        )
        flash(_("The settings are saved."), "success")
        return redirect(url_for("admin.settings"))
    session = get_session()
    return render_template(
        "admin/settings.html",
        form=form,
        xapi_on=xapi.settings_of(session=session) is not None,
        xapi_endpoint=current_app.config.get("XAPI_ENDPOINT"),
        xapi_status=xapi.status(session=session),
    )


@bp.get("/evaluations")
@admin_only
def evaluations() -> Any:
    session = get_session()
    titles = {}
    for course in learning.active_courses(session=session):
        titles[course.id] = course.spec["title"]
    return render_template(
        "admin/evaluations.html",
        summaries=learning.evaluation_summaries(session=session),
        titles=titles,
    )


@bp.get("/content")
@admin_only
def content() -> Any:
    synced = content_sync.synced_content(session=get_session())
    return render_template(
        "admin/content.html",
        courses=synced.courses,
        banks=synced.banks,
        counts=synced.active_items,
        exams=synced.exams,
    )


class StaffUploadForm(FlaskForm):
    file = FileField(_l("CSV file (name,email,unit,roles)"))
    text = TextAreaField()  # the checked file, carried from the preview to the confirmation
    confirm = BooleanField()


@bp.route("/staff", methods=["GET", "POST"])
@admin_only
@writes_in_jobs("the import commits every few hundred rows, so that saves never wait long")
def staff_upload() -> Any:
    """Upload a staff file: first a dry run to read, then the import itself."""
    form = StaffUploadForm()
    plan, text = None, ""
    if form.validate_on_submit():
        upload = request.files.get("file")
        try:
            text = (
                decode_staff_file(upload.read())
                if upload and upload.filename
                else (form.text.data or "")
            )
        except ValueError as exc:
            flash(str(exc), "error")
            return render_template("admin/staff.html", form=form, plan=None, text=""), 400
        session = get_session()
        plan = staff_import.plan_import(session=session, text=text, actor_id=current_user.id)
        most = int(current_app.config["STAFF_UPLOAD_MAX_ROWS"])
        if len(plan.changes) + len(plan.errors) > most:
            flash(
                _(
                    "This file has more than %(most)s rows: import it on the server with "
                    "the command 'flask --app elearn staff import FILE', which has no time limit.",
                    most=most,
                ),
                "error",
            )
            return render_template("admin/staff.html", form=form, plan=None, text=""), 413
        if form.confirm.data and not plan.errors:
            rollback_request()  # this request's read ends; the job writes in parts of its own
            import_staff(
                current_app, text=text, dry_run=False, now=utcnow(), actor_id=current_user.id
            )
            counts = plan.counts
            flash(
                _(
                    "Imported: %(create)s created, %(update)s updated, %(unchanged)s unchanged.",
                    create=counts["create"],
                    update=counts["update"],
                    unchanged=counts["unchanged"],
                ),
                "success",
            )
            return redirect(url_for("admin.staff_upload"))
    status = 400 if plan is not None and plan.errors else 200
    return render_template("admin/staff.html", form=form, plan=plan, text=text), status


# --- e-mail: the outbox, and in development the local mailbox ---------------------------------


def _mailbox_open() -> bool:
    """The mailbox shows messages that were never sent, reset links included: only in
    development, where no MAIL_HOST delivers them."""
    return not current_app.config.get("MAIL_HOST") and not current_app.config["PRODUCTION"]


@bp.get("/mail")
@admin_only
def mail_queue() -> Any:
    state = request.args.get("state", "")
    state = state if state in mail.STATES else ""
    session = get_session()
    page = mail.message_page(
        session=session,
        state=state or None,
        number=request.args.get("page", 1, type=int) or 1,
        size=PAGE_SIZE,
    )
    return render_template(
        "admin/mail.html",
        status=mail.status(session=session),
        page=page,
        state=state,
        state_of=mail.state_of,
        mail_host=current_app.config.get("MAIL_HOST"),
        mailbox=_mailbox_open(),
    )


@bp.get("/mailbox")
@admin_only
def mailbox() -> Any:
    if not _mailbox_open():
        abort(404)
    page = mail.message_page(
        session=get_session(),
        state=None,
        number=request.args.get("page", 1, type=int) or 1,
        size=PAGE_SIZE,
    )
    return render_template("admin/mailbox.html", page=page)


def _mailbox_message(message_id: int) -> Any:
    if not _mailbox_open():
        abort(404)
    row = mail.message(session=get_session(), message_id=message_id)
    if row is None:
        abort(404)
    return row


@bp.get("/mailbox/<int:message_id>")
@admin_only
def mailbox_message(message_id: int) -> Any:
    row = _mailbox_message(message_id)
    files = mail.attachments_of(session=get_session(), message_id=message_id)
    return render_template("admin/mailbox_message.html", row=row, files=files)


@bp.get("/mailbox/<int:message_id>/html")
@admin_only
def mailbox_html(message_id: int) -> Any:
    """The message's HTML as the recipient's mail program gets it, in a sandbox: no script, no
    form, nothing fetched from elsewhere; framed by its own mailbox page only."""
    row = _mailbox_message(message_id)
    response = current_app.make_response(row.body_html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = (
        "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/mailbox/<int:message_id>/files/<int:position>")
@admin_only
def mailbox_file(message_id: int, position: int) -> Any:
    _mailbox_message(message_id)
    files = mail.attachments_of(session=get_session(), message_id=message_id)
    if not 0 <= position < len(files):
        abort(404)
    found = files[position]
    response = current_app.make_response(found.data)
    response.headers["Content-Type"] = "application/octet-stream"  # downloaded, never shown
    response.headers["Content-Disposition"] = _attachment_disposition(found.filename)
    return response


def _attachment_disposition(filename: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
