"""Events: the public pages, registration by link, and the organiser's pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

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
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    EmailField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, Email, InputRequired, Length, NumberRange, Optional

from elearn.auth import public, roles_required, signed_in
from elearn.clock import utcnow
from elearn.db import get_session, rollback_request
from elearn.domain import events as rules
from elearn.domain.errors import N_, InvalidAnswer
from elearn.domain.text import TextRefused, clean_text
from elearn.i18n import LANGUAGE_NAMES, current_language
from elearn.services import events as service
from elearn.services import files, reports
from elearn.web.busy import retries_when_locked
from elearn.web.forms import ConfirmForm, MultiCheckboxField, PlainText, SmallIntegerField

bp = Blueprint("events", __name__, url_prefix="/events")
organise = Blueprint("organise", __name__, url_prefix="/organise/events")
organiser = roles_required(*service.ORGANISING)

KIND_LABELS = {
    "information": _l("Information meeting"),
    "webinar": _l("Webinar"),
    "workshop": _l("Workshop"),
    "network": _l("Network meeting"),
}
MODE_LABELS = {"in_person": _l("In person"), "online": _l("Online")}
ORG_TYPE_LABELS = {
    "municipality": _l("Municipality"),
    "county": _l("County"),
    "state": _l("State agency"),
    "public": _l("Other public body"),
    "private": _l("Private"),
}
STATUS_LABELS = {
    "pending": _l("Waiting for you to confirm your e-mail address"),
    "confirmed": _l("Registered"),
    "waiting": _l("On the waiting list"),
    "cancelled": _l("Cancelled"),
}
TZ_LABELS = {"Europe/Oslo": _l("Norwegian time"), "Europe/Copenhagen": _l("Danish time")}


def site() -> service.Site:
    base = current_app.config.get("PUBLIC_URL") or request.host_url
    return service.Site(base_url=base, secret=_secret())


def _secret() -> bytes:
    key = current_app.secret_key
    return key.encode() if isinstance(key, str) else bytes(key or b"")


def session_time(starts_at: datetime, ends_at: datetime, tz: str) -> str:
    """'Thursday 10 December 2026, 09:00–11:30 (Norwegian time)', in the session's own zone."""
    zone = ZoneInfo(tz)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    # Flask-Babel would convert to the app's zone: give it the wall-clock time in the session's.
    day = format_date(start.date(), "full")
    if start.date() == end.date():
        return f"{day}, {start:%H:%M}\u2013{end:%H:%M} ({TZ_LABELS.get(tz, tz)})"
    last = format_date(end.date(), "full")
    return f"{day}, {start:%H:%M} \u2013 {last}, {end:%H:%M} ({TZ_LABELS.get(tz, tz)})"


@bp.context_processor
@organise.context_processor
def _helpers() -> dict[str, Any]:
    lang = current_language()
    return {
        "KIND_LABELS": KIND_LABELS,
        "MODE_LABELS": MODE_LABELS,
        "ORG_TYPE_LABELS": ORG_TYPE_LABELS,
        "STATUS_LABELS": STATUS_LABELS,
        "session_time": session_time,
        "loc": lambda texts: rules.localized(texts, lang),
    }


# --- forms --------------------------------------------------------------------------------------


def _org_type_choices() -> list[SelectChoice]:
    return [SelectChoice("", "\u2014")] + [
        SelectChoice(k, str(v)) for k, v in ORG_TYPE_LABELS.items()
    ]


class RegisterForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[InputRequired(), PlainText(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(), Length(max=254)])
    organisation = StringField(
        _l("Organisation"), validators=[InputRequired(), PlainText(), Length(max=200)]
    )
    org_type = SelectField(_l("Type of organisation"), choices=[], validators=[InputRequired()])
    mode = RadioField(_l("How will you take part?"), choices=[], validators=[InputRequired()])


class ChangeForm(FlaskForm):
    mode = RadioField(_l("How will you take part?"), choices=[], validators=[InputRequired()])


class EventEvaluationForm(FlaskForm):
    rating = RadioField(
        _l("How useful was the event?"),
        choices=[SelectChoice(str(i), str(i)) for i in range(1, 6)],
        validators=[InputRequired()],
    )
    useful = TextAreaField(
        _l("What was most useful?"), validators=[PlainText(multiline=True), Length(max=4000)]
    )
    improve = TextAreaField(
        _l("What could be better?"), validators=[PlainText(multiline=True), Length(max=4000)]
    )


