"""When a learner has seen every item of a topic the draw repeats items: the certifier sees it,
per learner and per item, and on the attempt itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from elearn.db import engine_of
from tests.conftest import english_client, login, make_app, post

BANK = """\
id: drill
languages: [en]
title: {en: "Drill"}
topics:
  - id: goals
    title: {en: "Goals"}
"""
ITEM = """\
  - id: goal-{n}
    topic: goals
    type: true_false
    key: true
    source: "A/RES/70/1"
    text:
      en: {{stem: "Statement number {n} about the goals is true."}}
"""
EXAM = """\
id: drill-exam
title: {en: "Drill"}
time_limit_minutes: 20
blueprint:
  - {topic: goals, items: 2}
pass_rules: {overall_percent: 50}
attempts: {max: 5}
review: topics
certificate: {issue: false}
"""


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[Flask]:
    banks = tmp_path / "banks"
    (banks / "drill" / "items").mkdir(parents=True)
    (banks / "drill" / "exams").mkdir()
    (banks / "drill" / "bank.yaml").write_text(BANK)
    (banks / "drill" / "items" / "goals.yaml").write_text(
        "items:\n" + "".join(ITEM.format(n=n) for n in (1, 2, 3))
    )
    (banks / "drill" / "exams" / "drill-exam.yaml").write_text(EXAM)
    (tmp_path / "courses").mkdir()
    instance = tmp_path / "instance"
    instance.mkdir()
    app = make_app(instance, QUESTION_BANKS_DIR=str(banks), COURSES_DIR=str(tmp_path / "courses"))
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["content", "sync"], ["demo"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    yield app
    engine_of(app).dispose()


def sit(learner: FlaskClient) -> int:
    started = post(learner, "/exams/drill-exam/start")
    attempt_id = int(started.headers["Location"].split("/")[2])
    assert post(learner, f"/attempts/{attempt_id}/submit").status_code == 302
    return attempt_id


def test_a_learner_who_has_seen_a_whole_topic_is_shown_and_repeats_are_marked(
    drill: Flask,
) -> None:
    learner = english_client(drill)
    assert login(learner, "learner@example.org").status_code == 302
    sit(learner)
    certifier = english_client(drill)
    login(certifier, "certifier@example.org")
    page = certifier.get("/certify/exams/drill-exam/exposure").get_data(as_text=True)
    assert "2 / 3" in page and "<strong>goals</strong>" not in page  # not all seen yet
    second = sit(learner)  # three items, two a form: the second form repeats at least one
    page = certifier.get("/certify/exams/drill-exam/exposure").get_data(as_text=True)
    assert "<strong>3 / 3</strong>" in page and "<strong>goals</strong>" in page
    served = [
        int(page.split(f'<th scope="row">goal-{n}</th><td>goals</td><td>')[1][0]) for n in (1, 2, 3)
    ]
    assert sum(served) == 4  # two forms of two items
    attempt = certifier.get(f"/certify/attempts/{second}").get_data(as_text=True)
    assert attempt.count("seen in an earlier attempt") >= 1


def test_the_exposure_page_is_for_certifiers_of_a_known_exam(drill: Flask) -> None:
    learner = english_client(drill)
    login(learner, "learner@example.org")
    assert learner.get("/certify/exams/drill-exam/exposure").status_code == 403
    certifier = english_client(drill)
    login(certifier, "certifier@example.org")
    assert certifier.get("/certify/exams/no-such-exam/exposure").status_code == 404
