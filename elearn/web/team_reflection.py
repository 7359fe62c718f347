"""Team reflection after a course: the manager schedules the session and records the unit's
next steps; the participants answer, sharing with the group what they choose."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from elearn.auth import roles_required, signed_in
from elearn.clock import utcnow
from elearn.db import get_session
from elearn.domain import team_reflection as rules
from elearn.domain.errors import InvalidAnswer
from elearn.domain.events import SessionTime
from elearn.domain.text import TextRefused, clean_text
from elearn.i18n import current_language
from elearn.models import User
from elearn.services import reports
from elearn.services import team_reflection as service
from elearn.web.forms import ConfirmForm, PlainText, text_refused_message

team = Blueprint("team", __name__, url_prefix="/manage/units")
mine = Blueprint("my_team", __name__, url_prefix="/me/team-reflections")
manager = roles_required("manager", "admin")
ANSWER_MAX = 5000

QUESTIONS = {
    "read": _l("What did you read?"),
    "liked": _l("What did you like?"),
    "daily": _l("How will you take this into your daily work?"),
}


class ScheduleForm(FlaskForm):
    course = SelectField(_l("Course"), choices=[], validators=[InputRequired()])
    starts = DateTimeLocalField(_l("Start"), validators=[InputRequired()])
    ends = DateTimeLocalField(_l("End"), validators=[InputRequired()])
    place = StringField(_l("Place"), validators=[InputRequired(), PlainText(), Length(max=500)])


class ActionForm(FlaskForm):
    title = StringField(_l("Next step"), validators=[InputRequired(), PlainText(), Length(max=200)])
    owner = StringField(_l("Owner"), validators=[PlainText(), Length(max=200)])
    due_on = DateField(_l("Due date"), validators=[InputRequired()])


def questions_of(reflection: Any) -> list[tuple[str, str]]:
    """(key, question) for every question of a session, the course's prompts last."""
    out = [(k, str(QUESTIONS[k])) for k in rules.KS_QUESTIONS]
    out += [(f"p{i + 1}", p) for i, p in enumerate(reflection.prompts[: rules.MAX_PROMPTS])]
    return out


def _scope(unit_id: int) -> reports.UnitTree:
    session = get_session()
    tree = reports.load_tree(session=session)
    reports.check_unit(
        session=session,
        tree=tree,
        unit_id=unit_id,
        user_id=current_user.id,
        is_admin=current_user.has_role("admin"),
    )
    return tree


def schedule_form() -> ScheduleForm:
    form = ScheduleForm()
    form.course.choices = [
        SelectChoice(t.id, t.title)
        for t in reports.targets(session=get_session(), lang=current_language())
        if t.kind == "course"
    ]
    return form


def _problems(form: FlaskForm) -> str:
    if "csrf_token" in form.errors:
        abort(400)
    return " ".join(
        f"{form[name].label.text}: {' '.join(map(str, errs))}" for name, errs in form.errors.items()
    )


@team.post("/<int:unit_id>/team-reflections")
@manager
def schedule(unit_id: int) -> Any:
    tree = _scope(unit_id)
    form = schedule_form()
    if not form.validate_on_submit():
        raise InvalidAnswer(_problems(form))
    assert form.starts.data is not None and form.ends.data is not None
    title = _(
        "Team reflection: %(course)s (%(unit)s)",
        course=dict((c.value, c.label) for c in form.course.choices or [])[form.course.data],  # type: ignore[union-attr]
        unit=tree.units[unit_id].name,
    )
    row = service.schedule(
        session=get_session(),
        unit_id=unit_id,
        course_id=form.course.data or "",
        title=title,
        start=SessionTime(form.starts.data, form.ends.data, "Europe/Oslo"),
        place=form.place.data or "",
        actor_id=current_user.id,
        lang=current_language(),
        now=utcnow(),
    )
    flash(_("The reflection session is scheduled; the unit's staff can register."), "success")
    return redirect(url_for("team.detail", unit_id=unit_id, reflection_id=row.id))


@team.get("/<int:unit_id>/team-reflections/<int:reflection_id>")
@manager
def detail(unit_id: int, reflection_id: int) -> Any:
    tree = _scope(unit_id)
    session = get_session()
    row = service.check_unit(session=session, reflection_id=reflection_id, unit_id=unit_id)
    return render_template(
        "team/detail.html",
        unit_id=unit_id,
        unit_name=tree.units[unit_id].name,
        reflection=row,
        event=session.get(service.Event, row.event_id),
        questions=questions_of(row),
        shared=service.visible_answers(
            session=session, reflection_id=reflection_id, viewer_id=None
        ),
        actions=service.actions_for(session=session, reflection_id=reflection_id),
        form=ActionForm(),
    )


@team.post("/<int:unit_id>/team-reflections/<int:reflection_id>/actions")
@manager
def add_action(unit_id: int, reflection_id: int) -> Any:
    _scope(unit_id)
    session = get_session()
    row = service.check_unit(session=session, reflection_id=reflection_id, unit_id=unit_id)
    form = ActionForm()
    if not form.validate_on_submit() or form.due_on.data is None:
        raise InvalidAnswer(_problems(form))
    service.add_action(
        session=session,
        unit_id=unit_id,
        reflection_id=reflection_id,
        course_id=row.course_id,
        title=form.title.data or "",
        owner=form.owner.data or "",
        due_on=form.due_on.data,
        actor_id=current_user.id,
        now=utcnow(),
    )
    flash(_("The next step is saved; it shows on the unit's page."), "success")
    return redirect(url_for("team.detail", unit_id=unit_id, reflection_id=reflection_id))


# --- the participant's side ---------------------------------------------------------------------


def _me() -> User:
    user = get_session().get(User, current_user.id)
    assert user is not None
    return user


@mine.get("/")
@signed_in
def index() -> Any:
    return render_template(
        "team/mine.html", sessions=service.of_user(session=get_session(), user=_me())
    )


@mine.route("/<int:reflection_id>", methods=["GET", "POST"])
@signed_in
def answer(reflection_id: int) -> Any:
    session = get_session()
    row = service.check_member(session=session, reflection_id=reflection_id, user=_me())
    questions = questions_of(row)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        given: dict[str, tuple[str, bool]] = {}
        problems = []
        for key, question in questions:
            raw = request.form.get(f"answer-{key}", "")
            if len(raw) > ANSWER_MAX:
                problems.append(_("%(question)s: the answer is too long.", question=question))
                continue
            try:
                given[key] = (
                    clean_text(raw, multiline=True),
                    request.form.get(f"share-{key}") == "1",
                )
            except TextRefused as refused:
                problems.append(text_refused_message(question, refused))
        if problems:
            raise InvalidAnswer(" ".join(problems))
        service.save_answers(
            session=session, reflection=row, user_id=current_user.id, given=given, now=utcnow()
        )
        flash(
            _("Your answers are saved. Only what you chose to share is seen by the group."),
            "success",
        )
        return redirect(url_for("my_team.answer", reflection_id=reflection_id))
    seen = service.visible_answers(
        session=session, reflection_id=reflection_id, viewer_id=current_user.id
    )
    own = {a.key: a for a, _u in seen if a.user_id == current_user.id}
    return render_template(
        "team/answer.html",
        reflection=row,
        event=session.get(service.Event, row.event_id),
        questions=questions,
        own=own,
        others=[(a, u) for a, u in seen if a.user_id != current_user.id],
        form=form,
    )
