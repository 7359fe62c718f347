"""Taking exams: start page, items page by page, summary, submit, result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from elearn.auth import roles_required
from elearn.clock import utcnow
from elearn.db import get_session, writes_on_get
from elearn.domain.content import ItemSpec
from elearn.domain.errors import AttemptClosed, IncompleteAnswer, InvalidAnswer
from elearn.domain.itemtypes import describe_answer, present
from elearn.domain.localize import pick
from elearn.domain.numbers import whole_number
from elearn.i18n import current_language
from elearn.models import ExamAttempt
from elearn.services import attempts, certificates, exams, review
from elearn.web import authority
from elearn.web.busy import retries_when_locked
from elearn.web.forms import ConfirmForm
from elearn.web.images import image_list, send_image

bp = Blueprint("exam", __name__)
learner = roles_required("learner")
# The writes a GET may make here (every other GET only reads; see docs/decisions/0007).
CLOSES_OVERDUE = "closes an attempt found past its deadline, and certifies it if it passed"
SHOWS_QUESTION = "records that a question was shown (the attempt's trail); " + CLOSES_OVERDUE


def _client() -> attempts.Client:
    return attempts.Client(request.remote_addr, request.user_agent.string)


def _save_posted(attempt: ExamAttempt, number: int, now: datetime) -> None:
    """Save what the page posted for one question: its answer fields and the flag."""
    exams.save_answer(
        session=get_session(),
        attempt=attempt,
        number=number,
        raw={k: request.form.getlist(k) for k in request.form if k.startswith("answer")},
        flagged=bool(request.form.get("flag")),
        now=now,
        client=_client(),
        authority=authority(),
    )


def _closed(attempt: ExamAttempt) -> Any:
    """The attempt closed under the learner's hands: keep the closure, show the result."""
    flash(_("Your time is up. Your answers were submitted and scored."), "info")
    return redirect(url_for("exam.result", attempt_id=attempt.id))


def _renewal_days() -> int:
    return int(current_app.config["CERTIFICATE_EXPIRY_WARNING_DAYS"])


def _status(view: exams.ExamView, now: datetime) -> exams.LearnerStatus:
    """The learner's standing with the exam (an attempt found overdue is closed on the way)."""
    return exams.learner_status(
        session=get_session(),
        authority=authority(),
        user_id=current_user.id,
        view=view,
        now=now,
        renewal_days=_renewal_days(),
    )


def _topic_titles(view: exams.ExamView, lang: str) -> dict[str, str]:
    return {t.id: pick(t.title, lang, view.bank.languages[0]).value for t in view.bank.topics}


@bp.get("/exams")
@learner
@writes_on_get(CLOSES_OVERDUE)
def index() -> Any:
    session, now = get_session(), utcnow()
    rows = [(view, _status(view, now)) for view in exams.active_exams(session=session)]
    return render_template("exams/index.html", rows=rows, lang=current_language(), pick=pick)


@bp.get("/exams/<exam_id>")
@learner
@writes_on_get(CLOSES_OVERDUE)
def start_page(exam_id: str) -> Any:
    session, now = get_session(), utcnow()
    view = exams.load_exam(session=session, exam_id=exam_id)
    status = _status(view, now)
    extra = exams.extra_time(session=session, user_id=current_user.id, exam_id=exam_id)
    return render_template(
        "exams/start.html",
        view=view,
        status=status,
        extra=extra,
        form=ConfirmForm(),
        refusal=exams.REFUSALS.get(status.eligibility.refusal)
        if status.eligibility.refusal
        else None,
        topics=_topic_titles(view, current_language()),
        lang=current_language(),
        pick=pick,
    )


@bp.post("/exams/<exam_id>/start")
@learner
def start(exam_id: str) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt = exams.start_attempt(
        session=get_session(),
        user_id=current_user.id,
        exam_id=exam_id,
        now=utcnow(),
        lang=current_language(),
        client=_client(),
        renewal_days=_renewal_days(),
        authority=authority(),
    )
    if attempt.waiting:  # drawn for a sitting: it starts from the sitting's waiting room
        return redirect(url_for("room.mine"))
    return redirect(url_for("exam.item", attempt_id=attempt.id, number=1))


