"""An ordering question in a real browser: by keyboard with the script, and without any script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in

MODULE = "/courses/green-procurement-dk/modules/03-travelling-advisory-team"
RIGHT = [
    "A joint kick-off workshop for all participating organisations",
    "A kick-off meeting at each organisation, attended by the head of procurement",
    "Specific advice on the organisation's own purchases and tenders",
    "A closing workshop summing up the programme",
]


def question(page: Page) -> Any:
    return page.locator("fieldset.ordering")


def shown_order(page: Page) -> list[str]:
    labels = question(page).locator("li.step label").all_inner_texts()
    return [text.split(":", 1)[-1].strip() for text in labels]


def test_steps_are_put_in_order_with_the_keyboard(
    page: Page, live_server: str, shots: Path
) -> None:
    sign_in(page, live_server, "learner@example.org")
    page.goto(live_server + MODULE)
    steps = question(page)
    expect(steps.locator("button", has_text="Move up")).to_have_count(4)  # the script ran
    # Place each step with its list box, from the keyboard: the list follows.
    for place, text in enumerate(RIGHT, start=1):
        box = page.get_by_label(f"Place of: {text}")
        box.focus()
        box.select_option(str(place))
    assert shown_order(page) == RIGHT
    expect(steps.locator("[data-ordering-status]")).to_contain_text("is now in place 4 of 4")
    # Move the first step down and back up with the buttons, pressing Enter on them.
    steps.get_by_role("button", name=f"Move down: {RIGHT[0]}").focus()
    page.keyboard.press("Enter")
    assert shown_order(page)[:2] == [RIGHT[1], RIGHT[0]]
    expect(page.get_by_label(f"Place of: {RIGHT[0]}")).to_have_value("2")
    steps.get_by_role("button", name=f"Move up: {RIGHT[0]}").focus()
    page.keyboard.press("Enter")
    assert shown_order(page) == RIGHT
    axe_check(page, "ordering question")
    steps.screenshot(path=str(shots / "ordering-question.png"))
    page.get_by_role("button", name="Check my answers").click()
    result = page.locator(".check-item").nth(3)
    expect(result.locator(".check-result")).to_contain_text("Right")
    axe_check(page, "ordering checked")


def test_steps_are_put_in_order_without_javascript(
    browser: Any, live_server: str, shots: Path
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    try:
        sign_in(page, live_server, "learner@example.org")
        page.goto(live_server + MODULE)
        expect(question(page).locator("button")).to_have_count(0)  # no script, no buttons
        # Two steps in one place: the page says so and keeps what was chosen.
        for place, text in enumerate(RIGHT, start=1):
            page.get_by_label(f"Place of: {text}").select_option(str(min(place, 3)))
        page.get_by_role("button", name="Check my answers").click()
        item = page.locator(".check-item").nth(3)
        expect(item).to_contain_text("Give each step its own place")
        expect(page.get_by_label(f"Place of: {RIGHT[3]}")).to_have_value("3")
        page.get_by_label(f"Place of: {RIGHT[3]}").select_option("4")
        page.get_by_role("button", name="Check my answers").click()
        expect(page.locator(".check-item").nth(3).locator(".check-result")).to_contain_text("Right")
        page.screenshot(path=str(shots / "ordering-no-script.png"), full_page=True)
    finally:
        context.close()
