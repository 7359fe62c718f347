"""The certifier's desk: sign-off of passes, certificates and revocation, extra time."""

from __future__ import annotations

from typing import Any, cast

from flask import (
    Blueprint,
    Response,
    abort,
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
from wtforms import EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from elearn.auth import roles_required
from elearn.clock import utcnow
from elearn.db import get_session
from elearn.domain import duties
from elearn.domain.audit import PERSON
from elearn.i18n import current_language
from elearn.services import accounts, audit, certificates, exams, reports, standard_setting
from elearn.services import exposure as exposure_report
from elearn.services import review as reviewing
from elearn.web import authority
from elearn.web.forms import PlainText, SmallIntegerField
from elearn.web.images import image_list, send_image

bp = Blueprint("certify", __name__, url_prefix="/certify")
certifier = roles_required("certifier", "admin")
PAGE_SIZE = 50


@bp.context_processor
def _duties() -> dict[str, Any]:
    """Lists show one's own attempts and certificates, but without the links and buttons that
    act on them (decision 0013)."""

    def may_act_on(user_id: int) -> bool:
        return duties.may_act_on(actor_id=current_user.id, subject_user_id=user_id)

    return {"may_act_on": may_act_on}


class ExtraTimeForm(FlaskForm):
    email = EmailField(_l("Learner's e-mail"), validators=[InputRequired(), Length(max=254)])
    exam = SelectField(_l("Exam"), choices=[], validators=[InputRequired()])
    minutes = SmallIntegerField(
        _l("Extra minutes"), default=0, validators=[Optional(), NumberRange(min=0, max=1440)]
    )
    percent = SmallIntegerField(
        _l("Extra time in percent of the time limit"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=400)],
    )
    reason = StringField(
        _l("Reason (kept with the grant)"), validators=[PlainText(), Optional(), Length(max=500)]
    )
    submit = SubmitField(_l("Grant extra time"))


@bp.route("/extra-time", methods=["GET", "POST"])
@certifier
def extra_time() -> Any:
    session = get_session()
    form = ExtraTimeForm()
    form.exam.choices = [
        SelectChoice(v.exam.id, v.exam.id) for v in exams.active_exams(session=session)
    ]
    if form.validate_on_submit():
        learner = accounts.find_user(session=session, email=form.email.data or "")
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
            flash(_("Extra time is granted."), "success")
            return redirect(url_for("certify.extra_time"))
    grants = exams.extra_time_grants(session=session)
    return render_template("certify/extra_time.html", form=form, grants=grants)


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for revoking"),
        validators=[InputRequired(), PlainText(multiline=True), Length(max=500)],
    )
    submit = SubmitField(_l("Revoke the certificate"))


class ReviewForm(FlaskForm):
    comment = TextAreaField(
        _l("Comment"), validators=[PlainText(multiline=True), Optional(), Length(max=2000)]
    )


@bp.get("/")
@certifier
def index() -> Any:
    return redirect(url_for("certify.reviews"))


@bp.get("/reviews")
@certifier
def reviews() -> Any:
    """Passed attempts waiting for a certifier's sign-off, oldest first."""
    waiting = certificates.waiting_for_sign_off(session=get_session())
    return render_template("certify/reviews.html", waiting=waiting, form=ReviewForm())


@bp.post("/reviews/<int:attempt_id>")
@certifier
def review(attempt_id: int) -> Any:
    form = ReviewForm()
    decision = request.form.get("decision")
    if not form.validate_on_submit() or decision not in ("approve", "reject"):
        abort(400)
    certificate = certificates.sign_off(
        session=get_session(),
        authority=authority(),
        attempt_id=attempt_id,
        approve=decision == "approve",
        comment=form.comment.data or "",
        reviewer_id=current_user.id,
        now=utcnow(),
    )
    if certificate is not None:
        flash(_("Approved: certificate %(code)s is issued.", code=certificate.code), "success")
    else:
        flash(_("Rejected: no certificate is issued."), "info")
    return redirect(url_for("certify.reviews"))


