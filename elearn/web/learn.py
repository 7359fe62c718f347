"""The learner's pages: home, catalogue, course, module, evaluation, reflections."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from elearn.auth import public, roles_required
from elearn.clock import utcnow
from elearn.content.markdown import render
from elearn.db import get_session, writes_on_get
from elearn.domain.itemtypes import InvalidResponse, option_ids, present, prompt_ids
from elearn.domain.localize import pick
from elearn.domain.numbers import whole_number
from elearn.domain.practice import Checked, check_answer
from elearn.domain.text import TextRefused, clean_text
from elearn.i18n import current_language
from elearn.services import cases, learning, sittings
from elearn.web.forms import TEXT_MAX, EvaluationForm, ModuleForm, text_refused_message
from elearn.web.images import image_list, send_image

bp = Blueprint("learn", __name__)
learner = roles_required("learner")


def _texts(view: learning.LoadedCourseView) -> Any:
    """A picker bound to the learner's language and the course's default."""
    lang, default = current_language(), view.spec.default_language
    return lambda texts: pick(texts, lang, default)


@bp.get("/")
@public
def home() -> Any:
    if not current_user.is_authenticated:
        return render_template("learn/landing.html")
    session = get_session()
    cards = []
    bookings = []
    if current_user.has_role("learner"):
        bookings = sittings.bookings_of(session=session, user_id=current_user.id, now=utcnow())
        for course in learning.active_courses(session=session):
            view = learning.load_course(session=session, course_id=course.id)
            prog = learning.progress(session=session, user_id=current_user.id, view=view)
            if prog.started:
                cards.append((view, prog, learning.continue_module(view=view, prog=prog)))
    my_events = _my_events(session)
    return render_template(
        "learn/home.html",
        cards=cards,
        bookings=bookings,
        pick=pick,
        lang=current_language(),
        my_events=my_events,
        now=utcnow(),
    )


def _my_events(session: Any) -> list[tuple[Any, Any, str, str]]:
    """Events the user registered for (and attended): part of their learning record."""
    from elearn.domain.events import localized, personal_token
    from elearn.services import events

    secret = current_app.secret_key
    key = secret.encode() if isinstance(secret, str) else bytes(secret or b"")
    return [
        (e, r, localized(e.title, current_language()), personal_token(key, r.nonce))
        for e, r in events.registrations_of(session=session, user_id=current_user.id)
    ]


@bp.get("/courses")
@learner
def catalogue() -> Any:
    session = get_session()
    entries = []
    for course in learning.active_courses(session=session):
        view = learning.load_course(session=session, course_id=course.id)
        entries.append(
            (view, learning.progress(session=session, user_id=current_user.id, view=view))
        )
    return render_template(
        "learn/catalogue.html", entries=entries, pick=pick, lang=current_language()
    )


@bp.get("/courses/<course_id>")
@learner
def course(course_id: str) -> Any:
    session = get_session()
    view = learning.load_course(session=session, course_id=course_id)
    prog = learning.progress(session=session, user_id=current_user.id, view=view)
    evaluation = learning.evaluation_of(
        session=session, user_id=current_user.id, course_id=course_id
    )
    return render_template(
        "learn/course.html",
        view=view,
        prog=prog,
        t=_texts(view),
        evaluation=evaluation,
        next_module=learning.continue_module(view=view, prog=prog),
        has_cases=bool(cases.for_tags(session=session, tags=[course_id], limit=1)),
    )


@bp.get("/courses/<course_id>/continue")
@learner
def resume(course_id: str) -> Any:
    session = get_session()
    view = learning.load_course(session=session, course_id=course_id)
    prog = learning.progress(session=session, user_id=current_user.id, view=view)
    if prog.completed_at is not None:
        return redirect(url_for("learn.course", course_id=course_id))
    module = learning.continue_module(view=view, prog=prog)
    return redirect(url_for("learn.module", course_id=course_id, module_id=module.id))


@bp.route("/courses/<course_id>/modules/<module_id>", methods=["GET", "POST"])
@learner
@writes_on_get("remembers the module the learner opened, for 'continue'")
def module(course_id: str, module_id: str) -> Any:
    session = get_session()
    view = learning.load_course(session=session, course_id=course_id)
    spec = learning.module_of(view=view, module_id=module_id)
    position = view.modules.index(spec)
    t = _texts(view)
    body = t(spec.body)
    segments = render(body.value)
    prompts = {s.index: s.html for s in segments if s.kind == "reflection"}
    form = ModuleForm()
    saved = learning.reflections_for(
        session=session, user_id=current_user.id, course_id=course_id, module_id=module_id
    )
    if form.validate_on_submit():
        answers = _reflection_answers(prompts)
        if answers is None:
            abort(400)
        cleaned, problems = _clean_reflections(answers)
        if problems:  # shown again as typed, with what to change
            for problem in problems:
                flash(problem, "error")
            page = _module_page(view, spec, t, body, segments, form, {**saved, **answers}, position)
            return page, 400
        answers = cleaned
        learning.save_reflections(
            session=session,
            user_id=current_user.id,
            course_id=course_id,
            module_id=module_id,
            answers=answers,
            prompts=prompts,
            now=utcnow(),
        )
        if form.complete.data:
            finished = learning.complete_module(
                session=session,
                user_id=current_user.id,
                view=view,
                module_id=module_id,
                now=utcnow(),
            )
            if finished:
                flash(_("You have completed the course. Well done!"), "success")
                return redirect(url_for("learn.evaluation", course_id=course_id))
            flash(_("Module marked as done."), "success")
            if position + 1 < len(view.modules):
                nxt = view.modules[position + 1]
                return redirect(url_for("learn.module", course_id=course_id, module_id=nxt.id))
            return redirect(url_for("learn.resume", course_id=course_id))
        flash(_("Your reflections are saved."), "success")
        return redirect(url_for("learn.module", course_id=course_id, module_id=module_id))
    if request.method == "POST":  # invalid form: show it again with what was typed
        saved = {**saved, **(_reflection_answers(prompts) or {})}
    else:
        learning.open_module(
            session=session,
            user_id=current_user.id,
            course_id=course_id,
            module_id=module_id,
            now=utcnow(),
        )
    return _module_page(view, spec, t, body, segments, form, saved, position)


def _module_page(
    view: Any,
    spec: Any,
    t: Any,
    body: Any,
    segments: Any,
    form: Any,
    saved: Any,
    position: int,
    results: dict[int, Checked] | None = None,
) -> Any:
    session = get_session()
    prog = learning.progress(session=session, user_id=current_user.id, view=view)
    checks = []
    if view.spec.practice_bank and spec.check:
        for i, (key, item) in enumerate(
            learning.practice_items(
                session=session, bank_id=view.spec.practice_bank, keys=spec.check
            ),
            start=1,
        ):
            result = (results or {}).get(i)
            response = result.given if result else None
            shown = present(item, body.lang, option_ids(item), prompt_ids(item), response)

            def url(index: int, number: int = i) -> str:
                return url_for(
                    "learn.check_image",
                    course_id=view.spec.id,
                    module_id=spec.id,
                    number=number,
                    index=index,
                )

            checks.append((i, key, shown, result, image_list(item, body.lang, url)))
    return render_template(
        "learn/module.html",
        # The published cases of the module's topic: tagged with the module or its course.
        module_cases=cases.for_tags(session=session, tags=[spec.id, view.spec.id]),
        module_case_tag=view.spec.id,
        lang=body.lang,
        checks=checks,
        view=view,
        spec=spec,
        t=t,
        body=body,
        segments=segments,
        form=form,
        saved=saved,
        position=position,
        prog=prog,
        previous=view.modules[position - 1] if position > 0 else None,
        following=view.modules[position + 1] if position + 1 < len(view.modules) else None,
    )


def _reflection_answers(prompts: dict[int, str]) -> dict[int, str] | None:
    """The posted answers by prompt number; None for a forged or oversized field."""
    answers: dict[int, str] = {}
    for name, value in request.form.items():
        if not name.startswith("reflection-"):
            continue
        number = whole_number(name.removeprefix("reflection-"))
        if number is None or number not in prompts or len(value) > TEXT_MAX:
            return None
        answers[number] = value
    return answers


def _clean_reflections(answers: dict[int, str]) -> tuple[dict[int, str], list[str]]:
    """The answers as they are stored (``elearn.domain.text``), and a message for each refused."""
    cleaned: dict[int, str] = {}
    problems: list[str] = []
    for number, value in sorted(answers.items()):
        try:
            cleaned[number] = clean_text(value, multiline=True)
        except TextRefused as refused:
            problems.append(text_refused_message(_("Reflection %(n)s", n=number), refused))
    return cleaned, problems


@bp.route("/courses/<course_id>/evaluation", methods=["GET", "POST"])
@learner
def evaluation(course_id: str) -> Any:
    session = get_session()
    view = learning.load_course(session=session, course_id=course_id)
    prog = learning.progress(session=session, user_id=current_user.id, view=view)
    existing = learning.evaluation_of(session=session, user_id=current_user.id, course_id=course_id)
    form = EvaluationForm(obj=existing if request.method == "GET" else None)
    if request.method == "GET" and existing is not None:
        form.relevance.data = str(existing.relevance)
        form.clarity.data = str(existing.clarity)
        form.usefulness.data = str(existing.usefulness)
    if prog.completed_at is not None and form.validate_on_submit():
        learning.submit_evaluation(
            session=session,
            user_id=current_user.id,
            view=view,
            relevance=int(form.relevance.data or 0),
            clarity=int(form.clarity.data or 0),
            usefulness=int(form.usefulness.data or 0),
            gained=form.gained.data or "",
            improve=form.improve.data or "",
            now=utcnow(),
        )
        flash(_("Thank you! Your evaluation is saved."), "success")
        return redirect(url_for("learn.course", course_id=course_id))
    status = 409 if request.method == "POST" and prog.completed_at is None else 200
    return render_template(
        "learn/evaluation.html", view=view, prog=prog, form=form, t=_texts(view), existing=existing
    ), status


@bp.get("/me/reflections")
@learner
def my_reflections() -> Any:
    session = get_session()
    rows = learning.all_reflections(session=session, user_id=current_user.id)
    titles: dict[tuple[str, str], str] = {}
    courses: dict[str, str] = {}
    for course_id in {r.course_id for r in rows}:
        try:
            view = learning.load_course(session=session, course_id=course_id)
        except learning.NotFound:
            continue
        t = _texts(view)
        courses[course_id] = t(view.spec.title).value
        for m in view.modules:
            titles[(course_id, m.id)] = t(m.title).value
    return render_template("learn/reflections.html", rows=rows, titles=titles, courses=courses)


@bp.get("/courses/<course_id>/modules/<module_id>/check/<int:number>/images/<int:index>")
@learner
def check_image(course_id: str, module_id: str, number: int, index: int) -> Any:
    """An image of question ``number`` of a module's knowledge check, by its position."""
    session = get_session()
    view = learning.load_course(session=session, course_id=course_id)
    spec = learning.module_of(view=view, module_id=module_id)
    bank_id = view.spec.practice_bank
    if not bank_id:
        abort(404)
    items = learning.practice_items(session=session, bank_id=bank_id, keys=spec.check)
    if not 1 <= number <= len(items):
        abort(404)
    return send_image(bank_id, items[number - 1][1], index)


@bp.post("/courses/<course_id>/modules/<module_id>/check")
@learner
def check(course_id: str, module_id: str) -> Any:
    """Score the knowledge check at once: practice only, nothing is recorded."""
    session = get_session()
    view = learning.load_course(session=session, course_id=course_id)
    spec = learning.module_of(view=view, module_id=module_id)
    if not ModuleForm().validate_on_submit() or not view.spec.practice_bank:
        abort(400)
    t = _texts(view)
    body = t(spec.body)
    results: dict[int, Checked] = {}
    items = learning.practice_items(
        session=session, bank_id=view.spec.practice_bank, keys=spec.check
    )
    for i, (_key, item) in enumerate(items, start=1):
        prefix = f"q{i}-"
        raw = {
            k.removeprefix(prefix): request.form.getlist(k)
            for k in request.form
            if k.startswith(prefix)
        }
        try:
            results[i] = check_answer(item, raw, body.lang)
        except InvalidResponse:
            abort(400)
    position = view.modules.index(spec)
    segments = render(body.value)
    saved = learning.reflections_for(
        session=session, user_id=current_user.id, course_id=course_id, module_id=module_id
    )
    return _module_page(view, spec, t, body, segments, ModuleForm(), saved, position, results)
