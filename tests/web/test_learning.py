"""A learner works through a course: progress, continue, reflections, evaluation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from elearn.clock import utcnow
from elearn.content.loader import load_content
from elearn.db import engine_of
from elearn.models import AuditEntry, CourseEvaluation, Reflection, User
from elearn.services import audit
from elearn.services.content_sync import sync_content
from tests.conftest import COURSE, post

MODULES = [
    "01-what-is-sustainability",
    "02-agenda-2030",
    "03-local-action",
    "04-goal-conflicts",
    "05-working-across-units",
]


@pytest.fixture
def learner(as_role) -> FlaskClient:  # type: ignore[no-untyped-def]
    """A learner who has not started: the demo learner has completed the course already."""
    return as_role("new-learner")  # type: ignore[no-any-return]


def module_url(module: str) -> str:
    return f"/courses/{COURSE}/modules/{module}"


def complete(client: FlaskClient, module: str) -> str:
    response = post(client, module_url(module), {"complete": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def test_catalogue_and_course_page(learner: FlaskClient) -> None:
    catalogue = learner.get("/courses").get_data(as_text=True)
    assert "Sustainability in the public sector" in catalogue
    assert "Not started" in catalogue
    page = learner.get(f"/courses/{COURSE}").get_data(as_text=True)
    assert "Start the course" in page
    for module in MODULES:
        assert module_url(module) in page
    assert "0 of 5 modules done" in page


def test_module_page_renders_content_and_reflection_boxes(learner: FlaskClient) -> None:
    page = learner.get(module_url(MODULES[0])).get_data(as_text=True)
    assert re.search(r"<h1[^>]*>What is sustainable development\?</h1>", page), page[:2000]
    assert 'name="reflection-1"' in page and 'form="module-form"' in page
    assert "<script" not in page
    assert "Module 1 of 5" in page


def test_continue_brings_the_learner_back_where_they_left_off(learner: FlaskClient) -> None:
    first = learner.get(f"/courses/{COURSE}/continue")
    assert first.headers["Location"] == module_url(MODULES[0])
    assert complete(learner, MODULES[0]) == module_url(MODULES[1])
    learner.get(module_url(MODULES[3]))  # jumps ahead and leaves
    assert learner.get(f"/courses/{COURSE}/continue").headers["Location"] == module_url(MODULES[3])
    complete(learner, MODULES[3])
    # The module last opened is done: continue goes to the first one not done.
    assert learner.get(f"/courses/{COURSE}/continue").headers["Location"] == module_url(MODULES[1])
    home = learner.get("/").get_data(as_text=True)
    assert "2 of 5 modules done" in home and "Continue" in home


def test_completing_every_module_completes_the_course_once(
    app: Flask, learner: FlaskClient
) -> None:
    for module in MODULES[:-1]:
        complete(learner, module)
    assert complete(learner, MODULES[-1]) == f"/courses/{COURSE}/evaluation"
    complete(learner, MODULES[-1])  # double submit: no second completion
    page = learner.get(f"/courses/{COURSE}").get_data(as_text=True)
    assert "You have completed this course." in page and "5 of 5 modules done" in page
    with Session(engine_of(app)) as s:
        me = s.exec(select(User.id).where(User.email == "learner2@example.org")).one()
        completions = s.exec(
            select(AuditEntry).where(
                AuditEntry.action == "course.completed",
                AuditEntry.actor == audit.pseudonyms(session=s, user_ids={me}, create=False)[me],
            )
        ).all()
    assert len(completions) == 1


def test_reflections_are_saved_updated_cleared_and_private(
    app: Flask, learner: FlaskClient, as_role
) -> None:  # type: ignore[no-untyped-def]
    url = module_url(MODULES[0])
    response = post(learner, url, {"save": "1", "reflection-1": "Økonomi er også bærekraft."})
    assert response.headers["Location"] == url
    assert "Økonomi er også bærekraft." in learner.get(url).get_data(as_text=True)
    mine = learner.get("/me/reflections").get_data(as_text=True)
    assert "Økonomi er også bærekraft." in mine and "What is sustainable development?" in mine
    post(learner, url, {"save": "1", "reflection-1": "Endret svar"})
    other = as_role("manager")
    assert "Endret svar" not in other.get("/me/reflections").get_data(as_text=True)
    assert "Endret svar" not in other.get(url).get_data(as_text=True)
    post(learner, url, {"save": "1", "reflection-1": "   "})
    with Session(engine_of(app)) as s:
        assert s.exec(select(Reflection)).all() == []


def test_marking_done_also_saves_reflections(app: Flask, learner: FlaskClient) -> None:
    post(learner, module_url(MODULES[0]), {"complete": "1", "reflection-1": "Ikke mist meg"})
    with Session(engine_of(app)) as s:
        assert [r.answer for r in s.exec(select(Reflection))] == ["Ikke mist meg"]


def test_forged_or_oversized_reflection_field_is_refused_and_nothing_saved(
    app: Flask, learner: FlaskClient
) -> None:
    url = module_url(MODULES[0])
    assert (
        post(learner, url, {"save": "1", "reflection-1": "ok", "reflection-99": "x"}).status_code
        == 400
    )
    assert post(learner, url, {"save": "1", "reflection-abc": "x"}).status_code == 400
    assert post(learner, url, {"save": "1", "reflection-1": "x" * 10_001}).status_code == 400
    with Session(engine_of(app)) as s:
        assert s.exec(select(Reflection)).all() == []


def test_module_post_without_csrf_keeps_nothing(app: Flask, learner: FlaskClient) -> None:
    response = learner.post(module_url(MODULES[0]), data={"complete": "1", "reflection-1": "x"})
    assert response.status_code == 400
    assert "0 of 5 modules done" in learner.get(f"/courses/{COURSE}").get_data(as_text=True)


def test_evaluation_opens_only_after_completion(app: Flask, learner: FlaskClient) -> None:
    url = f"/courses/{COURSE}/evaluation"
    data = {"relevance": "5", "clarity": "4", "usefulness": "3", "gained": "Mål og delmål"}
    assert "opens when you have completed" in learner.get(url).get_data(as_text=True)
    assert post(learner, url, data).status_code == 409
    for module in MODULES:
        complete(learner, module)
    bad = post(learner, url, {**data, "relevance": "6"})
    assert bad.status_code == 200 and "Not a valid choice" in bad.get_data(as_text=True)
    assert post(learner, url, data).status_code == 302
    assert post(learner, url, {**data, "clarity": "2"}).status_code == 302  # revised, not doubled
    with Session(engine_of(app)) as s:
        rows = s.exec(select(CourseEvaluation)).all()
    assert [(r.relevance, r.clarity, r.usefulness, r.gained) for r in rows] == [
        (5, 2, 3, "Mål og delmål")
    ]


def test_admin_sees_evaluation_summary(
    app: Flask, learner: FlaskClient, admin: FlaskClient
) -> None:
    for module in MODULES:
        complete(learner, module)
    post(
        learner,
        f"/courses/{COURSE}/evaluation",
        {"relevance": "4", "clarity": "5", "usefulness": "3", "gained": "Nyttige eksempler"},
    )
    page = admin.get("/admin/evaluations").get_data(as_text=True)
    assert "Nyttige eksempler" in page and "4.0" in page and "5.0" in page


def test_content_falls_back_to_the_course_language_with_a_note(
    app: Flask, learner: FlaskClient, tmp_path: Path
) -> None:
    course = tmp_path / "courses" / "nb-only"
    (course / "modules").mkdir(parents=True)
    (course / "course.yaml").write_text(
        "id: nb-only\ndefault_language: nb\nlanguages: [nb]\ntitle: {nb: Bare norsk}\n"
        "summary: {nb: Kun bokmål}\nestimated_minutes: 5\noutcomes:\n"
        "  - {id: o, text: {nb: Mål}}\nmodules: [01-a]\n",
        encoding="utf-8",
    )
    (course / "modules" / "01-a.nb.md").write_text(
        "---\ntitle: Første modul\nminutes: 5\n---\n\nNorsk tekst.\n", encoding="utf-8"
    )
    content = load_content(tmp_path / "courses", tmp_path / "none", tmp_path)
    assert content.problems == []
    with Session(engine_of(app)) as s:
        sync_content(session=s, content=content, now=utcnow())
        s.commit()
    page = learner.get("/courses/nb-only/modules/01-a").get_data(as_text=True)
    assert "Norsk tekst." in page
    assert "not available in your language" in page and 'lang="nb"' in page


def test_knowledge_check_gives_feedback_at_once_and_records_nothing(
    app: Flask, learner: FlaskClient
) -> None:
    from elearn.domain.content import ItemSpec
    from elearn.models import Item, ItemVersion

    url = module_url(MODULES[0])
    page = learner.get(url).get_data(as_text=True)
    assert "Check your understanding" in page
    with Session(engine_of(app)) as s:
        rows = s.exec(
            select(Item.key, ItemVersion.spec)
            .join(ItemVersion, ItemVersion.id == Item.current_version_id)  # type: ignore[arg-type]
            .where(Item.bank_id == "practice-sustainability-intro", Item.topic == "m1")
            .order_by(Item.key)
        ).all()
    items = [ItemSpec.model_validate(spec) for _key, spec in rows]
    assert len(items) == 3
    right: dict[str, Any] = {}
    for i, item in enumerate(items, start=1):
        options = list(next(iter(item.text.values())).options or {})
        prompts = list(next(iter(item.text.values())).prompts or {})
        key = item.key
        if item.type == "single_choice":
            right[f"q{i}-answer"] = str(options.index(key) + 1)
        elif item.type == "multiple_response":
            right[f"q{i}-answer"] = [str(options.index(o) + 1) for o in key]
        elif item.type == "true_false":
            right[f"q{i}-answer"] = "true" if key else "false"
        elif item.type == "matching":
            for p, o in key.items():
                right[f"q{i}-answer-{prompts.index(p) + 1}"] = str(options.index(o) + 1)
    check_url = f"/courses/{COURSE}/modules/{MODULES[0]}/check"
    result = post(learner, check_url, right).get_data(as_text=True)
    assert result.count("<strong>Right</strong>") == 3
    wrong = post(learner, check_url, {}).get_data(as_text=True)
    assert wrong.count("<strong>Not answered</strong>") == 3 and "Right answer" in wrong
    assert post(learner, check_url, {"q1-answer": "99"}).status_code == 400
    assert "0 of 5 modules done" in learner.get(f"/courses/{COURSE}").get_data(as_text=True)