@bp.get("/certificates")
@certifier
def certificate_list() -> Any:
    query = request.args.get("q", "").strip()
    page = certificates.search(
        session=get_session(),
        query=query,
        number=request.args.get("page", 1, type=int) or 1,
        size=PAGE_SIZE,
    )
    return render_template("certify/certificates.html", page=page, query=query, now=utcnow())


@bp.route("/certificates/<code>", methods=["GET", "POST"])
@certifier
def certificate_detail(code: str) -> Any:
    session = get_session()
    certificate = certificates.find(session=session, code=code)
    if certificate is None:
        abort(404)
    duties.require(
        actor_id=current_user.id,
        subject_user_id=certificate.user_id,
        action=duties.CERTIFICATE_REVOKE if request.method == "POST" else duties.CERTIFICATE_VIEW,
        subject=f"certificate:{certificate.code}",
        exam=certificate.exam_id,
    )
    form = RevokeForm()
    if form.validate_on_submit():
        certificates.revoke(
            session=session,
            code=certificate.code,
            reason=form.reason.data or "",
            revoker_id=current_user.id,
            now=utcnow(),
        )
        flash(_("The certificate is revoked. Verifiers see it at once."), "success")
        return redirect(url_for("certify.certificate_detail", code=certificate.code))
    result = certificates.verify(certificate=certificate, authority=authority(), now=utcnow())
    holder = accounts.user_by_id(session=session, user_id=certificate.user_id)
    return render_template(
        "certify/certificate.html", c=certificate, result=result, form=form, holder=holder
    )


@bp.get("/attempts")
@certifier
def attempts() -> Any:
    query = request.args.get("q", "").strip()
    page = reviewing.search_attempts(
        session=get_session(),
        query=query,
        number=request.args.get("page", 1, type=int) or 1,
        size=PAGE_SIZE,
    )
    return render_template("certify/attempts.html", page=page, query=query)


@bp.get("/attempts/<int:attempt_id>")
@certifier
def attempt_detail(attempt_id: int) -> Any:
    served = reviewing.served_attempt(
        session=get_session(), attempt_id=attempt_id, viewer_id=current_user.id
    )
    images = {}
    for it in served.items:
        if it.spec is not None and it.spec.images:

            def url(index: int, number: int = it.slot.number) -> str:
                return url_for(
                    "certify.attempt_image", attempt_id=attempt_id, number=number, index=index
                )

            images[it.slot.number] = image_list(it.spec, served.attempt.language, url)
    return render_template("certify/attempt.html", r=served, images_of=images)


@bp.get("/attempts/<int:attempt_id>/<int:number>/images/<int:index>")
@certifier
def attempt_image(attempt_id: int, number: int, index: int) -> Any:
    """An image of a question of an attempt, to whom the attempt's page is shown."""
    bank_id, spec = reviewing.served_item(
        session=get_session(), attempt_id=attempt_id, number=number, viewer_id=current_user.id
    )
    return send_image(bank_id, spec, index)


@bp.get("/statistics")
@certifier
def statistics_index() -> Any:
    views = exams.active_exams(session=get_session())
    return render_template("certify/statistics_index.html", views=views, lang=current_language())


@bp.get("/exams/<exam_id>/exposure")
@certifier
def exposure(exam_id: str) -> Any:
    """Learners who have seen a whole topic of the exam's pool, and how often each item went out."""
    report = exposure_report.exam_exposure(session=get_session(), exam_id=exam_id)
    return render_template("certify/exposure.html", report=report)