def _session_fields(n: int) -> dict[str, Any]:
    required = [InputRequired()] if n == 1 else [Optional()]
    return {
        f"start{n}": DateTimeLocalField(
            _l("Session %(n)s starts", n=n), format="%Y-%m-%dT%H:%M", validators=required
        ),
        f"end{n}": DateTimeLocalField(
            _l("Session %(n)s ends", n=n), format="%Y-%m-%dT%H:%M", validators=required
        ),
    }


class EventForm(FlaskForm):
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(k, str(v)) for k, v in KIND_LABELS.items()],
        validators=[InputRequired()],
    )
    language = SelectField(
        _l("Held in"),
        choices=[SelectChoice(k, v) for k, v in LANGUAGE_NAMES.items()],
        validators=[InputRequired()],
    )
    title_nb = StringField(_l("Title (Norwegian)"), validators=[PlainText(), Length(max=200)])
    title_da = StringField(_l("Title (Danish)"), validators=[PlainText(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[PlainText(), Length(max=200)])
    description_nb = TextAreaField(
        _l("Description (Norwegian)"), validators=[PlainText(multiline=True), Length(max=10_000)]
    )
    description_da = TextAreaField(
        _l("Description (Danish)"), validators=[PlainText(multiline=True), Length(max=10_000)]
    )
    description_en = TextAreaField(
        _l("Description (English)"), validators=[PlainText(multiline=True), Length(max=10_000)]
    )
    tz = SelectField(
        _l("Time zone"),
        choices=[SelectChoice(k, str(v)) for k, v in TZ_LABELS.items()],
        validators=[InputRequired()],
    )
    locals().update(_session_fields(1))
    locals().update(_session_fields(2))
    locals().update(_session_fields(3))
    deadline = DateTimeLocalField(
        _l("Registration deadline"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    place = StringField(
        _l("Address (for taking part in person)"),
        validators=[PlainText(), Optional(), Length(max=500)],
    )
    capacity_in_person = SmallIntegerField(
        _l("Places in person"), default=0, validators=[Optional(), NumberRange(min=0)]
    )
    online_url = StringField(
        _l("Online link (shown only to registered participants)"),
        validators=[PlainText(), Optional(), URL(), Length(max=500)],
    )
    capacity_online = SmallIntegerField(
        _l("Places online"), default=0, validators=[Optional(), NumberRange(min=0)]
    )
    audience_types = MultiCheckboxField(
        _l("Only for these organisation types (none: open to all)"),
        choices=[SelectChoice(k, str(v)) for k, v in ORG_TYPE_LABELS.items()],
    )
    audience_units = SelectMultipleField(
        _l("Or only for these units (with their sub-units)"), choices=[], coerce=str
    )
    questions = TextAreaField(
        _l("Questions for participants, one a line (e.g. dietary needs)"),
        validators=[PlainText(multiline=True), Length(max=2000)],
    )
    contact_name = StringField(
        _l("Contact person"), validators=[InputRequired(), PlainText(), Length(max=200)]
    )
    contact_email = EmailField(
        _l("Contact e-mail"), validators=[InputRequired(), Email(), Length(max=254)]
    )
    organisers = TextAreaField(
        _l("Other organisers' e-mails, one a line"),
        validators=[PlainText(multiline=True), Length(max=5000)],
    )


class MaterialForm(FlaskForm):
    title = StringField(_l("Title"), validators=[PlainText(), Length(max=200)])


class CheckInForm(FlaskForm):
    registration = SmallIntegerField(validators=[InputRequired()])
    undo = StringField()


class OrgTypeForm(FlaskForm):
    unit = SmallIntegerField(validators=[InputRequired()])
    org_type = SelectField(choices=[])


def _answers(event: Any) -> tuple[dict[str, str], list[str]]:
    """The event's own questions, read from the form; errors as messages."""
    answers, errors = {}, []
    for qid, label in service.questions(event=event, lang=current_language()):
        raw = request.form.get(qid, "")
        try:
            answers[qid] = clean_text(raw, multiline=True)[:1000]
        except TextRefused as refused:
            errors.append(f"{label}: {_(refused.message)}")
    return answers, errors


def _mode_choices(view: service.EventView) -> list[SelectChoice]:
    out = []
    for mode in view.modes:
        label = str(MODE_LABELS[mode])
        if view.free(mode) == 0:
            label = _("%(mode)s (full: waiting list)", mode=label)
        out.append(SelectChoice(mode, label))
    return out


# --- public pages -------------------------------------------------------------------------------


@bp.get("/")
@public
def index() -> Any:
    kind = request.args.get("kind") or None
    lang = request.args.get("language") or None
    mode = request.args.get("mode") or None
    kind = kind if kind in rules.KINDS else None
    lang = lang if lang in rules.LANGUAGES else None
    mode = mode if mode in rules.MODES else None
    found = service.upcoming(
        session=get_session(), now=utcnow(), kind=kind, language=lang, mode=mode
    )
    return render_template("events/index.html", events=found, kind=kind, language=lang, mode=mode)


@bp.get("/<int:event_id>")
@public
def detail(event_id: int) -> Any:
    session, now = get_session(), utcnow()
    found = service.view(session=session, event_id=event_id)
    mine = None
    if current_user.is_authenticated:
        mine = service.registration_of_user(
            session=session, event_id=event_id, user_id=current_user.id
        )
    materials = []
    if current_user.is_authenticated and service.may_see_materials(
        session=session,
        event_id=event_id,
        user_id=current_user.id,
        is_admin=current_user.has_role("admin"),
        token=None,
        secret=_secret(),
    ):
        materials = service.materials(session=session, event_id=event_id)
    return render_template(
        "events/detail.html",
        view=found,
        event=found.event,
        open=rules.registration_open(
            deadline=found.event.registration_deadline,
            cancelled=found.event.cancelled_at is not None,
            now=now,
        ),
        mine=mine,
        mine_token=rules.personal_token(_secret(), mine.nonce) if mine else None,
        materials=materials,
    )


@bp.route("/<int:event_id>/register", methods=["GET", "POST"])
@retries_when_locked
@public
def register(event_id: int) -> Any:
    session, now = get_session(), utcnow()
    found = service.view(session=session, event_id=event_id)
    event = found.event
    if not rules.registration_open(
        deadline=event.registration_deadline, cancelled=event.cancelled_at is not None, now=now
    ):
        return render_template("events/closed.html", event=event), 409
    signed = current_user.is_authenticated
    person = service.user_person(session=session, user_id=current_user.id) if signed else None
    formdata = request.form.copy() if request.method == "POST" else None
    if person is not None and formdata is not None:  # a signed-in user registers as themselves
        formdata["name"], formdata["email"] = person.name, person.email
    form = RegisterForm(formdata=formdata)
    form.org_type.choices = _org_type_choices()
    form.mode.choices = _mode_choices(found)
    if person is not None and formdata is None:
        form.name.data, form.email.data = person.name, person.email
        form.organisation.data = person.organisation
        form.org_type.data = person.org_type or ""
    if request.method == "GET" and len(found.modes) == 1:
        form.mode.data = found.modes[0]
    answers, answer_errors = _answers(event) if request.method == "POST" else ({}, [])
    if form.validate_on_submit() and not answer_errors:
        org_type = form.org_type.data or None
        if person is not None:
            who = service.Person(
                person.name,
                person.email,
                form.organisation.data or "",
                person.org_type or org_type,
                person.user_id,
                person.unit_path,
            )
        else:
            who = service.Person(
                form.name.data or "", form.email.data or "", form.organisation.data or "", org_type
            )
        done = service.register(
            session=session,
            event_id=event_id,
            person=who,
            mode=form.mode.data or "",
            answers=answers,
            lang=current_language(),
            site=site(),
            now=now,
        )
        if person is None:
            return redirect(url_for("events.check_email", event_id=event_id))
        token = rules.personal_token(_secret(), done.registration.nonce)
        return redirect(url_for("events.registration", token=token, new=1))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "events/register.html",
        view=found,
        event=event,
        form=form,
        signed=signed,
        questions=service.questions(event=event, lang=current_language()),
        answers=request.form if request.method == "POST" else {},
        answer_errors=answer_errors,
    ), status


@bp.get("/<int:event_id>/check-your-email")
@public
def check_email(event_id: int) -> Any:
    found = service.view(session=get_session(), event_id=event_id)
    return render_template("events/check_email.html", event=found.event)


def _registration_page(token: str, status: int = 200, **extra: Any) -> Any:
    session, now = get_session(), utcnow()
    reg = service.by_token(session=session, token=token, secret=_secret())
    found = service.view(session=session, event_id=reg.event_id)
    change = ChangeForm(formdata=None, mode=reg.mode)
    change.mode.choices = [SelectChoice(m, str(MODE_LABELS[m])) for m in found.modes]
    qr = None
    if reg.status == "confirmed":
        import segno

        check = site().links(reg).check_in
        qr = segno.make(check, error="m").svg_data_uri(scale=4, border=2)
    evaluation = service.evaluation_of(session=session, registration_id=reg.id or 0)
    context = {
        "reg": reg,
        "view": found,
        "event": found.event,
        "token": token,
        "change": change,
        "confirm": ConfirmForm(),
        "evaluation": extra.pop("evaluation_form", None)
        or EventEvaluationForm(
            formdata=None,
            rating=str(evaluation.rating) if evaluation else None,
            useful=evaluation.useful if evaluation else "",
            improve=evaluation.improve if evaluation else "",
        ),
        "evaluated": evaluation is not None,
        "qr": qr,
        "materials": service.materials(session=session, event_id=reg.event_id)
        if reg.status == "confirmed"
        else [],
        "started": now >= found.event.starts_at,
        "questions": service.questions(event=found.event, lang=current_language()),
        "new": request.args.get("new") == "1",
        **extra,
    }
    response = current_app.make_response(
        (render_template("events/registration.html", **context), status)
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response


@bp.get("/registration/<token>")
@public
def registration(token: str) -> Any:
    return _registration_page(token)


@bp.route("/registration/<token>/confirm", methods=["GET", "POST"])
@retries_when_locked
@public
def confirm(token: str) -> Any:
    """The link in the guest's e-mail: a page with a button (a mail scanner's GET changes
    nothing), whose post confirms the address and takes the held place."""
    session = get_session()
    reg = service.by_token(session=session, token=token, secret=_secret())
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        service.confirm_guest(session=session, token=token, site=site(), now=utcnow())
        flash(_("Your e-mail address is confirmed."), "success")
        return redirect(url_for("events.registration", token=token, new=1))
    if reg.confirmed_at is not None:
        return redirect(url_for("events.registration", token=token))
    found = service.view(session=session, event_id=reg.event_id)
    response = current_app.make_response(
        render_template("events/confirm.html", reg=reg, event=found.event, form=form, token=token)
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/registration/<token>/change")
@public
def change(token: str) -> Any:
    session = get_session()
    reg = service.by_token(session=session, token=token, secret=_secret())
    form = ChangeForm()
    found = service.view(session=session, event_id=reg.event_id)
    form.mode.choices = [SelectChoice(m, str(MODE_LABELS[m])) for m in found.modes]
    answers, errors = _answers(found.event)
    if not form.validate_on_submit() or errors:
        for message in errors:
            flash(message, "error")
        return _registration_page(token, 422)
    service.change(
        session=session,
        token=token,
        mode=form.mode.data or "",
        answers=answers,
        site=site(),
        now=utcnow(),
    )
    flash(_("Your registration is changed."), "success")
    return redirect(url_for("events.registration", token=token))


@bp.post("/registration/<token>/cancel")
@public
def cancel(token: str) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.cancel_registration(session=get_session(), token=token, site=site(), now=utcnow())
    flash(_("Your registration is cancelled. Thank you for letting us know."), "success")
    return redirect(url_for("events.registration", token=token))


@bp.post("/registration/<token>/evaluation")
@public
def evaluate(token: str) -> Any:
    form = EventEvaluationForm()
    if not form.validate_on_submit():
        return _registration_page(token, 422, evaluation_form=form)
    service.evaluate(
        session=get_session(),
        token=token,
        rating=int(form.rating.data or 0),
        useful=form.useful.data or "",
        improve=form.improve.data or "",
        secret=_secret(),
        now=utcnow(),
    )
    flash(_("Thank you for your evaluation."), "success")
    return redirect(url_for("events.registration", token=token))


@bp.get("/registration/<token>/invitation.ics")
@public
def calendar(token: str) -> Any:
    from elearn.services.event_mail import calendar_file

    session = get_session()
    reg = service.by_token(session=session, token=token, secret=_secret())
    if reg.status != "confirmed":
        abort(404)
    found = service.view(session=session, event_id=reg.event_id)
    body = calendar_file(
        event=found.event, sessions=found.sessions, reg=reg, links=site().links(reg), now=utcnow()
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": 'attachment; filename="invitation.ics"',
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


def _send_file(event_id: int, material_id: int) -> Any:
    session = get_session()
    item = service.material(session=session, event_id=event_id, material_id=material_id)
    row, data = files.read(
        session=session, instance_path=current_app.instance_path, file_id=item.file_id
    )
    return Response(data, headers=files.headers(row=row))


@bp.get("/registration/<token>/materials/<int:material_id>")
@public
def material_by_link(token: str, material_id: int) -> Any:
    session = get_session()
    reg = service.by_token(session=session, token=token, secret=_secret())
    if reg.status != "confirmed":
        abort(404)
    return _send_file(reg.event_id, material_id)


@bp.get("/<int:event_id>/materials/<int:material_id>")
@signed_in
def material(event_id: int, material_id: int) -> Any:
    if not service.may_see_materials(
        session=get_session(),
        event_id=event_id,
        user_id=current_user.id,
        is_admin=current_user.has_role("admin"),
        token=None,
        secret=_secret(),
    ):
        abort(404)
    return _send_file(event_id, material_id)


# --- the organiser's pages ----------------------------------------------------------------------


def _mine(event_id: int) -> Any:
    return service.check_organiser(
        session=get_session(),
        event_id=event_id,
        user_id=current_user.id,
        is_admin=current_user.has_role("admin"),
    )


@organise.get("/")
@organiser
def list_events() -> Any:
    found = service.organised_by(
        session=get_session(), user_id=current_user.id, is_admin=current_user.has_role("admin")
    )
    return render_template("events/organise/index.html", events=found, now=utcnow())


def _local(value: datetime | None, tz: str) -> datetime:
    assert value is not None
    return value.replace(tzinfo=ZoneInfo(tz))


@organise.route("/new", methods=["GET", "POST"])
@organiser
def new() -> Any:
    session, now = get_session(), utcnow()
    form = EventForm()
    problem = None
    form.audience_units.choices = [
        SelectChoice(str(uid), path) for uid, path in reports.unit_paths(session=session)
    ]
    if form.validate_on_submit():
        try:
            draft, organiser_ids = _draft(form)
            event = service.create_event(
                session=session,
                draft=draft,
                organiser_ids=organiser_ids,
                created_by=current_user.id,
                now=now,
            )
        except InvalidAnswer as refused:  # the form comes back as it was, with the reason
            rollback_request()
            problem = _(refused.message)
        else:
            flash(_("The event is published."), "success")
            return redirect(url_for("organise.detail", event_id=event.id))
    status = 422 if request.method == "POST" else 200
    return render_template("events/organise/new.html", form=form, problem=problem), status


def _draft(form: EventForm) -> tuple[service.Draft, list[int]]:
    """The event the form describes, and its other organisers (checked by the service)."""
    tz = form.tz.data or "Europe/Oslo"
    sessions = []
    for n in (1, 2, 3):
        start, end = form[f"start{n}"].data, form[f"end{n}"].data
        if start is None and end is None:
            continue
        if start is None or end is None:
            raise InvalidAnswer(N_("Give both the start and the end of each session."))
        sessions.append(rules.SessionTime(start, end, tz))
    emails = [e.strip().lower() for e in (form.organisers.data or "").splitlines() if e.strip()]
    organiser_ids = service.organiser_ids(session=get_session(), emails=emails)
    draft = service.Draft(
        kind=form.kind.data or "",
        language=form.language.data or "",
        title={
            "nb": form.title_nb.data or "",
            "da": form.title_da.data or "",
            "en": form.title_en.data or "",
        },
        description={
            "nb": form.description_nb.data or "",
            "da": form.description_da.data or "",
            "en": form.description_en.data or "",
        },
        sessions=sessions,
        deadline=_local(form.deadline.data, tz),
        place=form.place.data or "",
        online_url=form.online_url.data or "",
        capacity_in_person=form.capacity_in_person.data or 0,
        capacity_online=form.capacity_online.data or 0,
        audience_types=list(form.audience_types.data or []),
        audience_units=[int(u) for u in form.audience_units.data or [] if u.isdigit()],
        questions=(form.questions.data or "").splitlines(),
        contact_name=form.contact_name.data or "",
        contact_email=form.contact_email.data or "",
    )
    return draft, organiser_ids


@organise.get("/<int:event_id>", endpoint="detail")
@organiser
def organiser_detail(event_id: int) -> Any:
    session = get_session()
    _mine(event_id)
    found = service.view(session=session, event_id=event_id)
    return render_template(
        "events/organise/detail.html",
        view=found,
        event=found.event,
        rows=service.participants(session=session, event_id=event_id),
        questions=service.questions(event=found.event, lang=current_language()),
        summary=service.summary(session=session, event_id=event_id),
        materials=service.materials(session=session, event_id=event_id),
        material_form=MaterialForm(),
        confirm=ConfirmForm(),
        now=utcnow(),
        query=(request.args.get("q") or "").strip().lower()[:100],
    )


@organise.get("/<int:event_id>/participants.csv")
@organiser
def participants_csv(event_id: int) -> Any:
    event = _mine(event_id)
    header, rows = service.participants_table(
        event=event, rows=service.participants(session=get_session(), event_id=event_id)
    )
    body = reports.to_csv(header=header, rows=rows)
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="event-{event_id}.csv"'},
    )


@organise.post("/<int:event_id>/check-in")
@organiser
def check_in(event_id: int) -> Any:
    _mine(event_id)
    form = CheckInForm()
    if not form.validate_on_submit():
        abort(400)
    reg = service.check_in(
        session=get_session(),
        event_id=event_id,
        registration_id=form.registration.data or 0,
        now=utcnow(),
        undo=form.undo.data == "1",
    )
    if form.undo.data == "1":
        flash(_("%(name)s is no longer checked in.", name=reg.name), "success")
    else:
        flash(_("%(name)s is checked in.", name=reg.name), "success")
    return redirect(url_for("organise.detail", event_id=event_id))


@organise.get("/<int:event_id>/check-in/<token>")
@organiser
def check_in_code(event_id: int, token: str) -> Any:
    """Where the QR code on a confirmation leads the organiser's phone: who it is, and a button."""
    event = _mine(event_id)
    reg = service.by_check_in_token(
        session=get_session(), event_id=event_id, token=token, secret=_secret()
    )
    return render_template(
        "events/organise/check_in.html", event=event, reg=reg, form=CheckInForm()
    )


@organise.post("/<int:event_id>/materials")
@organiser
def upload(event_id: int) -> Any:
    _mine(event_id)
    form = MaterialForm()
    if not form.validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a file to upload."), "error")
        return redirect(url_for("organise.detail", event_id=event_id))
    service.add_material(
        session=get_session(),
        event_id=event_id,
        title=form.title.data or "",
        upload=files.Upload(upload.filename, upload.read()),
        instance_path=current_app.instance_path,
        max_bytes=int(current_app.config["EVENT_MATERIAL_MAX_BYTES"]),
        actor_id=current_user.id,
        now=utcnow(),
    )
    flash(_("The file is uploaded; participants can open it now."), "success")
    return redirect(url_for("organise.detail", event_id=event_id))


@organise.get("/<int:event_id>/materials/<int:material_id>")
@organiser
def organiser_material(event_id: int, material_id: int) -> Any:
    _mine(event_id)
    return _send_file(event_id, material_id)


@organise.post("/<int:event_id>/cancel")
@organiser
def cancel_event(event_id: int) -> Any:
    _mine(event_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    told = service.cancel_event(session=get_session(), event_id=event_id, site=site(), now=utcnow())
    flash(_("The event is cancelled; %(n)s people are told by e-mail.", n=told), "success")
    return redirect(url_for("organise.detail", event_id=event_id))


@organise.route("/organisation-types", methods=["GET", "POST"])
@organiser
def org_types() -> Any:
    session = get_session()
    form = OrgTypeForm()
    form.org_type.choices = _org_type_choices()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        service.set_org_type(
            session=session, unit_id=form.unit.data or 0, org_type=form.org_type.data or None
        )
        flash(_("The organisation type is saved."), "success")
        return redirect(url_for("organise.org_types"))
    return render_template(
        "events/organise/org_types.html",
        units=service.organisation_types(session=session),
        form=form,
    )