@bp.route("/attempts/<int:attempt_id>/<int:number>", methods=["GET", "POST"])
@retries_when_locked
@learner
@writes_on_get(SHOWS_QUESTION)
def item(attempt_id: int, number: int) -> Any:
    session, now = get_session(), utcnow()
    attempt = exams.own_attempt(
        session=session, attempt_id=attempt_id, user_id=current_user.id, slot=number
    )
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        destination = _destination(attempt, number, request.form.get("go", ""))  # before saving
        try:
            _save_posted(attempt, number, now)
        except AttemptClosed:
            return _closed(attempt)
        except IncompleteAnswer as exc:  # not saved: the page says why and keeps what was given
            return _item_page(attempt, number, now, given=exc.partial, problem=_(exc.message)), 422
        return redirect(destination)
    if attempt.submitted_at is not None:
        return redirect(url_for("exam.result", attempt_id=attempt.id))
    if exams.close_if_overdue(session=session, authority=authority(), attempt=attempt, now=now):
        return _closed(attempt)
    review.record_view(session=session, attempt=attempt, number=number, now=now, client=_client())
    return _item_page(attempt, number, now)


def _item_page(
    attempt: ExamAttempt,
    number: int,
    now: datetime,
    given: object = None,
    problem: str | None = None,
) -> str:
    """One question of the attempt with its saved answer, or with an unfinished one and why."""
    session = get_session()
    assert attempt.id is not None
    slot, spec = exams.slot_with_item(session=session, attempt_id=attempt.id, number=number)
    slots = exams.slots_of(session=session, attempt_id=attempt.id)
    shown = slot.response if problem is None else given
    return render_template(
        "exams/item.html",
        attempt=attempt,
        exam=attempts.exam_spec(session=session, attempt=attempt),
        slot=slot,
        slots=slots,
        item=present(spec, attempt.language, slot.options, slot.prompts, shown),
        images=_images(attempt, number, spec),
        problem=problem,
        remaining=max(0, int((attempt.deadline_at - now).total_seconds())),
        counts=exams.answered_counts(slots=slots),
        form=ConfirmForm(),
    )


def _images(attempt: ExamAttempt, number: int, spec: ItemSpec) -> list[tuple[str, str]]:
    def url(index: int) -> str:
        return url_for("exam.item_image", attempt_id=attempt.id, number=number, index=index)

    return image_list(spec, attempt.language, url)


@bp.get("/attempts/<int:attempt_id>/<int:number>/images/<int:index>")
@learner
def item_image(attempt_id: int, number: int, index: int) -> Any:
    """An image of a question of the candidate's own attempt, by its position in the item."""
    session = get_session()
    attempt = exams.own_attempt(
        session=session, attempt_id=attempt_id, user_id=current_user.id, slot=number
    )
    assert attempt.id is not None
    _slot, spec = exams.slot_with_item(session=session, attempt_id=attempt.id, number=number)
    closed = attempt.submitted_at is not None or attempt.deadline_at <= utcnow()
    if closed and attempts.exam_spec(session=session, attempt=attempt).review not in _SHOWS_ITEMS:
        abort(404)  # after the attempt, only where its result shows the questions again
    bank_id = exams.bank_of_slot(session=session, attempt_id=attempt.id, number=number)
    return send_image(bank_id, spec, index)


_SHOWS_ITEMS = ("correctness", "answers")  # the review policies whose result shows the items


def _destination(attempt: ExamAttempt, number: int, go: str) -> str:
    """Where the button pressed leads: the summary, a neighbour, or a question by its number
    (past the last, the last). Anything else is a forged button: 400, and nothing is saved."""
    if go == "summary":
        return url_for("exam.summary", attempt_id=attempt.id)
    target = {"": number, "prev": number - 1, "next": number + 1}.get(go)
    if target is None:
        target = whole_number(go)
        if target is None:
            abort(400)
    if target > number:
        assert attempt.id is not None
        target = min(target, len(exams.slots_of(session=get_session(), attempt_id=attempt.id)))
    return url_for("exam.item", attempt_id=attempt.id, number=max(1, target))