@bp.get("/exams/<exam_id>/statistics")
@certifier
def statistics(exam_id: str) -> Any:
    session = get_session()
    which = request.args.get("attempts", "first")
    if which not in ("first", "last", "all"):
        abort(400)
    items, test, n = reviewing.exam_statistics(
        session=session,
        exam_id=exam_id,
        which=cast(reviewing.Which, which),
        lang=current_language(),
    )
    if request.args.get("format") == "csv":
        return _statistics_csv(f"statistics-{exam_id}-{which}", items)
    scores = reviewing.attempt_scores(
        session=session, exam_id=exam_id, which=cast(reviewing.Which, which)
    )
    plotted = [
        (it.item_key, it.stats.facility, it.stats.discrimination_index, bool(it.stats.flags))
        for it in items
        if it.stats.facility is not None and it.stats.discrimination_index is not None
    ]
    return render_template(
        "certify/statistics.html",
        exam_id=exam_id,
        items=items,
        test=test,
        n=n,
        which=which,
        form=RetireForm(),
        exams=[v.exam.id for v in exams.active_exams(session=session)],
        histogram=reports.histogram(scores=scores),
        scatter=reports.scatter(items=plotted),
        standard=standard_setting.exam_standard(session=session, exam_id=exam_id),
    )


STATISTICS_CSV_HEADER = [
    "item",
    "topic",
    "n",
    "max_mark",
    "intended_weight",
    "random_guess_score",
    "facility",
    "sd",
    "discrimination_index",
    "discriminative_efficiency",
    "effective_weight",
    "flags",
    "retired",
]


def _statistics_csv(name: str, items: list[reviewing.ItemReport]) -> Response:
    """The item table: fractions (facility, SD, random guess) 0..1, the rest in percent."""

    def fixed(value: float | None, decimals: int) -> str:
        return "" if value is None else f"{value:.{decimals}f}"

    rows = [
        [
            it.item_key,
            it.topic,
            it.stats.n,
            "" if it.stats.max_mark is None else f"{it.stats.max_mark:g}",
            fixed(it.stats.intended_weight, 2),
            fixed(it.random_guess, 4),
            fixed(it.stats.facility, 4),
            fixed(it.stats.sd, 4),
            fixed(it.stats.discrimination_index, 2),
            fixed(it.stats.discriminative_efficiency, 2),
            fixed(it.stats.effective_weight, 2),
            "; ".join(it.stats.flags),
            "yes" if it.retired else "",
        ]
        for it in items
    ]
    return Response(
        reports.to_csv(header=STATISTICS_CSV_HEADER, rows=rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


class RetireForm(FlaskForm):
    reason = StringField(
        _l("Why retire it"), validators=[InputRequired(), PlainText(), Length(max=500)]
    )


@bp.post("/items/<int:item_id>/retire")
@certifier
def retire(item_id: int) -> Any:
    form = RetireForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for retiring the item."), "error")
        return redirect(request.referrer or url_for("certify.reviews"))
    item = reviewing.retire_item(
        session=get_session(),
        item_id=item_id,
        reason=form.reason.data or "",
        actor_id=current_user.id,
        now=utcnow(),
    )
    flash(_("Item %(item)s is retired: it is drawn no more.", item=item.key), "success")
    return redirect(request.referrer or url_for("certify.reviews"))


@bp.get("/audit")
@certifier
def audit_log() -> Any:
    """The log by person, exam or certificate, a page at a time, with its seal status: the
    newest batch is checked against its signed checkpoint (the full check is ``audit verify``)."""
    session = get_session()
    person = request.args.get("person", "").strip()
    exam = request.args.get("exam", "").strip()
    code = request.args.get("certificate", "").strip()
    page = audit.search(
        session=session,
        person=person,
        exam=exam,
        code=code,
        number=request.args.get("page", 1, type=int) or 1,
    )
    names = {e.actor for e in page.rows if e.actor} | {
        e.subject.removeprefix(PERSON) for e in page.rows if e.subject.startswith(PERSON)
    }
    return render_template(
        "certify/audit.html",
        page=page,
        status=audit.seal_status(session=session, public_key=authority().public_keys()),
        people=audit.people(session=session, names=names),
        person_prefix=PERSON,
        person=person,
        exam=exam,
        code=code,
    )
