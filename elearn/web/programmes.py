"""Programmes: the advisers' pages (phases, organisations, activity plans, agreements, the
dashboard and its CSV) and the organisation contacts' pages (read the plan, approve the
agreement, apply)."""

from __future__ import annotations

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
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional

from elearn.auth import roles_required, signed_in
from elearn.clock import utcnow
from elearn.db import get_session
from elearn.domain import programmes as rules
from elearn.domain.errors import N_, InvalidAnswer, NotFound
from elearn.domain.events import localized
from elearn.i18n import current_language
from elearn.models import OrgUnit, Programme, User
from elearn.services import accounts, files, reports
from elearn.services import cases as case_bank
from elearn.services import programmes as service
from elearn.web.events import ORG_TYPE_LABELS
from elearn.web.forms import ConfirmForm, MultiCheckboxField, PlainText, SmallIntegerField

bp = Blueprint("programmes", __name__, url_prefix="/programmes")
mine = Blueprint("my_programmes", __name__, url_prefix="/me/programmes")
adviser = roles_required(*service.ADVISING)

KIND_LABELS = {
    "advisory": _l("Advisory programme"),
    "network": _l("Network"),
    "competence": _l("Competence programme"),
}
PARTICIPATION_LABELS = {
    "applied": _l("Applied"),
    "invited": _l("Invited"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
}
ACTIVITY_LABELS = {
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}
AGREEMENT_LABELS = {
    "none": _l("Not drafted"),
    "awaiting": _l("Awaiting approval"),
    "approved": _l("Approved"),
}
LINK_LABELS = {"event": _l("Event"), "course": _l("Course"), "exam": _l("Exam"), "task": _l("Task")}


@bp.context_processor
@mine.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "KIND_LABELS": KIND_LABELS,
        "PARTICIPATION_LABELS": PARTICIPATION_LABELS,
        "ACTIVITY_LABELS": ACTIVITY_LABELS,
        "AGREEMENT_LABELS": AGREEMENT_LABELS,
        "LINK_LABELS": LINK_LABELS,
        "phase_state": rules.phase_state,
        "SCALE_LABELS": SCALE_LABELS,
        "ORG_TYPE_LABELS": ORG_TYPE_LABELS,
        "evaluation_open": rules.evaluation_open,
        "lang": current_language(),
    }


# --- forms --------------------------------------------------------------------------------------


class ProgrammeForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), PlainText(), Length(max=200)])
    description = TextAreaField(
        _l("Description"), validators=[PlainText(multiline=True), Length(max=10_000)]
    )
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(k, str(v)) for k, v in KIND_LABELS.items()],
        validators=[InputRequired()],
    )


class PhaseForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), PlainText(), Length(max=200)])
    description = TextAreaField(
        _l("Description"), validators=[PlainText(multiline=True), Length(max=10_000)]
    )
    requires_agreement = BooleanField(_l("The phase ends only with an approved agreement"))
    events = MultiCheckboxField(_l("Events in this phase"), choices=[])
    targets = MultiCheckboxField(_l("Courses and exams in this phase"), choices=[])
    tasks = TextAreaField(
        _l("Tasks (one a line)"), validators=[PlainText(multiline=True), Length(max=2000)]
    )
    roles = TextAreaField(
        _l("Roles that must take part (one a line)"),
        description=_l(
            "For example: head of procurement. Met when a contact person with the role is "
            "checked in at one of the phase's events."
        ),
        validators=[PlainText(multiline=True), Length(max=1000)],
    )


class StaffForm(FlaskForm):
    email = EmailField(
        _l("Adviser's e-mail"), validators=[InputRequired(), Email(), Length(max=254)]
    )


class InviteForm(FlaskForm):
    unit = SelectField(_l("Organisation"), choices=[], validators=[InputRequired()])


class DecisionForm(FlaskForm):
    decision = SelectField(
        _l("Decision"),
        choices=[SelectChoice("accept", _l("Accept")), SelectChoice("decline", _l("Decline"))],
        validators=[InputRequired()],
    )


class ContactForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(), Length(max=254)])
    role = StringField(_l("Role"), validators=[InputRequired(), PlainText(), Length(max=100)])


