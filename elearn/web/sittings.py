"""Scheduled sittings: the certifier's pages to schedule them, the candidate's waiting room."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from elearn.auth import roles_required
from elearn.clock import utcnow
from elearn.db import get_session
from elearn.services import exams, reports
from elearn.services import sittings as service
from elearn.services.attempts import Client
from elearn.web import authority
from elearn.web.forms import ConfirmForm, PlainText, SmallIntegerField

desk = Blueprint("sittings", __name__, url_prefix="/certify/sittings")
room = Blueprint("room", __name__, url_prefix="/sittings")
certifier = roles_required("certifier", "admin")
learner = roles_required("learner")


class SittingForm(FlaskForm):
    exam = SelectField(_l("Exam"), choices=[], validators=[InputRequired()])
    starts_at = DateTimeLocalField(
        _l("Start (UTC)"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    late_minutes = SmallIntegerField(
        _l("Late arrivals may start for this many minutes"),
        default=10,
        validators=[Optional(), NumberRange(min=0, max=1440)],
    )
    place = StringField(
        _l("Place (a room, or \u201conline\u201d)"),
        default=service.ONLINE,
        validators=[InputRequired(), PlainText(), Length(max=200)],
    )
    invigilator = EmailField(
        _l("Invigilator's e-mail"), validators=[InputRequired(), Length(max=254)]
    )
    emails = TextAreaField(
        _l("Candidates' e-mails, one a line"),
        validators=[PlainText(multiline=True), Optional(), Length(max=100_000)],
    )
    unit = SelectField(_l("Or everyone in a unit (with its sub-units)"), choices=[])


class AddForm(FlaskForm):
    emails = TextAreaField(
        _l("Candidates' e-mails, one a line"),
        validators=[InputRequired(), PlainText(multiline=True), Length(max=100_000)],
    )


def _emails(text: str | None) -> list[str]:
    return [line for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


@desk.get("/")
@certifier
def index() -> Any:
    rows = service.listing(session=get_session())
    return render_template("sittings/index.html", rows=rows, now=utcnow())


@desk.route("/new", methods=["GET", "POST"])
@certifier
def new() -> Any:
    session, now = get_session(), utcnow()
    form = SittingForm()
    form.exam.choices = [
        SelectChoice(v.exam.id, v.exam.id) for v in exams.active_exams(session=session)
    ]
    form.unit.choices = [SelectChoice("", "\u2014")] + [
        SelectChoice(str(uid), path) for uid, path in reports.unit_paths(session=session)
    ]
    unknown: list[str] = []
    if form.validate_on_submit():
        assert form.starts_at.data is not None
        scheduled = service.schedule(
            session=session,
            authority=authority(),
            exam_id=form.exam.data or "",
            starts_at=form.starts_at.data.replace(tzinfo=UTC),
            late_minutes=form.late_minutes.data or 0,
            place=form.place.data or "",
            invigilator_email=form.invigilator.data or "",
            emails=_emails(form.emails.data),
            unit_id=int(form.unit.data) if form.unit.data else None,
            created_by=current_user.id,
            now=now,
        )
        if not scheduled.unknown:
            flash(_("The sitting is scheduled and its forms are drawn."), "success")
            return redirect(url_for("sittings.detail", sitting_id=scheduled.sitting.id))
        unknown = scheduled.unknown
    status = 422 if request.method == "POST" else 200
    return render_template("sittings/new.html", form=form, unknown=unknown), status


@desk.get("/<int:sitting_id>")
@certifier
def detail(sitting_id: int) -> Any:
    session = get_session()
    sitting = service.get(session=session, sitting_id=sitting_id)
    return render_template(
        "sittings/detail.html",
        sitting=sitting,
        rows=service.candidates(session=session, sitting_id=sitting_id),
        form=AddForm(),
        unknown=[],
        now=utcnow(),
    )


@desk.post("/<int:sitting_id>/candidates")
@certifier
def add(sitting_id: int) -> Any:
    session = get_session()
    form = AddForm()
    if not form.validate_on_submit():
        abort(400)
    unknown = service.add_candidates(
        session=session,
        authority=authority(),
        sitting_id=sitting_id,
        emails=_emails(form.emails.data),
        actor_id=current_user.id,
        now=utcnow(),
    )
    if unknown:
        sitting = service.get(session=session, sitting_id=sitting_id)
        return render_template(
            "sittings/detail.html",
            sitting=sitting,
            rows=service.candidates(session=session, sitting_id=sitting_id),
            form=form,
            unknown=unknown,
            now=utcnow(),
        ), 422
    flash(_("The candidates are booked and their forms are drawn."), "success")
    return redirect(url_for("sittings.detail", sitting_id=sitting_id))


# --- the candidate's side -----------------------------------------------------------------------


@room.get("/")
@learner
def mine() -> Any:
    now = utcnow()
    bookings = service.bookings_of(session=get_session(), user_id=current_user.id, now=now)
    return render_template("sittings/mine.html", bookings=bookings, now=now)


@room.get("/<int:sitting_id>")
@learner
def waiting_room(sitting_id: int) -> Any:
    now = utcnow()
    found = service.booking(session=get_session(), sitting_id=sitting_id, user_id=current_user.id)
    if found.attempt is not None and not found.attempt.waiting:
        return redirect(url_for("exam.item", attempt_id=found.attempt.id, number=1))
    return render_template(
        "sittings/room.html",
        booking=found,
        now=now,
        opens_in=found.opens_in(now),
        late=now >= found.late_until(),
        form=ConfirmForm(),
    )


@room.get("/<int:sitting_id>/clock")
@learner
def clock(sitting_id: int) -> Any:
    """The seconds left before the start, by the server's clock (the page's countdown asks)."""
    now = utcnow()
    found = service.booking(session=get_session(), sitting_id=sitting_id, user_id=current_user.id)
    return jsonify(opens_in=found.opens_in(now))


@room.post("/<int:sitting_id>/start")
@learner
def start(sitting_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    # Refusals (before the start, after the late window) answer 409 with their message.
    attempt = service.start_booked(
        session=get_session(),
        sitting_id=sitting_id,
        user_id=current_user.id,
        now=utcnow(),
        client=Client(request.remote_addr, request.user_agent.string),
    )
    return redirect(url_for("exam.item", attempt_id=attempt.id, number=1))