@bp.post("/attempts/<int:attempt_id>/<int:number>/save")
@retries_when_locked  # a locked database: tried again within SAVE_LOCK_BUDGET_MS, then 503
@learner
def save(attempt_id: int, number: int) -> Any:
    """Autosave from the page's script: the same fields as the form, a JSON answer."""
    session, now = get_session(), utcnow()
    attempt = exams.own_attempt(
        session=session, attempt_id=attempt_id, user_id=current_user.id, slot=number
    )
    try:
        _save_posted(attempt, number, now)
    except AttemptClosed:
        return jsonify(closed=True, result=url_for("exam.result", attempt_id=attempt_id)), 409
    except InvalidAnswer as exc:  # refused before anything was changed
        return jsonify(error=_(exc.message)), 400
    return jsonify(saved=True, remaining=max(0, int((attempt.deadline_at - now).total_seconds())))


@bp.get("/attempts/<int:attempt_id>/summary")
@learner
@writes_on_get(CLOSES_OVERDUE)
def summary(attempt_id: int) -> Any:
    session, now = get_session(), utcnow()
    attempt = exams.own_attempt(session=session, attempt_id=attempt_id, user_id=current_user.id)
    if attempt.submitted_at is not None:
        return redirect(url_for("exam.result", attempt_id=attempt_id))
    if exams.close_if_overdue(session=session, authority=authority(), attempt=attempt, now=now):
        return _closed(attempt)
    slots = exams.slots_of(session=session, attempt_id=attempt_id)
    return render_template(
        "exams/summary.html",
        attempt=attempt,
        slots=slots,
        counts=exams.answered_counts(slots=slots),
        form=ConfirmForm(),
        remaining=max(0, int((attempt.deadline_at - now).total_seconds())),
    )


@bp.post("/attempts/<int:attempt_id>/submit")
@learner
def submit(attempt_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    session = get_session()
    attempt = exams.own_attempt(session=session, attempt_id=attempt_id, user_id=current_user.id)
    outcome = exams.submit_attempt(
        session=session, authority=authority(), attempt=attempt, now=utcnow(), client=_client()
    )
    if not outcome.scored_now:
        flash(_("This attempt was submitted already; it was scored once."), "info")
    return redirect(url_for("exam.result", attempt_id=attempt_id))


@bp.get("/attempts/<int:attempt_id>/result")
@learner
@writes_on_get(CLOSES_OVERDUE)
def result(attempt_id: int) -> Any:
    session, now = get_session(), utcnow()
    attempt = exams.own_attempt(session=session, attempt_id=attempt_id, user_id=current_user.id)
    if not exams.close_if_overdue(session=session, authority=authority(), attempt=attempt, now=now):
        return redirect(url_for("exam.summary", attempt_id=attempt_id))
    certificate = certificates.of_attempt(session=session, attempt_id=attempt_id)
    view = exams.load_exam(session=session, exam_id=attempt.exam_id)
    spec = attempts.exam_spec(session=session, attempt=attempt)
    reviews = []
    if spec.review in _SHOWS_ITEMS:
        for slot, item_model in exams.slots_with_items(session=session, attempt_id=attempt_id):
            shown = present(item_model, attempt.language, slot.options, slot.prompts, slot.response)
            text = item_model.text.get(shown.lang)  # type: ignore[call-overload]
            reviews.append(
                {
                    "slot": slot,
                    "item": shown,
                    "answer": describe_answer(item_model, attempt.language)
                    if spec.review == "answers"
                    else None,
                    "feedback": text.feedback if spec.review == "answers" and text else None,
                    "images": _images(attempt, slot.number, item_model),
                }
            )
    status = _status(view, now)
    return render_template(
        "exams/result.html",
        attempt=attempt,
        spec=spec,
        view=view,
        reviews=reviews,
        topics=_topic_titles(view, current_language()),
        status=status,
        certificate=certificate,
        sign_off=spec.sign_off,
    )
