"""Sitting an exam in a real browser: start, answer, reload, answers kept, submit, result."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in


def answer_first_question(page: Page) -> Locator:
    """Answer whatever type the randomly drawn first question is; return the control used."""
    choice = page.locator(
        "#answer-form input[name=answer][type=radio], "
        "#answer-form input[name=answer][type=checkbox]"
    )
    if choice.count():
        choice.first.check()
        return choice.first
    select = page.locator("#answer-form select")
    if select.count():
        select.first.select_option(index=1)
        return select.first
    text = page.locator("#answer-form input[name=answer][type=text]")
    text.fill("12")
    text.dispatch_event("change")
    return text


def expect_answered(control: Locator) -> None:
    kind = control.evaluate("e => e.tagName + ':' + (e.type || '')")
    if kind in ("INPUT:radio", "INPUT:checkbox"):
        expect(control).to_be_checked()
    elif kind.startswith("SELECT"):
        expect(control).not_to_have_value("")
    else:
        expect(control).to_have_value("12")


def test_learner_sits_the_exam(page: Page, live_server: str, shots: Path) -> None:
    sign_in(page, live_server, "learner@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Exams").click()
    axe_check(page, "exams")
    page.get_by_role("link", name="Knowledge test").click()
    expect(page.get_by_role("heading", name="The rules")).to_be_visible()
    axe_check(page, "exam start")
    page.get_by_role("button", name="Start the exam").click()

    expect(page.get_by_text("Question 1 of 6").first).to_be_visible()
    expect(page.locator("#timer-value")).to_have_text(re.compile(r"^1[45]:\d\d$"))
    axe_check(page, "exam item")
    answered = answer_first_question(page)
    expect(page.get_by_text("Saved")).to_be_visible()  # saved by the script, no button pressed
    page.get_by_label("Flag this question to come back to it").check()
    page.screenshot(path=shots / "07-exam-item.png", full_page=True)

    page.reload()
    expect_answered(answered)
    expect(page.get_by_label("Flag this question to come back to it")).to_be_checked()

    page.get_by_role("button", name="Save and next").click()
    expect(page.get_by_text("Question 2 of 6").first).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Review and submit")).click()
    expect(page.get_by_text("1 of 6 questions answered; 1 flagged.")).to_be_visible()
    axe_check(page, "exam summary")
    page.screenshot(path=shots / "08-exam-summary.png", full_page=True)
    page.get_by_role("button", name="Submit for scoring").click()

    expect(page.get_by_role("heading", name="Your result")).to_be_visible()
    expect(page.get_by_role("table", name="Result per topic")).to_be_visible()
    axe_check(page, "exam result")
    page.screenshot(path=shots / "09-exam-result.png", full_page=True)
    page.go_back()
    page.go_back()
    page.reload()
    expect(page).to_have_url(re.compile(r"/result$"))
