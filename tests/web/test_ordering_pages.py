"""The ordering type through the pages: a knowledge check, an exam that draws ordering items,
the review of answers and the certifier's view, and the type's script."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from elearn.db import engine_of
from elearn.models import AttemptSlot, ExamAttempt, ItemVersion
from tests.conftest import english_client, login, make_app, post

ROOT = Path(__file__).resolve().parents[2]
# A knowledge check with an ordering item: the travelling advisory team's four phases.
CHECK = "/courses/green-procurement-dk/modules/03-travelling-advisory-team"
PHASES_EN = {
    "a": "A kick-off meeting at each organisation, attended by the head of procurement",
    "b": "A closing workshop summing up the programme",
    "c": "A joint kick-off workshop for all participating organisations",
    "d": "Specific advice on the organisation's own purchases and tenders",
}
CHECK_RIGHT = ["c", "a", "d", "b"]
# The exam's ordering item (the bank below): the six OECD steps.
RIGHT = ["b", "e", "a", "f", "c", "d"]


def check_fields(page: str, number: int) -> list[str]:
    """The steps of check item ``number`` as the page lists them, by served position."""
    found = re.findall(rf'<label for="q{number}-place-(\d)">.*?</span>(.*?)</label>', page)
    assert found, "the page shows no ordering item"
    return [html.unescape(text) for _position, text in sorted(found)]


def places_for(order: list[str], shown: list[str], prefix: str) -> dict[str, str]:
    """The fields that place each shown step (by served position) where ``order`` puts it."""
    wanted = [PHASES_EN[step] for step in order]
    return {f"{prefix}answer-{i}": str(wanted.index(text) + 1) for i, text in enumerate(shown, 1)}


def test_an_ordering_knowledge_check_is_answered_with_list_boxes_and_marked_at_once(
    learner: FlaskClient,
) -> None:
    page = learner.get(CHECK).get_data(as_text=True)
    assert "Give each step its place, from 1 (first) to 4 (last)." in page
    assert "/itemtypes/ordering.js" in page
    shown = check_fields(page, 4)
    assert sorted(shown) == sorted(PHASES_EN.values())
    fields = places_for(CHECK_RIGHT, shown, "q4-")
    right = post(learner, f"{CHECK}/check", fields).get_data(as_text=True)
    result = right.split('id="q4-stem"')[1].split("check-item")[0]
    assert "<strong>Right</strong>" in result
    # The first two phases swapped: two of four in their own place: partly right, key shown.
    swapped = ["a", "c", "d", "b"]
    partly = post(learner, f"{CHECK}/check", places_for(swapped, shown, "q4-")).get_data(
        as_text=True
    )
    result = partly.split('id="q4-stem"')[1].split("check-item")[0]
    assert "<strong>Partly right</strong>" in result
    assert "1. A joint kick-off workshop" in result  # the key, as numbered steps


def test_an_unfinished_order_in_a_knowledge_check_says_what_to_do_and_keeps_the_others(
    learner: FlaskClient,
) -> None:
    shown = check_fields(learner.get(CHECK).get_data(as_text=True), 4)
    fields = places_for(CHECK_RIGHT, shown, "q4-")
    fields["q4-answer-1"] = fields["q4-answer-2"]  # two steps in one place
    page = post(learner, f"{CHECK}/check", fields).get_data(as_text=True)
    result = page.split('id="q4-stem"')[1].split("check-item")[0]
    assert "Give each step its own place: one step to each place." in result
    # What the learner gave stays in the list boxes, to be finished.
    assert result.count(" selected>") == 4


@pytest.mark.parametrize(
    "forged",
    [{"q4-answer-5": "1"}, {"q4-answer-1": "9"}, {"q4-answer-1": "²"}, {"q4-answer-x": "1"}],
)
def test_a_forged_place_in_a_knowledge_check_is_refused(
    learner: FlaskClient, forged: dict[str, str]
) -> None:
    assert post(learner, f"{CHECK}/check", forged).status_code == 400


def test_the_ordering_script_and_style_are_served_and_nothing_else_from_the_item_types(
    client: FlaskClient,
) -> None:
    script = client.get("/itemtypes/ordering.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert b"data-ordering" in script.data
    style = client.get("/itemtypes/ordering.css")
    assert style.status_code == 200 and style.mimetype == "text/css" and b".step" in style.data
    for other in ("ordering.py", "ordering.html", "base.py", "choice.js", "../../config.py"):
        assert client.get(f"/itemtypes/{other}").status_code == 404, other


# --- an exam that draws ordering items --------------------------------------------------------

BANK = """\
id: steps-drill
languages: [nb, en]
title: {nb: "Trinn", en: "Steps"}
topics:
  - id: steps
    title: {nb: "Trinn", en: "Steps"}
"""
ITEMS = """\
items:
  - id: oecd-steps
    topic: steps
    type: ordering
    key: {order: [b, e, a, f, c, d], grading: absolute_position}
    source: "A test drill: the steps of making bread"
    text:
      nb:
        stem: "Sett trinnene i rekkefølge."
        options: {a: "Elte", b: "Veie opp", c: "Steke", d: "Avkjøle", e: "Blande", f: "Heve"}
      en:
        stem: "Put the steps in order."
        options:
          a: "Knead the dough until it is smooth"
          b: "Weigh out the flour, water, yeast and salt"
          c: "Bake the loaf in a hot oven"
          d: "Let the bread cool on a rack"
          e: "Mix everything into a rough dough"
          f: "Leave the dough to rise under a cloth"
  - id: goals
    topic: steps
    type: true_false
    key: true
    source: "A/RES/70/1"
    text:
      nb: {stem: "Det er 17 mål."}
      en: {stem: "There are 17 goals."}
