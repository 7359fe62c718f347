"""Standard setting in the browser: certifiers run Angoff studies, invited panellists rate.

Two blueprints: ``studies`` (``/certify/studies``) for certifiers and admins, who open, follow,
advance and close a study and read its results; ``panel`` (``/panel``) for panellists, who see
only the studies they were invited to.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from elearn.auth import roles_required
from elearn.clock import utcnow
from elearn.db import get_session
from elearn.domain.standard_setting import MIN_RESPONSES, rating_steps
from elearn.i18n import current_language
from elearn.services import exams
from elearn.services import standard_setting as setting
from elearn.web.forms import ConfirmForm, MultiCheckboxField, PlainText

studies = Blueprint("studies", __name__, url_prefix="/certify/studies")
panel = Blueprint("panel", __name__, url_prefix="/panel")
certifier = roles_required("certifier", "admin")
panellist = roles_required("panellist", "admin")
FIELD = "rating-"


class OpenStudyForm(FlaskForm):
    exam = SelectField(_l("Exam"), choices=[], validators=[InputRequired()])
    panellists = MultiCheckboxField(_l("Panellists"), choices=[], coerce=int)
    note = StringField(
        _l("Purpose (kept with the study)"), validators=[PlainText(), Optional(), Length(max=500)]
    )
    submit = SubmitField(_l("Open the study"))


# --- the certifier's pages ----------------------------------------------------------------------


@studies.route("", methods=["GET", "POST"])
@certifier
def index() -> Any:
    session = get_session()
    form = OpenStudyForm()
    form.exam.choices = [
        SelectChoice(v.exam.id, v.exam.id) for v in exams.active_exams(session=session)
    ]
    form.panellists.choices = [
        SelectChoice(u.id, f"{u.name} ({u.email})")
        for u in setting.panellist_candidates(session=session)
        if u.id != current_user.id  # who runs a study does not rate in it
    ]
    if form.validate_on_submit():
        study = setting.open_study(
            session=session,
            exam_id=form.exam.data or "",
            panellist_ids=form.panellists.data or [],
            runner_id=current_user.id,
            note=form.note.data or "",
            now=utcnow(),
        )
        flash(_("The study is open: the panellists can rate round 1 now."), "success")
        return redirect(url_for("studies.detail", study_id=study.id))
    return render_template("certify/studies.html", form=form, rows=setting.studies(session=session))


@studies.get("/<int:study_id>")
@certifier
def detail(study_id: int) -> Any:
    found = setting.study_detail(session=get_session(), study_id=study_id)
    return render_template(
        "certify/study.html", d=found, form=ConfirmForm(), min_responses=MIN_RESPONSES
    )


@studies.post("/<int:study_id>/round-2")
@certifier
def round_two(study_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    setting.open_round_two(
        session=get_session(), study_id=study_id, actor_id=current_user.id, now=utcnow()
    )
    flash(_("Round 2 is open: the panellists see the spread of round 1 and may revise."), "success")
    return redirect(url_for("studies.detail", study_id=study_id))


@studies.post("/<int:study_id>/close")
@certifier
def close(study_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    setting.close_study(
        session=get_session(), study_id=study_id, actor_id=current_user.id, now=utcnow()
    )
    flash(_("The study is closed: its ratings are final."), "success")
    return redirect(url_for("studies.results", study_id=study_id))


@studies.get("/<int:study_id>/results")
@certifier
def results(study_id: int) -> Any:
    found = setting.study_results(session=get_session(), study_id=study_id)
    return render_template("certify/study_results.html", r=found)


@studies.get("/<int:study_id>/results.csv")
@certifier
def results_csv(study_id: int) -> Any:
    data = setting.results_csv(session=get_session(), study_id=study_id)
    return Response(
        data,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="study-{study_id}.csv"'},
    )


@studies.get("/<int:study_id>/ratings.yaml")
@certifier
def ratings_file(study_id: int) -> Any:
    path, text = setting.ratings_file(session=get_session(), study_id=study_id)
    name = path.rsplit("/", 1)[-1]
    return Response(
        text,
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- the panellist's pages ----------------------------------------------------------------------


@panel.get("/")
@panellist
def home() -> Any:
    found = setting.invited_studies(session=get_session(), user_id=current_user.id)
    return render_template("panel/index.html", rows=found)


@panel.get("/studies/<int:study_id>")
@panellist
def study(study_id: int) -> Any:
    found = setting.panel_overview(
        session=get_session(), study_id=study_id, user_id=current_user.id
    )
    return render_template("panel/study.html", o=found)


@panel.route("/studies/<int:study_id>/topics/<topic>", methods=["GET", "POST"])
@panellist
def topic(study_id: int, topic: str) -> Any:
    session = get_session()
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        values = {
            name[len(FIELD) :]: value
            for name, value in request.form.items()
            if name.startswith(FIELD)
        }
        changed = setting.save_ratings(
            session=session,
            study_id=study_id,
            user_id=current_user.id,
            values=values,
            now=utcnow(),
        )
        flash(_("Your ratings are saved (%(n)s changed).", n=changed), "success")
        return redirect(url_for("panel.topic", study_id=study_id, topic=topic))
    sheet = setting.rating_sheet(
        session=session,
        study_id=study_id,
        user_id=current_user.id,
        topic=topic,
        lang=current_language(),
    )
    return render_template(
        "panel/topic.html",
        s=sheet,
        form=form,
        steps=rating_steps(),
        field=FIELD,
        min_responses=MIN_RESPONSES,
    )
