"""User journeys in a real browser (Debian's Chromium), with axe-core on every page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import axe_check

COURSE = "sustainability-intro"


def sign_in(page: Page, base: str, email: str, password: str = "elearn-demo") -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_learner_signs_in_and_works_through_a_module(
    page: Page, live_server: str, shots: Path
) -> None:
    page.goto(live_server + "/")
    axe_check(page, "landing")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

    sign_in(page, live_server, "learner2@example.org", "wrong-password")
    expect(page.get_by_text("The e-mail address or the password is not right.")).to_be_visible()
    axe_check(page, "login with error")
    page.screenshot(path=shots / "01-login-error.png", full_page=True)

    sign_in(page, live_server, "learner2@example.org")
    expect(page.get_by_role("heading", name="Welcome, Lars Lærling")).to_be_visible()
    axe_check(page, "home")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").click()
    axe_check(page, "catalogue")
    page.get_by_role("link", name="Sustainability in the public sector").first.click()
    expect(page).to_have_url(re.compile(f"/courses/{COURSE}$"))
    axe_check(page, "course")
    page.screenshot(path=shots / "02-course.png", full_page=True)

    page.get_by_role("link", name="Start the course").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What is sustainable development?")
    axe_check(page, "module")
    box = page.get_by_role("textbox").first
    box.fill("The economic dimension was new to me.")
    page.get_by_role("button", name="Save my reflections").click()
    expect(page.get_by_text("Your reflections are saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("textbox").first).to_have_value("The economic dimension was new to me.")
    page.screenshot(path=shots / "03-module.png", full_page=True)

    page.get_by_role("button", name="Mark as done and continue").click()
    expect(page.get_by_text("Module 2 of 5")).to_be_visible()
    page.goto(f"{live_server}/courses/{COURSE}")
    expect(page.get_by_text("1 of 5 modules done").first).to_be_visible()
    page.get_by_role("link", name="Continue").first.click()
    expect(page).to_have_url(re.compile("/modules/02-agenda-2030$"))

    page.get_by_role("link", name="My reflections").click()
    expect(page.get_by_text("The economic dimension was new to me.")).to_be_visible()
    axe_check(page, "my reflections")

    page.goto(f"{live_server}/courses/no-such-course")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    axe_check(page, "404")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()


def test_language_switch_and_danish_course(page: Page, live_server: str, shots: Path) -> None:
    sign_in(page, live_server, "manager@example.org")
    page.get_by_label("Language").select_option("da")
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "da")
    page.goto(f"{live_server}/courses/{COURSE}/modules/01-what-is-sustainability")
    expect(page.get_by_role("heading", level=1)).to_contain_text("bæredygtig")
    axe_check(page, "module in Danish")
    page.screenshot(path=shots / "04-module-da.png", full_page=True)
    page.get_by_label("Sprog").select_option("nb")
    page.get_by_role("button", name="Skift sprog").click()
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.get_by_role("button", name="Logg ut")).to_be_visible()


def test_admin_pages_are_accessible(page: Page, live_server: str, shots: Path) -> None:
    sign_in(page, live_server, "admin@example.org")
    page.get_by_role("link", name="Administration").click()
    axe_check(page, "admin users")
    page.get_by_role("link", name="Lena Læring").click()
    axe_check(page, "admin user form")
    page.get_by_role("button", name="Make a reset link").click()
    expect(page.get_by_label("Reset link")).to_have_value(re.compile(r"/reset/"))
    axe_check(page, "reset link")
    for name in ("Settings", "Course evaluations", "Content"):
        page.get_by_role("link", name=name, exact=True).click()
        axe_check(page, f"admin {name}")
        if name == "Settings":
            expect(page.get_by_role("heading", name="Learning records (xAPI)")).to_be_visible()
            page.screenshot(path=shots / "05-admin-settings.png", full_page=True)
    page.screenshot(path=shots / "05-admin-content.png", full_page=True)


def test_small_screen_layout(page: Page, live_server: str, shots: Path) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_server, "learner@example.org")
    page.goto(f"{live_server}/courses/{COURSE}/modules/03-local-action")
    axe_check(page, "module on a phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways on a phone"
    page.screenshot(path=shots / "06-module-phone.png", full_page=True)


def test_account_page_signs_out_everywhere(page: Page, live_server: str, browser: Any) -> None:
    other = browser.new_context(locale="en-GB")  # the same person on another device
    phone = other.new_page()
    sign_in(phone, live_server, "eva.utlopt@example.org")
    sign_in(page, live_server, "eva.utlopt@example.org")
    page.goto(f"{live_server}/account")
    expect(page.get_by_text("You are signed in on 2 devices or browsers.")).to_be_visible()
    axe_check(page, "account")
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_text("You are signed out everywhere, on this device too.")).to_be_visible()
    phone.goto(f"{live_server}/account")
    expect(phone).to_have_url(re.compile("/login"))
    other.close()
