"""Administration: users and roles, one-time reset links, settings, evaluations, content."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlmodel import col, func, or_, select
from wtforms import BooleanField, TextAreaField
from wtforms.fields.choices import SelectChoice

from elearn.auth import ROLE_LABELS, roles_required
from elearn.clock import utcnow
from elearn.db import get_session
from elearn.domain.errors import AccountError
from elearn.domain.staff import decode_staff_file
from elearn.models import ROLES, Bank, Course, Exam, Item, ManagerUnit, OrgUnit, User
from elearn.services import accounts, learning, reports, staff_import, xapi
from elearn.web.auth import signup_open
from elearn.web.forms import ConfirmForm, SettingsForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = roles_required("admin")
PAGE_SIZE = 50


def _unit_choices() -> list[SelectChoice]:
    session = get_session()
    units = session.exec(select(OrgUnit)).all()
    paths = sorted((accounts.unit_path(session, u.id), str(u.id)) for u in units)
    return [SelectChoice("", _("(none)"))] + [SelectChoice(uid, path) for path, uid in paths]


def _user_form(user: User | None) -> UserForm:
    form = UserForm(obj=user)
    form.roles.choices = [SelectChoice(r, str(ROLE_LABELS[r])) for r in ROLES]
    form.unit.choices = _unit_choices()
    form.manages.choices = [c for c in form.unit.choices if c.value]
    if request.method == "GET":
        if user is not None:
            assert user.id is not None
            form.roles.data = sorted(accounts.user_roles(get_session(), user.id))
            form.unit.data = str(user.org_unit_id or "")
            form.manages.data = [
                str(u)
                for u in get_session().exec(
                    select(ManagerUnit.unit_id).where(ManagerUnit.user_id == user.id)
                )
            ]
        else:
            form.roles.data = ["learner"]
    return form


@bp.get("/")
@admin_only
def index() -> Any:
    session = get_session()
    query = request.args.get("q", "").strip()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    stmt = select(User)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(or_(col(User.email).like(like), func.lower(User.name).like(like)))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    users = session.exec(
        stmt.order_by(col(User.email)).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    roles = {u.id: sorted(accounts.user_roles(session, u.id)) for u in users if u.id}
    return render_template(
        "admin/users.html",
        users=users,
        roles=roles,
        query=query,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
    )


def _apply(form: UserForm, user: User) -> None:
    user.name = (form.name.data or "").strip()
    user.email = accounts.normalise_email(form.email.data or "")
    unit = form.unit.data
    user.org_unit_id = int(unit) if unit else None


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def new_user() -> Any:
    form = _user_form(None)
    if form.validate_on_submit():
        session = get_session()
        try:
            user = accounts.create_user(
                session=session,
                email=form.email.data or "",
                name=form.name.data or "",
                password=None,
                now=utcnow(),
                roles=form.roles.data or [],
                org_unit_id=int(form.unit.data) if form.unit.data else None,
                actor_id=current_user.id,
            )
        except AccountError:
            form.email.errors = [_("An account with this e-mail address already exists.")]
        else:
            user.active = bool(form.active.data)
            token = _reset_link(user)
            flash(
                _("The account is created. Give the person this one-time link to set a password:"),
                "success",
            )
            return render_template("admin/reset_link.html", user=user, token=token)
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def edit_user(user_id: int) -> Any:
    session = get_session()
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    form = _user_form(user)
    if form.validate_on_submit():
        other = accounts.find_user(session, form.email.data or "")
        roles = set(form.roles.data or [])
        if other is not None and other.id != user.id:
            form.email.errors = [_("An account with this e-mail address already exists.")]
        elif user.id == current_user.id and ("admin" not in roles or not form.active.data):
            form.roles.errors = [_("You cannot take away your own admin role or account.")]
        else:
            _apply(form, user)
            was_active = user.active
            user.active = bool(form.active.data)
            if was_active and not user.active:
                user.session_token = accounts.new_session_token()  # ends their sessions
            accounts.set_roles(
                session=session, user=user, roles=roles, actor_id=current_user.id, now=utcnow()
            )
            assert user.id is not None
            reports.set_managed_units(
                session=session,
                user_id=user.id,
                unit_ids=[int(u) for u in form.manages.data or []],
                actor_id=current_user.id,
                now=utcnow(),
            )
            from elearn.services import audit

            audit.record(
                session=session,
                action="user.updated",
                subject=f"user:{user.id}",
                now=utcnow(),
                actor_id=current_user.id,
                data={"roles": sorted(roles), "active": user.active},
            )
            flash(_("The account is saved."), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=user, reset_form=ConfirmForm())


def _reset_link(user: User) -> str:
    token = accounts.create_reset_link(
        session=get_session(),
        user=user,
        created_by=get_session().get(User, current_user.id) or user,
        now=utcnow(),
        hours=current_app.config["PASSWORD_RESET_HOURS"],
    )
    return url_for("auth.reset", token=token, _external=True)


@bp.post("/users/<int:user_id>/reset-link")
@admin_only
def reset_link(user_id: int) -> Any:
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    token = _reset_link(user)
    return render_template("admin/reset_link.html", user=user, token=token)


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
        xapi_on=xapi.settings_of(session) is not None,
        xapi_endpoint=current_app.config.get("XAPI_ENDPOINT"),
        xapi_status=xapi.status(session),
    )


@bp.get("/evaluations")
@admin_only
def evaluations() -> Any:
    session = get_session()
    titles = {}
    for course in learning.active_courses(session):
        titles[course.id] = course.spec["title"]
    return render_template(
        "admin/evaluations.html", summaries=learning.evaluation_summaries(session), titles=titles
    )


@bp.get("/content")
@admin_only
def content() -> Any:
    session = get_session()
    courses = session.exec(select(Course).order_by(col(Course.id))).all()
    banks = session.exec(select(Bank).order_by(col(Bank.id))).all()
    counts = dict(
        session.exec(  # type: ignore[arg-type]
            select(Item.bank_id, func.count()).where(Item.active).group_by(Item.bank_id)
        ).all()
    )
    exams = session.exec(select(Exam).order_by(col(Exam.id))).all()
    return render_template(
        "admin/content.html", courses=courses, banks=banks, counts=counts, exams=exams
    )


class StaffUploadForm(FlaskForm):
    file = FileField(_l("CSV file (name,email,unit,roles)"))
    text = TextAreaField()  # the checked file, carried from the preview to the confirmation
    confirm = BooleanField()


@bp.route("/staff", methods=["GET", "POST"])
@admin_only
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
            return render_template("admin/staff.html", form=form, plan=None, text="")
        session = get_session()
        plan = staff_import.plan_import(session=session, text=text, actor_id=current_user.id)
        if form.confirm.data and not plan.errors:
            staff_import.apply_import(
                session=session, plan=plan, actor_id=current_user.id, now=utcnow()
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