class ActivityForm(FlaskForm):
    title = StringField(_l("Activity"), validators=[InputRequired(), PlainText(), Length(max=200)])
    owner = StringField(_l("Owner"), validators=[PlainText(), Length(max=200)])
    due_on = DateField(_l("Due date"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[PlainText(multiline=True), Length(max=5000)])


class ActivityStatusForm(FlaskForm):
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(k, str(v)) for k, v in ACTIVITY_LABELS.items()],
        validators=[InputRequired()],
    )
    notes = TextAreaField(_l("Notes"), validators=[PlainText(multiline=True), Length(max=5000)])


class AgreementForm(FlaskForm):
    text = TextAreaField(
        _l("Agreement text"),
        validators=[InputRequired(), PlainText(multiline=True), Length(max=50_000)],
    )


class ApproveForm(FlaskForm):
    version = SmallIntegerField(_l("Version"), validators=[InputRequired()])


def _scale(label: Any) -> RadioField:
    return RadioField(
        label,
        choices=[SelectChoice(str(i), str(i)) for i in range(1, 6)],
        validators=[InputRequired()],
    )


class EvaluationForm(FlaskForm):
    useful = _scale(_l("How useful was the programme for your organisation?"))
    advice = _scale(_l("How good was the advice you were given?"))
    use = _scale(_l("How much of it will your organisation go on using?"))
    gained = TextAreaField(
        _l("What did your organisation gain?"),
        validators=[PlainText(multiline=True), Length(max=5000)],
    )
    improve = TextAreaField(
        _l("What could be better?"), validators=[PlainText(multiline=True), Length(max=5000)]
    )


SCALE_LABELS = {
    "useful": _l("Useful for the organisation"),
    "advice": _l("Quality of the advice"),
    "use": _l("Will go on using it"),
}


class ApplyForm(FlaskForm):
    unit = SelectField(_l("Organisation"), choices=[], validators=[InputRequired()])


def _refuse(form: FlaskForm) -> None:
    """A form that fails validation: a clear message, nothing changed."""
    problems = [
        f"{form[name].label.text}: {' '.join(map(str, errs))}"
        for name, errs in form.errors.items()
        if name != "csrf_token"
    ]
    if "csrf_token" in form.errors:
        abort(400)
    raise InvalidAnswer(" ".join(problems) or N_("The form was incomplete."))


# --- the adviser's pages ------------------------------------------------------------------------


def _mine(programme_id: int) -> Any:
    return service.check_staff(
        session=get_session(),
        programme_id=programme_id,
        user_id=current_user.id,
        is_admin=current_user.has_role("admin"),
    )


@bp.get("/")
@adviser
def index() -> Any:
    found = service.staffed_by(
        session=get_session(), user_id=current_user.id, is_admin=current_user.has_role("admin")
    )
    return render_template("programmes/index.html", programmes=found)


@bp.route("/new", methods=["GET", "POST"])
@adviser
def new() -> Any:
    form = ProgrammeForm()
    if form.validate_on_submit():
        programme = service.create_programme(
            session=get_session(),
            title=form.title.data or "",
            description=form.description.data or "",
            kind=form.kind.data or "",
            actor_id=current_user.id,
            now=utcnow(),
        )
        flash(_("The programme is created."), "success")
        return redirect(url_for("programmes.detail", programme_id=programme.id))
    status = 422 if request.method == "POST" else 200
    return render_template("programmes/new.html", form=form), status


def _phase_form(session: Any) -> PhaseForm:
    form = PhaseForm()

    lang = current_language()
    events = service.event_choices(session=session)
    form.events.choices = [SelectChoice(str(e.id), localized(e.title, lang)) for e in events]
    form.targets.choices = [
        SelectChoice(f"{t.kind}:{t.id}", f"{LINK_LABELS[t.kind]}: {t.title}")
        for t in reports.targets(session=session, lang=lang)
    ]
    return form


