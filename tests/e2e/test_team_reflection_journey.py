"""Team reflection in a real browser: a manager schedules it for the unit after a course, one
learner answers (one answer shared, one private), a colleague sees only the shared one, and the
manager records the next step the unit's page shows."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect

from tests.conftest import COURSE
from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in


def test_manager_runs_a_team_reflection_with_shared_and_private_answers(
    page: Page, live_app: Flask, live_server: str, shots: Path
) -> None:
    sign_in(page, live_server, "manager@example.org")
    page.get_by_role("link", name="Staff").click()
    page.get_by_role("link", name="Eksempel kommune").first.click()
    page.get_by_text("Schedule a team reflection after a course").click()
    page.get_by_label("Course", exact=True).select_option(COURSE)
    page.get_by_label("Start", exact=True).fill("2030-03-04T13:00")
    page.get_by_label("End", exact=True).fill("2030-03-04T14:00")
    page.get_by_label("Place", exact=True).fill("Meeting room 2")
    axe_check(page, "unit page with the reflection form")
    page.get_by_role("button", name="Schedule team reflection").click()
    expect(page.get_by_text("The reflection session is scheduled")).to_be_visible()
    session_url = page.url
    rid = session_url.rstrip("/").rsplit("/", 1)[1]

    learner = page.context.browser.new_page()  # type: ignore[union-attr]
    sign_in(learner, live_server, "learner@example.org")
    learner.get_by_role("link", name="Team reflections").click()
    learner.goto(f"{live_server}/me/team-reflections/{rid}")
    axe_check(learner, "team reflection answers")
    learner.get_by_role("textbox", name="What did you read?").fill(
        "Only for me: the module on LCC."
    )
    learner.get_by_role("textbox", name="What did you like?").fill("The cleaning tender example.")
    learner.get_by_role(
        "checkbox", name=re.compile("Share with the group.*What did you like")
    ).check()
    learner.get_by_role("button", name="Save my answers").click()
    expect(learner.get_by_text("Your answers are saved.")).to_be_visible()
    learner.close()

    colleague = page.context.browser.new_page()  # type: ignore[union-attr]
    sign_in(colleague, live_server, "learner2@example.org")
    colleague.goto(f"{live_server}/me/team-reflections/{rid}")
    expect(colleague.get_by_text("The cleaning tender example.")).to_be_visible()
    expect(colleague.get_by_text("Only for me")).to_have_count(0)
    colleague.close()

    page.goto(session_url)
    expect(page.get_by_text("The cleaning tender example.")).to_be_visible()
    expect(page.get_by_text("Only for me")).to_have_count(0)
    page.get_by_label("Next step").fill("Use the LCC tool in the next tender")
    page.get_by_label("Owner").fill("Lena")
    page.get_by_label("Due date").fill("2030-04-01")
    page.get_by_role("button", name="Record next step").click()
    expect(page.get_by_text("The next step is saved")).to_be_visible()
    axe_check(page, "team reflection for the manager")
    page.get_by_role("link", name="Eksempel kommune").first.click()
    expect(page.get_by_text("Use the LCC tool in the next tender")).to_be_visible()
    page.screenshot(path=shots / "62-team-reflection-unit.png", full_page=True)
