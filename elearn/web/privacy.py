"""Privacy: the notice, a person's own data (see, download, ask for erasure) and the
administrator's side (requests by post, decisions, closing an account). docs/privacy.md."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from elearn.auth import public, roles_required, signed_in
from elearn.clock import utcnow
from elearn.db import get_session, writes_on_get
from elearn.domain.privacy import CATEGORIES, keep_text, periods
from elearn.services import privacy
from elearn.web.forms import PlainText

bp = Blueprint("privacy", __name__)

LOGGED = "every download of personal data is recorded in the audit log (GDPR art. 5(2))"


class ErasureRequestForm(FlaskForm):
    note = TextAreaField(
        _l("Anything the administrator should know (optional)"),
        validators=[Length(max=2000), PlainText()],
    )
    submit = SubmitField(_l("Ask to erase my data"))


class DecisionForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            ("default", _l("Erase; keep valid certificates until they expire")),
            ("full", _l("Erase everything; revoke valid certificates")),
            ("reject", _l("Refuse the request")),
        ],
        validators=[InputRequired()],
    )
    reason = TextAreaField(
        _l("Reason (recorded; required to refuse)"), validators=[Length(max=2000), PlainText()]
    )
    submit = SubmitField(_l("Record the decision"))


class CloseAccountForm(FlaskForm):
    scope = RadioField(
        _l("How far"),
        choices=[
            ("default", _l("Erase; keep valid certificates until they expire")),
            ("full", _l("Erase everything; revoke valid certificates")),
        ],
        validators=[InputRequired()],
    )
    submit = SubmitField(_l("Close the account and erase the data"))


# --- the notice ----------------------------------------------------------------------------------


@bp.app_template_global("retention_days")
def retention_days(key: str) -> int:
    """A retention period in days, as configured, for a page that promises it."""
    return periods(current_app.config["RETENTION"])[key]


@bp.get("/privacy")
@public
def notice() -> Any:
    days = periods(current_app.config["RETENTION"])
    rows = [
        {
            "what": _(c.what),
            "purpose": _(c.purpose),
            "basis": _(c.basis),
            "keep": keep_text(c, days, _),
        }
        for c in CATEGORIES
    ]
    return render_template("privacy/notice.html", rows=rows)


# --- the person's own data ------------------------------------------------------------------------


@bp.get("/account/privacy")
@signed_in
def mine() -> Any:
    requests = privacy.requests_of(session=get_session(), user_id=current_user.id)
    return render_template("privacy/mine.html", form=ErasureRequestForm(), requests=requests)


def _export(user_id: int, form: str) -> Response:
    """Everything held about the person, as a JSON file or a page; the download is logged."""
    data = privacy.export_person(session=get_session(), user_id=user_id)
    privacy.log_export(
        session=get_session(), user_id=user_id, actor_id=current_user.id, now=utcnow(), form=form
    )
    if form == "json":
        response = Response(
            json.dumps(data, ensure_ascii=False, indent=2, default=str),
            mimetype="application/json",
            headers={"Content-Disposition": f'attachment; filename="elearn-data-{user_id}.json"'},
        )
    else:
        own = user_id == current_user.id
        response = Response(render_template("privacy/export.html", data=data, own=own))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/account/privacy/export.json")
@signed_in
@writes_on_get(LOGGED)
def mine_json() -> Any:
    return _export(current_user.id, "json")


@bp.get("/account/privacy/export")
@signed_in
@writes_on_get(LOGGED)
def mine_html() -> Any:
    return _export(current_user.id, "html")


@bp.post("/account/privacy/erase")
@signed_in
def ask_erasure() -> Any:
    form = ErasureRequestForm()
    if not form.validate_on_submit():
        requests = privacy.requests_of(session=get_session(), user_id=current_user.id)
        return render_template("privacy/mine.html", form=form, requests=requests), 400
    privacy.request_erasure(
        session=get_session(), user_id=current_user.id, note=form.note.data or "", now=utcnow()
    )
    flash(
        _("Your request is sent. An administrator decides; you see the answer here."),
        "success",
    )
    return redirect(url_for("privacy.mine"))


# --- the administrator ---------------------------------------------------------------------------


@bp.get("/admin/privacy")
@roles_required("admin")
def requests() -> Any:
    session = get_session()
    pending = privacy.pending_requests(session=session)
    days = periods(current_app.config["RETENTION"])
    plan = privacy.retention(session=session, now=utcnow(), days=days, dry_run=True)
    return render_template(
        "privacy/requests.html",
        pending=pending,
        form=DecisionForm(),
        plan=plan,
        days=days,
    )


@bp.post("/admin/privacy/requests/<int:request_id>")
@roles_required("admin")
def decide(request_id: int) -> Any:
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("Choose a decision."), "error")
        return redirect(url_for("privacy.requests"))
    approve = form.decision.data != "reject"
    report = privacy.decide(
        session=get_session(),
        request_id=request_id,
        approve=approve,
        scope=form.decision.data if approve else "default",
        reason=form.reason.data or "",
        actor_id=current_user.id,
        now=utcnow(),
    )
    if report is None:
        flash(_("The request is refused; the reason is recorded."), "info")
    else:
        flash(_("The person's data is erased."), "success")
    return redirect(url_for("privacy.requests"))


def _person_or_404(user_id: int) -> None:
    from elearn.models import User

    user = get_session().get(User, user_id)
    if user is None or user.email == privacy.ANONYMOUS_EMAIL:
        abort(404)


@bp.get("/admin/users/<int:user_id>/privacy/export.json")
@roles_required("admin")
@writes_on_get(LOGGED)
def person_json(user_id: int) -> Any:
    _person_or_404(user_id)
    return _export(user_id, "json")


@bp.get("/admin/users/<int:user_id>/privacy/export")
@roles_required("admin")
@writes_on_get(LOGGED)
def person_html(user_id: int) -> Any:
    _person_or_404(user_id)
    return _export(user_id, "html")


@bp.route("/admin/users/<int:user_id>/close", methods=["GET", "POST"])
@roles_required("admin")
def close(user_id: int) -> Any:
    """An administrator closes an account: the person's data is erased now."""
    from elearn.models import User

    _person_or_404(user_id)
    user = get_session().get(User, user_id)
    assert user is not None
    form = CloseAccountForm()
    if form.validate_on_submit():
        privacy.erase(
            session=get_session(),
            user_id=user_id,
            scope=form.scope.data or "default",
            actor_id=current_user.id,
            now=utcnow(),
        )
        flash(_("The account is closed and its data erased."), "success")
        return redirect(url_for("admin.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("privacy/close.html", form=form, person=user), status
