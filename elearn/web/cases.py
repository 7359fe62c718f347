"""The case bank: public pages and exports, participants' own cases, the editors' review."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    FileField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from elearn.auth import public, roles_required, signed_in
from elearn.clock import utcnow
from elearn.db import get_session
from elearn.domain import cases as rules
from elearn.domain.errors import DomainError
from elearn.i18n import LANGUAGE_NAMES
from elearn.services import cases, reports
from elearn.web.forms import NAME_MAX, TEXT_MAX, MultiCheckboxField, PlainText, SmallIntegerField

bp = Blueprint("cases", __name__)
DIGITS = re.compile(r"[0-9]{1,6}")  # ASCII digits only: str.isdigit() takes "²", int() does not
editor = roles_required("editor")

CATEGORY_LABELS = {
    "food-and-meals": _l("Food and meals"),
    "transport": _l("Transport and vehicles"),
    "construction": _l("Construction and property"),
    "ict": _l("ICT equipment and services"),
    "furniture-and-textiles": _l("Furniture and textiles"),
    "cleaning-and-hygiene": _l("Cleaning and hygiene"),
    "medical-equipment": _l("Medical equipment and consumables"),
    "energy": _l("Energy"),
    "waste": _l("Waste collection and treatment"),
    "office-supplies": _l("Office supplies and paper"),
    "other-services": _l("Other services"),
}
COUNTRY_LABELS = {
    "NO": _l("Norway"),
    "DK": _l("Denmark"),
    "SE": _l("Sweden"),
    "FI": _l("Finland"),
    "IS": _l("Iceland"),
    "EU": _l("Other EU/EEA country"),
}
STATE_LABELS = {
    "": _l("(new)"),
    rules.DRAFT: _l("Draft"),
    rules.SUBMITTED: _l("Submitted for review"),
    rules.CHANGES_REQUESTED: _l("Changes requested"),
    rules.PUBLISHED: _l("Published"),
    rules.ARCHIVED: _l("Archived"),
}
FIELD_LABELS = {
    "summary": _l("Summary"),
    "purchase": _l("What was bought, and how"),
    "criteria": _l("Criteria and requirements used"),
    "lcc_tco": _l("Life-cycle cost or TCO used"),
    "co2e": _l("CO₂e reduced"),
    "co2e_basis": _l("Basis for the CO₂e figure"),
    "life_cycle_cost": _l("Cost over the life cycle"),
    "life_cycle_cost_basis": _l("Basis for the cost figure"),
    "other_results": _l("Other results"),
    "other_results_basis": _l("Basis for the other results"),
    "lessons": _l("Lessons learned"),
}
EFFECTS = (
    ("co2e", "co2e_basis"),
    ("life_cycle_cost", "life_cycle_cost_basis"),
    ("other_results", "other_results_basis"),
)


def _multiline(label: Any, description: Any = None) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[PlainText(multiline=True), Optional(), Length(max=TEXT_MAX)],
        description=description,
    )


def _line(label: Any, max_length: int = NAME_MAX, description: Any = None) -> StringField:
    return StringField(
        label,
        validators=[PlainText(), Optional(), Length(max=max_length)],
        description=description,
    )


class CaseForm(FlaskForm):
    lang = SelectField(_l("Language of this text"), validators=[InputRequired()], choices=[])
    title = StringField(
        _l("Title"), validators=[InputRequired(), PlainText(), Length(max=NAME_MAX)]
    )
    organisation = StringField(
        _l("Organisation"), validators=[InputRequired(), PlainText(), Length(max=NAME_MAX)]
    )
    country = SelectField(_l("Country"), validators=[InputRequired()], choices=[])
    year = SmallIntegerField(
        _l("Year"),
        validators=[InputRequired(), NumberRange(min=rules.YEAR_MIN, max=rules.YEAR_MAX)],
    )
    category = SelectField(
        _l("Category (product or service group)"), validators=[InputRequired()], choices=[]
    )
    sdgs = MultiCheckboxField(_l("Sustainable development goals the case serves"), choices=[])
    tags = _line(
        _l("Topics (tags)"), 300, _l("Words with dashes, separated by commas, e.g. lcc-tco.")
    )
    programme = _line(_l("Programme (optional)"))
    event = _line(_l("Event (optional)"))
    contact = _line(_l("Contact"), 300)
    summary = _multiline(FIELD_LABELS["summary"])
    purchase = _multiline(FIELD_LABELS["purchase"])
    criteria = _multiline(FIELD_LABELS["criteria"])
    lcc_tco = _multiline(FIELD_LABELS["lcc_tco"])
    co2e = _multiline(FIELD_LABELS["co2e"])
    co2e_basis = _multiline(
        FIELD_LABELS["co2e_basis"], _l("How the figure was found: measured, estimated, by whom.")
    )
    life_cycle_cost = _multiline(FIELD_LABELS["life_cycle_cost"])
    life_cycle_cost_basis = _multiline(FIELD_LABELS["life_cycle_cost_basis"])
    other_results = _multiline(FIELD_LABELS["other_results"])
    other_results_basis = _multiline(FIELD_LABELS["other_results_basis"])
    lessons = _multiline(FIELD_LABELS["lessons"])
    submit = SubmitField(_l("Save draft"))

    def fill_choices(self) -> None:
        self.lang.choices = [(code, LANGUAGE_NAMES[code]) for code in rules.LANGUAGES]
        self.country.choices = [(code, str(label)) for code, label in COUNTRY_LABELS.items()]
        self.category.choices = [(code, str(label)) for code, label in CATEGORY_LABELS.items()]
        self.sdgs.choices = [(str(goal), _("Goal %(n)s", n=goal)) for goal in rules.SDGS]

    def validate_tags(self, field: StringField) -> None:
        try:
            rules.parse_tags(field.data or "")
        except ValueError as exc:
            from wtforms.validators import ValidationError

            raise ValidationError(
                _("“%(tag)s” is not a tag: use lower-case letters, digits and dashes.", tag=exc)
            ) from None

    def data_for(self) -> cases.CaseInput:
        return cases.CaseInput(
            organisation=self.organisation.data or "",
            country=self.country.data or "",
            year=int(self.year.data or 0),
            category=self.category.data or "",
            lang=self.lang.data or "",
            title=self.title.data or "",
            sdgs=[int(goal) for goal in self.sdgs.data or []],
            tags=rules.parse_tags(self.tags.data or ""),
            programme=self.programme.data or "",
            event=self.event.data or "",
            contact=self.contact.data or "",
            texts={name: getattr(self, name).data or "" for name in cases.TEXT_FIELDS},
        )


class AttachmentForm(FlaskForm):
    file = FileField(_l("PDF or image"))
    submit = SubmitField(_l("Attach"))


class StepForm(FlaskForm):
    action = HiddenField()
    comment = TextAreaField(
        _l("Comment to the writer"),
        validators=[PlainText(multiline=True), Optional(), Length(max=TEXT_MAX)],
    )


class PlainForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


def _viewer() -> tuple[int | None, bool]:
    if current_user.is_authenticated:
        return current_user.id, current_user.has_role("editor")
    return None, False


def _language() -> str:
    from elearn.i18n import current_language

    return str(current_language())


def _filters() -> tuple[cases.Filters, int]:
    """The search and filters from the address; an unknown value is no filter (never an error)."""
    args = request.args
    sdg = args.get("sdg", "")
    lang = args.get("lang", "")
    filters = cases.Filters(
        q=args.get("q", "")[:200],
        category=args.get("category", "") if args.get("category") in rules.CATEGORIES else "",
        country=args.get("country", "") if args.get("country") in rules.COUNTRIES else "",
        sdg=int(sdg) if DIGITS.fullmatch(sdg) and int(sdg) in rules.SDGS else None,
        programme=args.get("programme", "")[:200],
        lang=lang if lang in rules.LANGUAGES else "",
        tag=args.get("tag", "")[:60],
    )
    page = args.get("page", "1")
    return filters, int(page) if DIGITS.fullmatch(page) else 1


def _public_url() -> str:
    return str(current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/"))


def _limit() -> int:
    return int(current_app.config["CASE_ATTACHMENT_MAX_BYTES"])


# --- public --------------------------------------------------------------------------------------


@bp.get("/cases")
@public
def index() -> Any:
    session = get_session()
    filters, number = _filters()
    found = cases.search(session=session, filters=filters, number=number)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "cases/index.html",
        found=found,
        filters=filters,
        args=args,
        programmes=cases.programmes(session=session),
        categories=CATEGORY_LABELS,
        countries=COUNTRY_LABELS,
        languages={code: LANGUAGE_NAMES[code] for code in rules.LANGUAGES},
        lang=_language(),
        canonical=_public_url() + url_for("cases.index"),
    )


@bp.get("/cases/<int:case_id>")
@public
def detail(case_id: int) -> Any:
    viewer_id, is_editor = _viewer()
    view = cases.load_case(
        session=get_session(), case_id=case_id, viewer_id=viewer_id, is_editor=is_editor
    )
    wanted = request.args.get("lang", "")
    lang = wanted if wanted in view.texts else _language()
    text = view.text(lang)
    is_owner = viewer_id == view.case.owner_id
    return render_template(
        "cases/detail.html",
        view=view,
        text=text,
        is_owner=is_owner,
        is_editor=is_editor,
        step_form=StepForm(),
        plain_form=PlainForm(),
        attachment_form=AttachmentForm(),
        categories=CATEGORY_LABELS,
        countries=COUNTRY_LABELS,
        states=STATE_LABELS,
        labels=FIELD_LABELS,
        effects=EFFECTS,
        languages=LANGUAGE_NAMES,
        limit_mb=_limit() // (1024 * 1024),
        canonical=_public_url() + url_for("cases.detail", case_id=case_id),
    )


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@public
def attachment(case_id: int, attachment_id: int) -> Any:
    """The file as a download, never run as a page: its type from its bytes, nosniff, and a
    policy that lets it load nothing and run nothing even if a browser showed it."""
    viewer_id, is_editor = _viewer()
    row, path = cases.attachment_file(
        session=get_session(),
        case_id=case_id,
        attachment_id=attachment_id,
        viewer_id=viewer_id,
        is_editor=is_editor,
        instance_path=current_app.instance_path,
    )
    response = send_file(path, mimetype=rules.ATTACHMENT_KINDS[row.kind][0], max_age=0)
    ascii_name = row.name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(row.name)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.get("/cases/export.json")
@public
def export_json() -> Any:
    filters, _page = _filters()
    data = cases.export(session=get_session(), filters=filters, base_url=_public_url())
    return Response(
        json.dumps({"cases": data}, ensure_ascii=False, indent=1),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="cases.json"'},
    )


@bp.get("/cases/export.csv")
@public
def export_csv() -> Any:
    filters, _page = _filters()
    data = cases.export(session=get_session(), filters=filters, base_url=_public_url())
    return Response(
        reports.to_csv(header=cases.EXPORT_HEADER, rows=cases.export_rows(cases=data)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="cases.csv"'},
    )


# --- participants' own cases ---------------------------------------------------------------------


@bp.get("/cases/mine")
@signed_in
def mine() -> Any:
    return render_template(
        "cases/mine.html",
        rows=cases.mine(session=get_session(), owner_id=current_user.id),
        states=STATE_LABELS,
        lang=_language(),
    )


def _form_page(form: CaseForm, case_id: int | None, status: int = 200) -> Any:
    return (
        render_template(
            "cases/edit.html", form=form, case_id=case_id, text_fields=cases.TEXT_FIELDS
        ),
        status,
    )


@bp.route("/cases/new", methods=["GET", "POST"])
@signed_in
def new() -> Any:
    form = CaseForm()
    form.fill_choices()
    if request.method == "GET":
        form.lang.data = _language() if _language() in rules.LANGUAGES else "nb"
        form.year.data = utcnow().year  # type: ignore[assignment]
    if form.validate_on_submit():
        case = cases.create_case(
            session=get_session(), owner_id=current_user.id, data=form.data_for(), now=utcnow()
        )
        flash(_("Your draft is saved. Add attachments or submit it for review."), "success")
        return redirect(url_for("cases.detail", case_id=case.id))
    return _form_page(form, None, 400 if request.method == "POST" else 200)


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@signed_in
def edit(case_id: int) -> Any:
    session = get_session()
    view = cases.load_case(
        session=session, case_id=case_id, viewer_id=current_user.id, is_editor=False
    )
    if view.case.owner_id != current_user.id:
        abort(404)
    form = CaseForm()
    form.fill_choices()
    if request.method == "GET":
        wanted = request.args.get("lang", "")
        lang = wanted if wanted in rules.LANGUAGES else next(iter(view.texts), "nb")
        case = view.case
        form.lang.data = lang
        form.organisation.data = case.organisation
        form.country.data = case.country
        form.year.data = case.year  # type: ignore[assignment]
        form.category.data = case.category
        form.sdgs.data = [str(goal) for goal in view.sdgs]
        form.tags.data = ", ".join(case.tags)
        form.programme.data = case.programme
        form.event.data = case.event
        form.contact.data = case.contact
        if lang in view.texts:
            text = view.texts[lang]
            form.title.data = text.title
            for name in cases.TEXT_FIELDS:
                getattr(form, name).data = getattr(text, name)
    if form.validate_on_submit():
        cases.update_case(
            session=session,
            case_id=case_id,
            actor_id=current_user.id,
            data=form.data_for(),
            now=utcnow(),
        )
        flash(_("Your changes are saved."), "success")
        return redirect(url_for("cases.detail", case_id=case_id, lang=form.lang.data))
    return _form_page(form, case_id, 400 if request.method == "POST" else 200)


@bp.post("/cases/<int:case_id>/attachments")
@signed_in
def upload(case_id: int) -> Any:
    form = AttachmentForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        return _refused(case_id, _("Choose a file to attach."))
    data = upload.read(_limit() + 1)
    try:
        cases.add_attachment(
            session=get_session(),
            case_id=case_id,
            actor_id=current_user.id,
            filename=upload.filename,
            data=data,
            limit=_limit(),
            instance_path=current_app.instance_path,
            now=utcnow(),
        )
    except rules.AttachmentRefused as refused:
        return _refused(case_id, _(refused.message, mb=_limit() // (1024 * 1024)))
    flash(_("The file is attached."), "success")
    return redirect(url_for("cases.detail", case_id=case_id))


def _refused(case_id: int, message: str) -> Any:
    """The case page again with why nothing was kept (400)."""
    from elearn.db import rollback_request

    rollback_request()
    flash(message, "error")
    viewer_id, is_editor = _viewer()
    view = cases.load_case(
        session=get_session(), case_id=case_id, viewer_id=viewer_id, is_editor=is_editor
    )
    return (
        render_template(
            "cases/detail.html",
            view=view,
            text=view.text(_language()),
            is_owner=view.case.owner_id == viewer_id,
            is_editor=is_editor,
            step_form=StepForm(),
            plain_form=PlainForm(),
            attachment_form=AttachmentForm(),
            categories=CATEGORY_LABELS,
            countries=COUNTRY_LABELS,
            states=STATE_LABELS,
            labels=FIELD_LABELS,
            effects=EFFECTS,
            languages=LANGUAGE_NAMES,
            limit_mb=_limit() // (1024 * 1024),
            canonical=_public_url() + url_for("cases.detail", case_id=case_id),
        ),
        400,
    )


@bp.post("/cases/<int:case_id>/attachments/<int:attachment_id>/delete")
@signed_in
def remove_upload(case_id: int, attachment_id: int) -> Any:
    if not PlainForm().validate_on_submit():
        abort(400)
    cases.remove_attachment(
        session=get_session(),
        case_id=case_id,
        attachment_id=attachment_id,
        actor_id=current_user.id,
        instance_path=current_app.instance_path,
    )
    flash(_("The attachment is removed."), "success")
    return redirect(url_for("cases.detail", case_id=case_id))


@bp.post("/cases/<int:case_id>/submit")
@signed_in
def submit(case_id: int) -> Any:
    if not PlainForm().validate_on_submit():
        abort(400)
    cases.take_step(
        session=get_session(),
        case_id=case_id,
        actor_id=current_user.id,
        is_editor=False,
        action="submit",
        comment="",
        now=utcnow(),
    )
    flash(_("Your case is submitted. An editor will review it."), "success")
    return redirect(url_for("cases.detail", case_id=case_id))


# --- editors -------------------------------------------------------------------------------------


@bp.get("/cases/review")
@editor
def review_queue() -> Any:
    session = get_session()
    return render_template(
        "cases/review.html",
        waiting=cases.waiting_for_review(session=session),
        recent=cases.recently_reviewed(session=session),
        states=STATE_LABELS,
        lang=_language(),
    )


STEP_DONE = {
    "request_changes": _l("The writer is asked for changes."),
    "publish": _l("The case is published."),
    "archive": _l("The case is archived."),
}


@bp.post("/cases/<int:case_id>/review")
@editor
def review(case_id: int) -> Any:
    form = StepForm()
    if not form.validate_on_submit():
        errors = [e for name, errs in form.errors.items() if name != "csrf_token" for e in errs]
        if errors:
            return _refused(case_id, " ".join(errors))
        abort(400)
    action = form.action.data or ""
    if action not in STEP_DONE:
        raise DomainError("That is not a step a case can take.")
    cases.take_step(
        session=get_session(),
        case_id=case_id,
        actor_id=current_user.id,
        is_editor=True,
        action=action,
        comment=form.comment.data or "",
        now=utcnow(),
    )
    flash(str(STEP_DONE[action]), "success")
    return redirect(url_for("cases.review_queue"))
