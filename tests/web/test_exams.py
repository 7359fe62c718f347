"""Taking an exam through the web: eligibility, saving, safety, deadline, scoring, results."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import event
from sqlmodel import Session, col, select

from elearn.clock import utcnow
from elearn.content.loader import load_content
from elearn.db import engine_of
from elearn.models import (
    AttemptEvent,
    AttemptSlot,
    AuditEntry,
    Certificate,
    ExamAttempt,
    ExamVersion,
    Item,
    ItemExposure,
    ItemVersion,
)
from elearn.services.content_sync import sync_content
from tests.conftest import csrf_token, english_client, login, make_app, post

EXAM = "quick-certificate"  # tests/fixtures: a certificate at once on a pass
PRACTICE = "sdg-basics"  # shows the answers after an attempt


def start(client: FlaskClient, exam: str = EXAM) -> int:
    response = post(client, f"/exams/{exam}/start")
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.match(r"/attempts/(\d+)/1$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def slots(app: Flask, attempt_id: int) -> list[tuple[AttemptSlot, dict[str, Any]]]:
    with Session(engine_of(app)) as s:
        rows = s.exec(
            select(AttemptSlot, ItemVersion.spec)
            .join(ItemVersion, col(ItemVersion.id) == col(AttemptSlot.item_version_id))
            .where(AttemptSlot.attempt_id == attempt_id)
            .order_by(col(AttemptSlot.number))
        ).all()
        return [(slot, spec) for slot, spec in rows]


def right_answer(slot: AttemptSlot, spec: dict[str, Any]) -> dict[str, Any]:
    """Form fields that answer an item right, as the page posts them: served positions."""
    key = spec["type"] and spec["key"]

    def pos(option: str) -> str:
        return str(slot.options.index(option) + 1)

    if spec["type"] == "multiple_response":
        ids = key if isinstance(key, list) else [k for k, w in key.items() if w > 0]
        return {"answer": [pos(o) for o in ids]}
    if spec["type"] == "single_choice":
        return {"answer": pos(key)}
    if spec["type"] == "true_false":
        return {"answer": "true" if key else "false"}
    if spec["type"] == "matching":
        return {f"answer-{slot.prompts.index(p) + 1}": pos(o) for p, o in key.items()}
    if spec["type"] == "numeric":
        return {"answer": str(key.get("value", key.get("min")))}
    if spec["type"] == "ordering":  # each served step gets its place
        return {f"answer-{pos(step)}": str(place) for place, step in enumerate(key["order"], 1)}
    return {"answer": key}


def attempt(app: Flask, attempt_id: int) -> ExamAttempt:
    with Session(engine_of(app)) as s:
        found = s.get(ExamAttempt, attempt_id)
        assert found is not None
        return found


def set_deadline(app: Flask, attempt_id: int, delta: timedelta) -> None:
    with Session(engine_of(app)) as s:
        row = s.get(ExamAttempt, attempt_id)
        assert row is not None
        row.deadline_at = utcnow() + delta
        s.commit()


# --- eligibility and start ---------------------------------------------------------------------


def test_start_page_shows_the_rules(as_role: Any) -> None:
    page = as_role("learner").get(f"/exams/{EXAM}").get_data(as_text=True)
    assert "6, drawn at random for you" in page and "15 minutes" in page
    assert "at least 80 % overall" in page and "Start the exam" in page


def test_learner_without_the_course_is_told_why_and_cannot_start(app: Flask, as_role: Any) -> None:
    newcomer = as_role("new-learner")
    page = newcomer.get(f"/exams/{EXAM}").get_data(as_text=True)
    assert "Complete the course this exam requires first." in page
    assert "Start the exam" not in page
    response = post(newcomer, f"/exams/{EXAM}/start")
    assert response.status_code == 409
    with Session(engine_of(app)) as s:
        assert s.exec(select(ExamAttempt)).all() == []


def test_starting_twice_resumes_the_same_attempt(app: Flask, learner: FlaskClient) -> None:
    first = start(learner)
    assert start(learner) == first
    other_tab = english_client(app)
    login(other_tab, "learner@example.org")
    assert start(other_tab) == first
    record = attempt(app, first)
    assert record.fingerprint and record.seed and record.expected_score is not None
    assert len(slots(app, first)) == 6


# --- taking it -----------------------------------------------------------------------------------


def test_answers_survive_reload_logout_and_a_second_tab(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    (slot1, spec1), (slot2, spec2) = slots(app, attempt_id)[:2]
    answer = right_answer(slot1, spec1)
    response = post(learner, f"/attempts/{attempt_id}/1", {**answer, "flag": "1", "go": "next"})
    assert response.headers["Location"] == f"/attempts/{attempt_id}/2"
    saved = learner.post(
        f"/attempts/{attempt_id}/2/save",
        data=right_answer(slot2, spec2),
        headers={"X-CSRFToken": csrf_token(learner)},
    )
    assert saved.status_code == 200 and saved.json == {
        "saved": True,
        "remaining": saved.json["remaining"],
    }
    post(learner, "/logout")
    again = english_client(app)
    login(again, "learner@example.org")
    page = again.get(f"/attempts/{attempt_id}/1").get_data(as_text=True)
    assert 'id="flag" name="flag" value="1" checked' in page
    stored = {s.number: (s.response, s.flagged) for s, _ in slots(app, attempt_id)}
    assert stored[1][1] is True and stored[1][0] is not None and stored[2][0] is not None
    summary = again.get(f"/attempts/{attempt_id}/summary").get_data(as_text=True)
    assert "2 of 6 questions answered; 1 flagged." in summary


def test_without_javascript_every_navigation_saves(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    (slot1, spec1), *_ = slots(app, attempt_id)
    post(learner, f"/attempts/{attempt_id}/1", {**right_answer(slot1, spec1), "go": "4"})
    assert slots(app, attempt_id)[0][0].response is not None


def test_served_html_and_json_never_hold_keys_or_feedback(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    served = slots(app, attempt_id)
    assert len(served) == 6  # the exam's six questions: each is looked at below
    feedback_checked = authored_checked = 0
    for slot, spec in served:
        page = learner.get(f"/attempts/{attempt_id}/{slot.number}").get_data(as_text=True)
        for lang_text in spec["text"].values():
            if lang_text.get("feedback"):
                assert lang_text["feedback"] not in page
                assert str(escape(lang_text["feedback"])) not in page
                feedback_checked += 1
        assert '"key"' not in page and "angoff" not in page and "difficulty" not in page
        # Inputs carry served positions: the authored option ids are nowhere on the page.
        for authored in slot.options + slot.prompts:
            assert f'value="{authored}"' not in page and f"answer-{authored}" not in page
            authored_checked += 1
        saved = learner.post(
            f"/attempts/{attempt_id}/{slot.number}/save",
            data={},
            headers={"X-CSRFToken": csrf_token(learner)},
        )
        assert set(saved.json) == {"saved", "remaining"}
    assert feedback_checked >= len(served) and authored_checked > 0


def test_forged_slot_option_and_other_learners_attempt(
    app: Flask, learner: FlaskClient, as_role: Any
) -> None:
    attempt_id = start(learner)
    assert learner.get(f"/attempts/{attempt_id}/99").status_code == 404
    assert post(learner, f"/attempts/{attempt_id}/99", {"answer": "a"}).status_code == 404
    forged = post(
        learner, f"/attempts/{attempt_id}/1", {"answer": "not-an-option", "answer-x": "y"}
    )
    assert forged.status_code == 400
    assert "That answer is not one this question offers." in forged.get_data(as_text=True)
    assert slots(app, attempt_id)[0][0].response is None
    intruder = as_role("manager")  # also a learner, but not this attempt's
    for url in (
        f"/attempts/{attempt_id}/1",
        f"/attempts/{attempt_id}/summary",
        f"/attempts/{attempt_id}/result",
    ):
        assert intruder.get(url).status_code == 404
    assert post(intruder, f"/attempts/{attempt_id}/1", {"answer": "a"}).status_code == 404
    assert post(intruder, f"/attempts/{attempt_id}/submit").status_code == 404
    assert attempt(app, attempt_id).submitted_at is None


def test_answer_without_csrf_is_refused(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    assert learner.post(f"/attempts/{attempt_id}/1/save", data={"answer": "a"}).status_code == 400
    assert learner.post(f"/attempts/{attempt_id}/1", data={"answer": "a"}).status_code == 400


# --- deadline ------------------------------------------------------------------------------------


def test_answer_after_the_deadline_is_refused_and_the_attempt_scored(
    app: Flask, learner: FlaskClient
) -> None:
    attempt_id = start(learner)
    (slot1, spec1), *_ = slots(app, attempt_id)
    post(learner, f"/attempts/{attempt_id}/1", right_answer(slot1, spec1))
    set_deadline(app, attempt_id, timedelta(seconds=-1))
    late = post(learner, f"/attempts/{attempt_id}/2", {"answer": "a", "go": "next"})
    assert late.headers["Location"] == f"/attempts/{attempt_id}/result"
    record = attempt(app, attempt_id)
    assert record.closed_by == "deadline" and record.score_percent == pytest.approx(
        100 / 6, abs=1e-3
    )
    assert slots(app, attempt_id)[1][0].response is None  # the late answer was not kept
    json_late = learner.post(
        f"/attempts/{attempt_id}/3/save",
        data={"answer": "a"},
        headers={"X-CSRFToken": csrf_token(learner)},
    )
    assert json_late.status_code == 409 and json_late.json["closed"] is True
    assert "Not passed" in learner.get(late.headers["Location"]).get_data(as_text=True)


def test_overdue_attempt_closes_on_the_next_request(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    set_deadline(app, attempt_id, timedelta(seconds=-5))
    response = learner.get(f"/attempts/{attempt_id}/1")
    assert response.headers["Location"] == f"/attempts/{attempt_id}/result"
    page = learner.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your time is up" in page and "submitted when the time ran out" in page
    record = attempt(app, attempt_id)
    assert record.submitted_at is not None and record.submitted_at <= record.deadline_at


def test_close_overdue_command_for_cron(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    out = app.test_cli_runner().invoke(args=["exams", "close-overdue"]).output
    assert "closed 0 overdue attempt(s); issued 0 certificate(s)" in out
    set_deadline(app, attempt_id, timedelta(minutes=-1))
    out = app.test_cli_runner().invoke(args=["exams", "close-overdue"]).output
    assert "closed 1 overdue attempt(s); issued 0 certificate(s)" in out
    assert attempt(app, attempt_id).closed_by == "deadline"


def test_extra_time_extends_an_attempt_in_progress(
    app: Flask, learner: FlaskClient, as_role: Any
) -> None:
    attempt_id = start(learner)
    before = attempt(app, attempt_id).deadline_at
    certifier = as_role("certifier")
    response = post(
        certifier,
        "/certify/extra-time",
        {
            "email": "learner@example.org",
            "exam": EXAM,
            "minutes": "10",
            "percent": "0",
            "reason": "Dysleksi",
        },
    )
    assert response.status_code == 302
    assert attempt(app, attempt_id).deadline_at == before + timedelta(minutes=10)
    bad = post(
        certifier,
        "/certify/extra-time",
        {"email": "nobody@example.org", "exam": EXAM, "minutes": "5"},
    )
    assert "There is no account with this e-mail address." in bad.get_data(as_text=True)
    bad = post(
        certifier,
        "/certify/extra-time",
        {"email": "learner@example.org", "exam": EXAM, "minutes": "-5"},
    )
    assert bad.status_code == 200 and "Number must be between 0 and 1440." in bad.get_data(
        as_text=True
    )
    assert (
        post(
            learner,
            "/certify/extra-time",
            {"email": "learner@example.org", "exam": EXAM, "minutes": "600"},
        ).status_code
        == 403
    )


# --- submit and result ---------------------------------------------------------------------------


def test_submit_twice_from_two_tabs_scores_once(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    for slot, spec in slots(app, attempt_id):
        post(learner, f"/attempts/{attempt_id}/{slot.number}", right_answer(slot, spec))
    other_tab = english_client(app)
    login(other_tab, "learner@example.org")
    assert post(learner, f"/attempts/{attempt_id}/submit").status_code == 302
    second = post(other_tab, f"/attempts/{attempt_id}/submit", follow_redirects=True)
    assert "submitted already; it was scored once" in second.get_data(as_text=True)
    with Session(engine_of(app)) as s:
        scored = s.exec(select(AuditEntry).where(AuditEntry.action == "attempt.scored")).all()
        kinds = s.exec(select(AttemptEvent.kind).where(AttemptEvent.attempt_id == attempt_id)).all()
        issued = s.exec(select(Certificate).where(Certificate.attempt_id == attempt_id)).all()
    assert len(scored) == 1 and kinds.count("scored") == 1
    assert len(issued) == 1  # the pass is certified once, by the submit that scored it
    record = attempt(app, attempt_id)
    assert record.passed and record.score_percent == 100.0
    assert (
        post(learner, f"/attempts/{attempt_id}/1", {"answer": "a"})
        .headers["Location"]
        .endswith("/result")
    )


def test_result_shows_topics_and_the_answers_review_policy(
    app: Flask, learner: FlaskClient
) -> None:
    attempt_id = start(learner, PRACTICE)
    post(learner, f"/attempts/{attempt_id}/submit")
    page = learner.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "Not passed" in page and "SDGs and Nordic practice" in page
    # The practice test's policy is 'answers': right answers and explanations are shown now,
    # and another attempt may start at once (no cooldown: decision 0010).
    feedback = next(spec["text"]["en"]["feedback"] for _, spec in slots(app, attempt_id))
    assert "Right answer" in page and str(escape(feedback)) in page
    assert "Your next attempt opens" not in page
    assert start(learner, PRACTICE) != attempt_id


def test_topics_policy_shows_no_item_at_all(app: Flask, learner: FlaskClient) -> None:
    with Session(engine_of(app)) as s:
        version = s.exec(select(ExamVersion).where(ExamVersion.exam_id == EXAM)).one()
        version.spec = {**version.spec, "review": "topics"}
        s.commit()
    attempt_id = start(learner)
    post(learner, f"/attempts/{attempt_id}/submit")
    page = learner.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "Result per topic" in page and "Your answers" not in page
    for _, spec in slots(app, attempt_id):
        assert str(escape(spec["text"]["en"]["stem"])) not in page


def test_result_before_submitting_goes_to_the_summary(learner: FlaskClient) -> None:
    attempt_id = start(learner)
    response = learner.get(f"/attempts/{attempt_id}/result")
    assert response.headers["Location"] == f"/attempts/{attempt_id}/summary"


def test_cooldown_after_a_failed_attempt(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    post(learner, f"/attempts/{attempt_id}/submit")
    page = learner.get(f"/exams/{EXAM}").get_data(as_text=True)
    assert "You must wait before your next attempt." in page and "Not passed" in page
    assert post(learner, f"/exams/{EXAM}/start").status_code == 409


# --- SQL statements per request do not grow with the exam ---------------------------------------


def _bank(root: Path, items: int) -> None:
    bank = root / "question_banks" / "qc"
    (bank / "items").mkdir(parents=True)
    (bank / "exams").mkdir()
    (bank / "bank.yaml").write_text(
        "id: qc\nlanguages: [en]\ntitle: {en: QC}\ntopics:\n  - {id: t, title: {en: T}}\n"
    )
    entries = [
        {
            "id": f"q-{i}",
            "topic": "t",
            "type": "single_choice",
            "key": "a",
            "source": "s",
            "angoff": 0.5 + (i % 10) / 40,
            "text": {"en": {"stem": f"Q{i}", "options": {"a": "A", "b": "B", "c": "C"}}},
        }
        for i in range(items)
    ]
    (bank / "items" / "all.yaml").write_text(json.dumps({"items": entries}))
    for n in (10, items):
        (bank / "exams" / f"qc-{n}.yaml").write_text(
            json.dumps(
                {
                    "id": f"qc-{n}",
                    "title": {"en": "QC"},
                    "time_limit_minutes": 60,
                    "blueprint": [{"topic": "t", "items": n}],
                    "pass_rules": {"overall_percent": 50},
                }
            )
        )


def test_page_and_save_use_the_same_number_of_statements_for_10_and_100_items(
    app: Flask, learner: FlaskClient, tmp_path: Path
) -> None:
    _bank(tmp_path, 100)
    content = load_content(tmp_path / "courses", tmp_path / "question_banks", tmp_path)
    assert content.problems == []
    with Session(engine_of(app)) as s:
        sync_content(session=s, content=content, now=utcnow())
        s.commit()
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    counts = {}
    for n in (10, 100):
        attempt_id = start(learner, f"qc-{n}")
        token = csrf_token(learner)
        event.listen(engine_of(app), "before_cursor_execute", count)
        statements.clear()
        assert learner.get(f"/attempts/{attempt_id}/5").status_code == 200
        page = len(statements)
        statements.clear()
        saved = learner.post(
            f"/attempts/{attempt_id}/5/save", data={"answer": "2"}, headers={"X-CSRFToken": token}
        )
        assert saved.status_code == 200
        save = len(statements)
        event.remove(engine_of(app), "before_cursor_execute", count)
        counts[n] = (page, save)
    assert counts[10] == counts[100], counts
    print("statements (page, save):", counts)
    assert counts[10][0] <= 12 and counts[10][1] <= 12, counts


def test_each_start_counts_exposure_and_a_retake_gets_unseen_items(
    app: Flask, learner: FlaskClient
) -> None:
    first = start(learner)
    with Session(engine_of(app)) as s:
        assert sum(s.exec(select(ItemExposure.served)).all()) == 6
    post(learner, f"/attempts/{first}/submit")
    with Session(engine_of(app)) as s:  # the one-day cooldown has passed
        row = s.get(ExamAttempt, first)
        assert row is not None and row.submitted_at is not None
        row.submitted_at -= timedelta(days=2)
        row.started_at -= timedelta(days=2)
        s.commit()
    second = start(learner)
    assert second != first
    seen_first = {spec["id"] for _, spec in slots(app, first)}
    seen_second = {spec["id"] for _, spec in slots(app, second)}
    # 12 items in the pool, 6 a form: the retake takes every unseen item it can. Two items of
    # one enemy group never share a form, so a group of two unseen items gives one place only.
    with Session(engine_of(app)) as s:
        group = dict(
            s.exec(
                select(Item.key, Item.enemy_group).where(Item.topic == "sdgs", Item.pool == "")
            ).all()
        )
    unseen = {key for key in group if key not in seen_first}
    placeable = len({group[k] or k for k in unseen})
    assert len(seen_first & seen_second) == 6 - min(6, placeable), (seen_first, seen_second)
    assert len({group[k] for k in seen_second if group[k]}) == len(
        [k for k in seen_second if group[k]]
    )
    with Session(engine_of(app)) as s:
        assert sum(s.exec(select(ItemExposure.served)).all()) == 12


def test_answers_survive_a_restart_of_the_server(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    (slot1, spec1), *_ = slots(app, attempt_id)
    post(learner, f"/attempts/{attempt_id}/1", right_answer(slot1, spec1))
    restarted = make_app(Path(app.instance_path), DATABASE_URL=app.config["DATABASE_URL"])
    client = english_client(restarted)
    login(client, "learner@example.org")
    page = client.get(f"/attempts/{attempt_id}/summary").get_data(as_text=True)
    assert "1 of 6 questions answered" in page
    engine_of(restarted).dispose()