"""
EXAM = """\
id: steps-drill
title: {nb: "Trinn-drill", en: "Steps drill"}
time_limit_minutes: 20
blueprint:
  - {topic: steps, items: 2}
pass_rules: {overall_percent: 50}
review: answers
certificate: {issue: false}
"""


@pytest.fixture
def drill_app(tmp_path: Path) -> Iterator[Flask]:
    """The shipped content with one more bank, whose exam draws an ordering item."""
    banks = tmp_path / "content" / "question_banks"
    shutil.copytree(ROOT / "question_banks", banks)
    shutil.copytree(ROOT / "courses", tmp_path / "content" / "courses")
    bank = banks / "steps-drill"
    (bank / "items").mkdir(parents=True)
    (bank / "exams").mkdir()
    (bank / "bank.yaml").write_text(BANK, encoding="utf-8")
    (bank / "items" / "steps.yaml").write_text(ITEMS, encoding="utf-8")
    (bank / "exams" / "steps-drill.yaml").write_text(EXAM, encoding="utf-8")
    instance = tmp_path / "instance"
    instance.mkdir()
    app = make_app(
        instance,
        QUESTION_BANKS_DIR=str(banks),
        COURSES_DIR=str(tmp_path / "content" / "courses"),
    )
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["content", "sync"], ["demo"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    yield app
    engine_of(app).dispose()


def ordering_slot(app: Flask, attempt_id: int) -> tuple[int, list[str]]:
    with Session(engine_of(app)) as s:
        for slot, spec in s.exec(
            select(AttemptSlot, ItemVersion.spec)
            .join(ItemVersion, ItemVersion.id == AttemptSlot.item_version_id)  # type: ignore[arg-type]
            .where(AttemptSlot.attempt_id == attempt_id)
        ):
            if spec["type"] == "ordering":
                return slot.number, list(slot.options)
    raise AssertionError("the form has no ordering item")


def saved(app: Flask, attempt_id: int, number: int) -> Any:
    with Session(engine_of(app)) as s:
        slot = s.exec(
            select(AttemptSlot).where(
                AttemptSlot.attempt_id == attempt_id, AttemptSlot.number == number
            )
        ).one()
        return slot.response


def test_an_exam_saves_an_order_scores_it_and_shows_it_in_the_review(drill_app: Flask) -> None:
    learner = english_client(drill_app)
    assert login(learner, "learner@example.org").status_code == 302
    started = post(learner, "/exams/steps-drill/start")
    attempt_id = int(started.headers["Location"].split("/")[2])
    number, served = ordering_slot(drill_app, attempt_id)
    base = f"/attempts/{attempt_id}/{number}"
    page = learner.get(base).get_data(as_text=True)
    assert "data-ordering" in page and "Question " in page
    for step in RIGHT:  # the page never names a step id
        assert f'value="{step}"' not in page
    fields = {f"answer-{i}": str(RIGHT.index(step) + 1) for i, step in enumerate(served, 1)}

    # An unfinished order is refused without touching what was saved.
    unfinished = {**fields, "answer-1": ""}
    refused = post(learner, f"{base}/save", unfinished)
    assert refused.status_code == 400
    assert "one step to each place" in refused.get_json()["error"]
    assert saved(drill_app, attempt_id, number) is None

    assert post(learner, f"{base}/save", fields).get_json()["saved"] is True
    assert saved(drill_app, attempt_id, number) == RIGHT
    again = learner.get(base).get_data(as_text=True)
    for i, step in enumerate(served, 1):  # each step shows its saved place
        place = RIGHT.index(step) + 1
        assert re.search(
            rf'name="answer-{i}"[^>]*>.*?<option value="{place}" selected>', again, re.S
        ), step

    post(learner, f"/attempts/{attempt_id}/submit")
    with Session(engine_of(drill_app)) as s:
        attempt = s.get(ExamAttempt, attempt_id)
        assert attempt is not None and attempt.submitted_at is not None
        slot = s.exec(
            select(AttemptSlot).where(
                AttemptSlot.attempt_id == attempt_id, AttemptSlot.number == number
            )
        ).one()
        assert slot.mark == 1
    result = learner.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "1. Weigh out the flour, water, yeast and salt" in result  # the key, as revealed
    assert '<ol class="steps-review">' in result  # the learner's own order

    certifier = english_client(drill_app)
    login(certifier, "certifier@example.org")
    view = certifier.get(f"/certify/attempts/{attempt_id}").get_data(as_text=True)
    assert '<ol class="steps-review">' in view and "6. Let the bread cool on a rack" in view


def test_without_a_script_an_unfinished_order_is_shown_back_with_what_to_do(
    drill_app: Flask,
) -> None:
    learner = english_client(drill_app)
    assert login(learner, "learner@example.org").status_code == 302
    started = post(learner, "/exams/steps-drill/start")
    attempt_id = int(started.headers["Location"].split("/")[2])
    number, served = ordering_slot(drill_app, attempt_id)
    base = f"/attempts/{attempt_id}/{number}"
    fields = {f"answer-{i}": str(RIGHT.index(step) + 1) for i, step in enumerate(served, 1)}
    assert post(learner, base, {**fields, "go": "next"}).status_code == 302  # saved
    twice = {**fields, "answer-1": fields["answer-2"], "go": "next"}
    page = post(learner, base, twice)
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "Give each step its own place: one step to each place." in text
    # The places as given are on the page to be corrected; the saved answer is unchanged.
    assert re.search(
        rf'name="answer-1"[^>]*>.*?<option value="{fields["answer-2"]}" selected>', text, re.S
    )
    assert saved(drill_app, attempt_id, number) == RIGHT