@bp.get("/<int:programme_id>")
@adviser
def detail(programme_id: int) -> Any:
    session = get_session()
    programme = _mine(programme_id)
    invite = InviteForm()
    invite.unit.choices = [
        SelectChoice(str(u.id), u.name) for u in service.top_level_units(session=session)
    ]
    return render_template(
        "programmes/detail.html",
        programme=programme,
        phases=service.phases(session=session, programme_id=programme_id),
        organisations=service.participations(session=session, programme_id=programme_id),
        staff=service.staff_of(session=session, programme_id=programme_id),
        phase_form=_phase_form(session),
        invite_form=invite,
        staff_form=StaffForm(),
        decision_form=DecisionForm(),
        cases=case_bank.search(
            session=session, filters=case_bank.Filters(programme=programme.title), number=1, size=5
        ),
    )


@bp.post("/<int:programme_id>/phases")
@adviser
def add_phase(programme_id: int) -> Any:
    session = get_session()
    _mine(programme_id)
    form = _phase_form(session)
    if not form.validate_on_submit():
        _refuse(form)
    links = [("event", e) for e in form.events.data or []]
    for target in form.targets.data or []:
        kind, _sep, ref = target.partition(":")
        links.append((kind, ref))
    links += [("task", t.strip()) for t in (form.tasks.data or "").splitlines() if t.strip()]
    service.add_phase(
        session=session,
        programme_id=programme_id,
        title=form.title.data or "",
        description=form.description.data or "",
        requires_agreement=bool(form.requires_agreement.data),
        links=links,
        required_roles=(form.roles.data or "").splitlines(),
    )
    flash(_("The phase is added."), "success")
    return redirect(url_for("programmes.detail", programme_id=programme_id))


@bp.post("/<int:programme_id>/staff")
@adviser
def add_staff(programme_id: int) -> Any:
    _mine(programme_id)
    form = StaffForm()
    if not form.validate_on_submit():
        _refuse(form)
    user = service.add_staff(
        session=get_session(), programme_id=programme_id, email=form.email.data or ""
    )
    flash(_("%(name)s now runs this programme.", name=user.name), "success")
    return redirect(url_for("programmes.detail", programme_id=programme_id))


@bp.post("/<int:programme_id>/organisations")
@adviser
def invite(programme_id: int) -> Any:
    session = get_session()
    _mine(programme_id)
    form = InviteForm()
    form.unit.choices = [
        SelectChoice(str(u.id), u.name) for u in service.top_level_units(session=session)
    ]
    if not form.validate_on_submit():
        _refuse(form)
    service.invite(
        session=session, programme_id=programme_id, unit_id=int(form.unit.data or 0), now=utcnow()
    )
    flash(_("The organisation is invited; an administrator accepts it."), "success")
    return redirect(url_for("programmes.detail", programme_id=programme_id))


