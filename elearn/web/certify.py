"""The certifier's desk. For now: extra time for a learner on an exam."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import col, select
from wtforms import EmailField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from elearn.auth import roles_required
from elearn.clock import utcnow
from elearn.db import get_session
from elearn.models import ExtraTime, User
from elearn.services import accounts, exams
from elearn.web import commit

bp = Blueprint("certify", __name__, url_prefix="/certify")
certifier = roles_required("certifier", "admin")


class ExtraTimeForm(FlaskForm):
    email = EmailField(_l("Learner's e-mail"), validators=[InputRequired(), Length(max=254)])
    exam = SelectField(_l("Exam"), choices=[], validators=[InputRequired()])
    minutes = IntegerField(
        _l("Extra minutes"), default=0, validators=[Optional(), NumberRange(min=0, max=1440)]
    )
    percent = IntegerField(
        _l("Extra time in percent of the time limit"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=400)],
    )
    reason = StringField(
        _l("Reason (kept with the grant)"), validators=[Optional(), Length(max=500)]
    )
    submit = SubmitField(_l("Grant extra time"))


@bp.route("/extra-time", methods=["GET", "POST"])
@certifier
def extra_time() -> Any:
    session = get_session()
    form = ExtraTimeForm()
    form.exam.choices = [SelectChoice(v.exam.id, v.exam.id) for v in exams.active_exams(session)]
    if form.validate_on_submit():
        learner = accounts.find_user(session, form.email.data or "")
        if learner is None or learner.id is None:
            form.email.errors = [_("There is no account with this e-mail address.")]
        else:
            exams.grant_extra_time(
                session=session,
                user_id=learner.id,
                exam_id=form.exam.data or "",
                minutes=form.minutes.data or 0,
                percent=form.percent.data or 0,
                reason=form.reason.data or "",
                granted_by=current_user.id,
                now=utcnow(),
            )
            commit()
            flash(_("Extra time is granted."), "success")
            return redirect(url_for("certify.extra_time"))
    grants = session.exec(
        select(ExtraTime, User.email)
        .join(User, col(User.id) == col(ExtraTime.user_id))
        .order_by(col(ExtraTime.granted_at).desc())
        .limit(200)
    ).all()
    return render_template("certify/extra_time.html", form=form, grants=grants)
