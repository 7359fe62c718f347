"""A busy server does not lose an answer: the page keeps it, says "not saved yet", and sends it
again (also after a reload) until the server has it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, Route, expect
from sqlmodel import Session, col, select
from werkzeug.serving import make_server

from elearn.db import engine_of
from elearn.models import AttemptSlot
from tests.conftest import Template, clear_limits, copy_instance, make_app
from tests.e2e.test_exam_journey import answer_first_question, expect_answered
from tests.e2e.test_journeys import sign_in

UNSAVED = "Not saved yet"


@pytest.fixture(scope="module")
def own_server(
    template_db: Template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Flask]]:
    """A server of this module's own, so that its learner starts from nothing."""
    instance = tmp_path_factory.mktemp("e2e-save")
    app = make_app(instance, TESTING=False, **copy_instance(template_db, instance))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    clear_limits(app)
    engine_of(app).dispose()


def saved_answers(app: Flask) -> int:
    with Session(engine_of(app)) as s:
        return len(s.exec(select(AttemptSlot).where(col(AttemptSlot.response).is_not(None))).all())


def test_an_answer_refused_by_a_busy_server_is_kept_and_sent_again(
    page: Page, own_server: tuple[str, Flask]
) -> None:
    base, app = own_server
    tries: list[str] = []
    state = {"busy": True}

    def server_busy_at_first(route: Route) -> Any:
        tries.append(route.request.url)
        if state["busy"]:
            return route.fulfill(
                status=503,
                headers={"Retry-After": "1"},
                content_type="application/json",
                body=json.dumps({"saved": False, "busy": True, "retry_after": 1}),
            )
        return route.continue_()

    sign_in(page, base, "learner@example.org")
    page.goto(f"{base}/exams/sdg-basics")
    page.get_by_role("button", name="Start the exam").click()
    expect(page.get_by_text("Question 1 of").first).to_be_visible()
    page.route("**/save", server_busy_at_first)

    answered = answer_first_question(page)
    status = page.locator("#save-status")
    expect(status).to_contain_text(UNSAVED)
    expect(status).to_have_attribute("role", "status")
    kept = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('elearn.unsaved:'))")
    assert len(kept) == 1, kept
    assert saved_answers(app) == 0

    # A reload while the server is still busy: the kept answer is back on the page, still unsaved.
    page.reload()
    expect_answered(answered)
    expect(status).to_contain_text(UNSAVED)
    before = len(tries)
    for _ in range(50):  # sent again by itself, without a click: on load, then after a pause
        if len(tries) >= max(3, before + 1):
            break
        page.wait_for_timeout(100)
    assert len(tries) >= 3, tries
    assert saved_answers(app) == 0

    state["busy"] = False
    expect(status).to_have_text("Saved", timeout=15_000)
    assert page.evaluate("Object.keys(localStorage).length") == 0
    assert saved_answers(app) == 1
    page.reload()
    expect_answered(answered)
    expect(status).to_have_text("")