@bp.post("/<int:programme_id>/organisations/<int:participation_id>/decision")
@roles_required("admin")
def decide(programme_id: int, participation_id: int) -> Any:
    _mine(programme_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        _refuse(form)
    row = service.decide(
        session=get_session(),
        programme_id=programme_id,
        participation_id=participation_id,
        accept=form.decision.data == "accept",
        actor_id=current_user.id,
        now=utcnow(),
    )
    flash(_("Saved: %(status)s.", status=PARTICIPATION_LABELS[row.status]), "success")
    return redirect(url_for("programmes.detail", programme_id=programme_id))


def _names(session: Any, versions: list[Any]) -> dict[int, str]:

    ids = {v.approved_by_id for v in versions if v.approved_by_id}
    return {uid: u.name for uid in ids if (u := session.get(User, uid)) is not None}


def _organisation_page(
    programme_id: int, participation_id: int, template: str, **extra: Any
) -> Any:
    session = get_session()
    programme = session.get(Programme, programme_id)
    part = service.participation(
        session=session, programme_id=programme_id, participation_id=participation_id
    )
    views = service.phases(session=session, programme_id=programme_id)

    return render_template(
        template,
        programme=programme,
        part=part,
        unit=session.get(OrgUnit, part.unit_id),
        phases=views,
        progress=service.progress_of(part=part, phase_views=views),
        contacts=service.contacts(session=session, participation_id=participation_id),
        activities=service.activities(session=session, participation_id=participation_id),
        versions=service.agreement_versions(session=session, participation_id=participation_id),
        agreement=service.agreement_state(session=session, participation_id=participation_id),
        requirements=service.requirements(
            session=session,
            programme_id=programme_id,
            participation_id=participation_id,
            phase_views=views,
        ),
        names=_names(
            session, service.agreement_versions(session=session, participation_id=participation_id)
        ),
        today=utcnow().date(),
        overdue=rules.overdue,
        **extra,
    )


@bp.get("/<int:programme_id>/organisations/<int:participation_id>")
@adviser
def organisation(programme_id: int, participation_id: int) -> Any:
    _mine(programme_id)
    latest = service.agreement_versions(session=get_session(), participation_id=participation_id)
    agreement_form = AgreementForm(text=latest[-1].text if latest else "")
    return _organisation_page(
        programme_id,
        participation_id,
        "programmes/organisation.html",
        contact_form=ContactForm(),
        activity_form=ActivityForm(),
        status_form=ActivityStatusForm(),
        agreement_form=agreement_form,
        confirm=ConfirmForm(),
    )


def _part(programme_id: int, participation_id: int) -> Any:
    _mine(programme_id)
    return service.participation(
        session=get_session(), programme_id=programme_id, participation_id=participation_id
    )


def _back(programme_id: int, participation_id: int) -> Any:
    return redirect(
        url_for(
            "programmes.organisation", programme_id=programme_id, participation_id=participation_id
        )
    )


@bp.post("/<int:programme_id>/organisations/<int:participation_id>/contacts")
@adviser
def add_contact(programme_id: int, participation_id: int) -> Any:
    part = _part(programme_id, participation_id)
    form = ContactForm()
    if not form.validate_on_submit():
        _refuse(form)
    service.add_contact(
        session=get_session(),
        participation_id=participation_id,
        unit_id=part.unit_id,
        email=form.email.data or "",
        role=form.role.data or "",
    )
    flash(_("The contact person is saved."), "success")
    return _back(programme_id, participation_id)


@bp.post("/<int:programme_id>/organisations/<int:participation_id>/activities")
@adviser
def add_activity(programme_id: int, participation_id: int) -> Any:
    _part(programme_id, participation_id)
    form = ActivityForm()
    if not form.validate_on_submit():
        _refuse(form)
    service.add_activity(
        session=get_session(),
        participation_id=participation_id,
        title=form.title.data or "",
        owner=form.owner.data or "",
        due_on=form.due_on.data,
        notes=form.notes.data or "",
        now=utcnow(),
    )
    flash(_("The activity is added to the plan."), "success")
    return _back(programme_id, participation_id)


@bp.post("/<int:programme_id>/organisations/<int:participation_id>/activities/<int:activity_id>")
@adviser
def update_activity(programme_id: int, participation_id: int, activity_id: int) -> Any:
    _part(programme_id, participation_id)
    form = ActivityStatusForm()
    if not form.validate_on_submit():
        _refuse(form)
    service.update_activity(
        session=get_session(),
        participation_id=participation_id,
        activity_id=activity_id,
        status=form.status.data or "",
        notes=form.notes.data or "",
        now=utcnow(),
    )
    flash(_("The activity is saved."), "success")
    return _back(programme_id, participation_id)


@bp.post("/<int:programme_id>/organisations/<int:participation_id>/agreement")
@adviser
def draft_agreement(programme_id: int, participation_id: int) -> Any:
    _part(programme_id, participation_id)
    form = AgreementForm()
    if not form.validate_on_submit():
        _refuse(form)
    upload = request.files.get("file")
    row = service.draft_agreement(
        session=get_session(),
        participation_id=participation_id,
        text=form.text.data or "",
        upload=files.Upload(upload.filename, upload.read()) if upload and upload.filename else None,
        instance_path=current_app.instance_path,
        actor_id=current_user.id,
        now=utcnow(),
        max_bytes=int(current_app.config["AGREEMENT_MAX_BYTES"]),
    )
    flash(
        _(
            "Version %(n)s of the agreement is saved; the organisation's contact approves it.",
            n=row.version,
        ),
        "success",
    )
    return _back(programme_id, participation_id)


@bp.post("/<int:programme_id>/organisations/<int:participation_id>/phase")
@adviser
def complete_phase(programme_id: int, participation_id: int) -> Any:
    _part(programme_id, participation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.complete_phase(
        session=get_session(),
        programme_id=programme_id,
        participation_id=participation_id,
        now=utcnow(),
    )
    flash(_("The phase is complete."), "success")
    return _back(programme_id, participation_id)


@bp.get("/<int:programme_id>/dashboard")
@adviser
def dashboard(programme_id: int) -> Any:
    session, now = get_session(), utcnow()
    programme = _mine(programme_id)
    rows = service.dashboard(session=session, programme_id=programme_id, today=now.date(), now=now)
    return render_template("programmes/dashboard.html", programme=programme, rows=rows)


@bp.get("/<int:programme_id>/dashboard.csv")
@adviser
def dashboard_csv(programme_id: int) -> Any:
    session, now = get_session(), utcnow()
    _mine(programme_id)
    rows = service.dashboard(session=session, programme_id=programme_id, today=now.date(), now=now)
    header = [
        _("Organisation"),
        _("Status"),
        _("Phase"),
        _("Phases done"),
        _("Agreement"),
        _("Overdue activities"),
        _("Missing participants"),
        _("Next events"),
    ]
    lang = current_language()

    body = reports.to_csv(
        header=header,
        rows=[
            [
                r.unit.name,
                str(PARTICIPATION_LABELS[r.participation.status]),
                r.phase_title,
                f"{r.progress.done}/{r.progress.total}",
                str(AGREEMENT_LABELS[r.agreement]),
                "; ".join(f"{a.title} ({a.due_on})" for a in r.overdue),
                "; ".join(f"{m.role} ({m.phase.title})" for m in r.missing),
                "; ".join(
                    f"{localized(e.title, lang)} ({e.starts_at:%Y-%m-%d})" for e in r.next_events
                ),
            ]
            for r in rows
        ],
    )
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="dashboard-{programme_id}.csv"'},
    )


@bp.get("/<int:programme_id>/organisations/<int:participation_id>/agreement/<int:version>")
@signed_in
def agreement_file(programme_id: int, participation_id: int, version: int) -> Any:
    """The agreement's PDF: for the programme's staff and the organisation's contacts."""
    session = get_session()
    part = service.participation(
        session=session, programme_id=programme_id, participation_id=participation_id
    )
    if current_user.has_role(*service.ADVISING):
        try:
            _mine(programme_id)
        except NotFound:
            service.check_contact(
                session=session, participation_id=part.id or 0, user_id=current_user.id
            )
    else:
        service.check_contact(
            session=session, participation_id=part.id or 0, user_id=current_user.id
        )
    row = service.agreement_file(
        session=session, participation_id=participation_id, version=version
    )
    stored, data = files.read(
        session=session, instance_path=current_app.instance_path, file_id=row.file_id or 0
    )
    return Response(data, headers=files.headers(row=stored))


# --- the organisation's side --------------------------------------------------------------------


@mine.get("/")
@signed_in
def my_index() -> Any:
    session = get_session()

    managed = accounts.managed_units(session=session, user_id=current_user.id)
    units = [u for u in service.top_level_units(session=session) if u.id in managed]
    apply_form = ApplyForm()
    apply_form.unit.choices = [SelectChoice(str(u.id), u.name) for u in units]

    return render_template(
        "programmes/mine.html",
        mine=service.contact_of(session=session, user_id=current_user.id),
        programmes=service.all_programmes(session=session) if units else [],
        apply_form=apply_form,
    )


@mine.post("/<int:programme_id>/apply")
@signed_in
def apply(programme_id: int) -> Any:
    form = ApplyForm()
    form.unit.choices = None  # any number: the service checks that the user manages it
    form.unit.validate_choice = False
    if not form.validate_on_submit() or not (form.unit.data or "").isdigit():
        if "csrf_token" in form.errors:
            abort(400)
        raise InvalidAnswer(N_("Choose an organisation."))
    service.apply(
        session=get_session(),
        programme_id=programme_id,
        unit_id=int(form.unit.data or 0),
        user_id=current_user.id,
        now=utcnow(),
    )
    flash(_("Your organisation has applied; an administrator will answer."), "success")
    return redirect(url_for("my_programmes.my_index"))


@mine.get("/<int:participation_id>")
@signed_in
def my_detail(participation_id: int) -> Any:
    part = service.check_contact(
        session=get_session(), participation_id=participation_id, user_id=current_user.id
    )
    return _organisation_page(
        part.programme_id, participation_id, "programmes/contact.html", approve_form=ApproveForm()
    )


@mine.post("/<int:participation_id>/approve")
@signed_in
def approve(participation_id: int) -> Any:
    form = ApproveForm()
    if not form.validate_on_submit():
        _refuse(form)
    row = service.approve_agreement(
        session=get_session(),
        participation_id=participation_id,
        version=form.version.data or 0,
        user_id=current_user.id,
        now=utcnow(),
    )
    flash(_("You approved version %(n)s of the agreement.", n=row.version), "success")
    return redirect(url_for("my_programmes.my_detail", participation_id=participation_id))


@mine.route("/<int:participation_id>/evaluation", methods=["GET", "POST"])
@signed_in
def evaluation(participation_id: int) -> Any:
    session = get_session()
    part = service.check_contact(
        session=session, participation_id=participation_id, user_id=current_user.id
    )
    done = service.evaluation_of(
        session=session, participation_id=participation_id, user_id=current_user.id
    )
    form = EvaluationForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            _refuse(form)
        service.evaluate(
            session=session,
            participation_id=participation_id,
            user_id=current_user.id,
            ratings={k: form[k].data for k in rules.SCALES},
            gained=form.gained.data or "",
            improve=form.improve.data or "",
            now=utcnow(),
        )
        flash(_("Thank you: your evaluation is saved."), "success")
        return redirect(url_for("my_programmes.my_detail", participation_id=participation_id))
    return render_template(
        "programmes/evaluation.html",
        programme=session.get(Programme, part.programme_id),
        part=part,
        form=form,
        done=done,
        open=rules.evaluation_open(
            service.progress_of(
                part=part,
                phase_views=service.phases(session=session, programme_id=part.programme_id),
            )
        ),
    )


@bp.get("/<int:programme_id>/evaluations")
@adviser
def evaluations(programme_id: int) -> Any:
    session = get_session()
    programme = _mine(programme_id)
    overall, by_unit = service.evaluation_summaries(session=session, programme_id=programme_id)
    return render_template(
        "programmes/evaluations.html",
        programme=programme,
        overall=overall,
        by_unit=by_unit,
        rows=service.evaluations(session=session, programme_id=programme_id),
        scales=rules.SCALES,
    )


@bp.get("/<int:programme_id>/evaluations.csv")
@adviser
def evaluations_csv(programme_id: int) -> Any:
    session = get_session()
    _mine(programme_id)
    rows = service.evaluations(session=session, programme_id=programme_id)
    body = reports.to_csv(
        header=[
            _("Organisation"),
            *(str(SCALE_LABELS[k]) for k in rules.SCALES),
            _("What did your organisation gain?"),
            _("What could be better?"),
            _("Submitted"),
        ],
        rows=[
            [
                unit.name,
                *(ev.ratings.get(k, "") for k in rules.SCALES),
                ev.gained,
                ev.improve,
                ev.submitted_at.strftime("%Y-%m-%d"),
            ]
            for ev, unit in rows
        ],
    )
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="programme-{programme_id}.csv"'},
    )


@mine.get("/networks/<int:programme_id>")
@signed_in
def network(programme_id: int) -> Any:
    session = get_session()
    programme = service.check_member(
        session=session, programme_id=programme_id, user_id=current_user.id
    )
    return render_template(
        "programmes/network.html",
        programme=programme,
        meetings=service.meetings(session=session, programme_id=programme_id),
        members=service.members(session=session, programme_id=programme_id),
        now=utcnow(),
    )


@mine.get("/networks/<int:programme_id>/materials/<int:material_id>")
@signed_in
def network_material(programme_id: int, material_id: int) -> Any:
    session = get_session()
    service.check_member(session=session, programme_id=programme_id, user_id=current_user.id)
    row = service.archive_material(
        session=session, programme_id=programme_id, material_id=material_id
    )
    stored, data = files.read(
        session=session, instance_path=current_app.instance_path, file_id=row.file_id
    )
    return Response(data, headers=files.headers(row=stored))
