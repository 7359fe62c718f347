"""The manager's view: completion by unit and person, assignments with due dates, exports."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from elearn.auth import roles_required
from elearn.clock import utcnow
from elearn.db import get_session
from elearn.domain.localize import pick
from elearn.i18n import current_language
from elearn.services import (
    certificates,
    events,
    learning,
    next_steps,
    reports,
    sittings,
    team_reflection,
)
from elearn.services.exams import active_exams, attempts_of
from elearn.services.paging import page_of_list
from elearn.web import authority
from elearn.web import team_reflection as team_web
from elearn.web.forms import NAME_MAX, PlainText

bp = Blueprint("manage", __name__, url_prefix="/manage")
manager = roles_required("manager", "admin")


class NextStepForm(FlaskForm):
    """A next step the unit agreed after a course (its team reflection)."""

    course = SelectField(_l("After the course"), choices=[], validate_choice=True)
    action = TextAreaField(
        _l("What the unit will do"),
        validators=[InputRequired(), PlainText(multiline=True), Length(max=2000)],
    )
    owner = StringField(
        _l("Who is responsible"), validators=[InputRequired(), PlainText(), Length(max=NAME_MAX)]
    )
    due = DateField(_l("By when"), validators=[InputRequired()])


def _next_step_form(session: Any) -> NextStepForm:
    form = NextStepForm()
    form.course.choices = [SelectChoice("", _("(no particular course)"))] + [
        SelectChoice(t.id, t.title)
        for t in reports.targets(session=session, lang=current_language())
        if t.kind == "course"
    ]
    return form


class AssignmentForm(FlaskForm):
    target = SelectField(_l("Course or exam"), choices=[], validators=[InputRequired()])
    due = DateField(_l("Due date"), validators=[InputRequired()])


def _is_admin() -> bool:
    return bool(current_user.has_role("admin"))


def _scope(unit_id: int) -> reports.UnitTree:
    tree = reports.load_tree(session=get_session())
    reports.check_unit(
        session=get_session(),
        tree=tree,
        unit_id=unit_id,
        user_id=current_user.id,
        is_admin=_is_admin(),
    )
    return tree


def _warn_days() -> int:
    return int(current_app.config["CERTIFICATE_EXPIRY_WARNING_DAYS"])


def _csv(name: str, header: list[str], rows: list[list[Any]]) -> Response:
    return Response(
        reports.to_csv(header=header, rows=rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


PEOPLE_PER_PAGE = 100  # a page of a report lists this many people; the CSV has them all


def _page_number() -> int:
    return request.args.get("page", 1, type=int) or 1


COUNT_FIELDS = (
    "not_started",
    "in_progress",
    "completed",
    "valid",
    "expiring",
    "expired",
    "overdue",
)


@bp.get("/")
@manager
def index() -> Any:
    session = get_session()
    tree = reports.load_tree(session=session)
    roots = reports.managed_roots(
        session=session, tree=tree, user_id=current_user.id, is_admin=_is_admin()
    )
    if len(roots) == 1:
        return redirect(url_for("manage.unit", unit_id=roots[0]))
    return render_template("manage/index.html", roots=roots, tree=tree)


@bp.get("/units/<int:unit_id>")
@manager
def unit(unit_id: int) -> Any:
    session, now = get_session(), utcnow()
    tree = _scope(unit_id)
    facts = reports.read_facts(session=session, unit_ids=tree.subtree(unit_id))
    rows = []
    for target in reports.targets(session=session, lang=current_language()):
        statuses = reports.staff_statuses(
            facts=facts, tree=tree, target=target, now=now, warn_days=_warn_days()
        )
        rows.append((target, reports.count(rows=statuses), statuses))
    expiring = [
        (t, s)
        for t, _c, statuses in rows
        for s in statuses
        if s.certificate in ("expiring", "expired")
    ]
    agreed = next_steps.steps_for(session=session, unit_ids=tree.subtree(unit_id))
    if request.args.get("format") == "next-steps":
        return _csv(
            f"unit-{unit_id}-next-steps",
            list(next_steps.EXPORT_HEADER),
            next_steps.export_rows(
                steps=agreed, unit_names={u: tree.units[u].name for u in tree.subtree(unit_id)}
            ),
        )
    if request.args.get("format") == "csv":
        header = [
            "kind",
            "id",
            "title",
            "staff",
            *COUNT_FIELDS,
            *(f"{f}_percent" for f in COUNT_FIELDS),
        ]
        return _csv(
            f"unit-{unit_id}",
            header,
            [
                [
                    t.kind,
                    t.id,
                    t.title,
                    c.staff,
                    *(getattr(c, f) for f in COUNT_FIELDS),
                    *(round(c.percent(f), 1) for f in COUNT_FIELDS),
                ]
                for t, c, _s in rows
            ],
        )
    form = AssignmentForm()
    form.target.choices = [SelectChoice(f"{t.kind}:{t.id}", t.title) for t, _c, _s in rows]
    return render_template(
        "manage/unit.html",
        tree=tree,
        unit_id=unit_id,
        rows=rows,
        expiring=page_of_list(rows=expiring, number=_page_number(), size=PEOPLE_PER_PAGE),
        assignments=reports.assignments_for(session=session, tree=tree, unit_id=unit_id),
        booked=sittings.booked_in_units(session=session, unit_ids=tree.subtree(unit_id), now=now),
        events=events.attendance_in_units(session=session, unit_ids=tree.subtree(unit_id)),
        team_reflections=team_reflection.for_units(session=session, unit_ids=[unit_id]),
        reflection_form=team_web.schedule_form(),
        form=form,
        next_steps=agreed,
        next_step_form=_next_step_form(session),
        today=now.date(),
        titles={(t.kind, t.id): t.title for t, _c, _s in rows},
        roots=reports.managed_roots(
            session=session, tree=tree, user_id=current_user.id, is_admin=_is_admin()
        ),
    )


@bp.get("/units/<int:unit_id>/<kind>/<target_id>")
@manager
def target(unit_id: int, kind: str, target_id: str) -> Any:
    session, now = get_session(), utcnow()
    tree = _scope(unit_id)
    chosen = reports.find_target(
        session=session, kind=kind, target_id=target_id, lang=current_language()
    )
    statuses = reports.staff_statuses(
        facts=reports.read_facts(session=session, unit_ids=tree.subtree(unit_id)),
        tree=tree,
        target=chosen,
        now=now,
        warn_days=_warn_days(),
    )
    units = reports.by_subunit(tree=tree, unit_id=unit_id, rows=statuses)
    table = request.args.get("table")
    if request.args.get("format") == "csv" and table == "units":
        return _csv(
            f"{kind}-{target_id}-units",
            ["unit", "staff", *COUNT_FIELDS, "completed_percent"],
            [
                [
                    tree.path(u),
                    c.staff,
                    *(getattr(c, f) for f in COUNT_FIELDS),
                    round(c.percent("completed"), 1),
                ]
                for u, _n, c in units
            ],
        )
    if request.args.get("format") == "csv":
        return _csv(
            f"{kind}-{target_id}-people",
            [
                "name",
                "email",
                "unit",
                "state",
                "certificate",
                "certificate_until",
                "due",
                "overdue",
            ],
            [
                [
                    s.name,
                    s.email,
                    tree.path(s.unit_id),
                    s.state,
                    s.certificate or "",
                    s.certificate_until.date().isoformat() if s.certificate_until else "",
                    s.due_at.date().isoformat() if s.due_at else "",
                    "yes" if s.overdue else "",
                ]
                for s in statuses
            ],
        )
    return render_template(
        "manage/target.html",
        tree=tree,
        unit_id=unit_id,
        target=chosen,
        people=page_of_list(rows=statuses, number=_page_number(), size=PEOPLE_PER_PAGE),
        units=units,
        total=reports.count(rows=statuses),
        bars=reports.bars(data=[(name, c.percent("completed")) for _u, name, c in units]),
    )


@bp.get("/units/<int:unit_id>/people/<int:user_id>")
@manager
def person(unit_id: int, user_id: int) -> Any:
    session, now = get_session(), utcnow()
    tree = _scope(unit_id)
    user = reports.person_in_unit(session=session, tree=tree, unit_id=unit_id, user_id=user_id)
    lang = current_language()
    courses = []
    for course in learning.active_courses(session=session):
        view = learning.load_course(session=session, course_id=course.id)
        courses.append(
            (
                pick(view.spec.title, lang, view.spec.default_language).value,
                learning.progress(session=session, user_id=user_id, view=view),
            )
        )
    exam_rows = [
        (v, attempts_of(session=session, user_id=user_id, exam_id=v.exam.id))
        for v in active_exams(session=session)
    ]
    held = [
        (c, certificates.verify(certificate=c, authority=authority(), now=now))
        for c in certificates.of_user(session=session, user_id=user_id)
    ]
    return render_template(
        "manage/person.html",
        tree=tree,
        unit_id=unit_id,
        user=user,
        courses=courses,
        exams=exam_rows,
        held=held,
        lang=lang,
        events=events.registrations_of(session=session, user_id=user_id),
        now=now,
    )


@bp.post("/units/<int:unit_id>/assignments")
@manager
def assign(unit_id: int) -> Any:
    session = get_session()
    _scope(unit_id)
    form = AssignmentForm()
    form.target.choices = [
        SelectChoice(f"{t.kind}:{t.id}", t.title)
        for t in reports.targets(session=session, lang=current_language())
    ]
    if not form.validate_on_submit() or form.due.data is None:
        flash(_("Choose a course or exam and a due date."), "error")
        return redirect(url_for("manage.unit", unit_id=unit_id))
    kind, _sep, target_id = (form.target.data or "").partition(":")
    chosen = reports.find_target(
        session=session, kind=kind, target_id=target_id, lang=current_language()
    )
    due = datetime.combine(form.due.data, time(23, 59), tzinfo=UTC)
    reports.assign(
        session=session,
        unit_id=unit_id,
        target=chosen,
        due_at=due,
        actor_id=current_user.id,
        now=utcnow(),
    )
    flash(_("The assignment is saved."), "success")
    return redirect(url_for("manage.unit", unit_id=unit_id))


@bp.post("/units/<int:unit_id>/next-steps")
@manager
def add_next_step(unit_id: int) -> Any:
    """Record what the unit agreed to do after a course (the team reflection's last question)."""
    session = get_session()
    _scope(unit_id)
    form = _next_step_form(session)
    if not form.validate_on_submit() or form.due.data is None:
        problems = [
            f"{form[name].label.text}: {' '.join(errors)}"
            for name, errors in form.errors.items()
            if name != "csrf_token"
        ]
        flash(" ".join(problems) or _("Fill in what, who and by when."), "error")
        return redirect(url_for("manage.unit", unit_id=unit_id, _anchor="next-steps"))
    next_steps.add_step(
        session=session,
        unit_id=unit_id,
        course_id=form.course.data or "",
        action=form.action.data or "",
        owner=form.owner.data or "",
        due=form.due.data,
        actor_id=current_user.id,
        now=utcnow(),
    )
    flash(_("The next step is saved."), "success")
    return redirect(url_for("manage.unit", unit_id=unit_id, _anchor="next-steps"))


@bp.post("/units/<int:unit_id>/next-steps/<int:step_id>/done")
@manager
def next_step_done(unit_id: int, step_id: int) -> Any:
    _scope(unit_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    next_steps.set_done(
        session=get_session(),
        unit_id=unit_id,
        step_id=step_id,
        done=request.form.get("done") == "1",
        actor_id=current_user.id,
        now=utcnow(),
    )
    return redirect(url_for("manage.unit", unit_id=unit_id, _anchor="next-steps"))
