"""A learner sees their data and asks for erasure; an administrator decides (Chromium, axe)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect
from sqlmodel import Session

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.services import accounts
from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in

PERSON = "privacy.e2e@example.org"  # made here: no other journey may lose its person


def test_a_learner_sees_their_data_and_an_administrator_erases_it(
    page: Page, live_app: Flask, live_server: str, shots: Path
) -> None:
    with Session(engine_of(live_app)) as session:
        accounts.create_user(
            session=session,
            email=PERSON,
            name="Petra Personvern",
            password="elearn-demo",
            now=utcnow(),
        )
        session.commit()
    page.goto(f"{live_server}/privacy")
    expect(page.get_by_role("heading", name="Privacy notice")).to_be_visible()
    axe_check(page, "privacy notice")
    page.screenshot(path=shots / "privacy-01-notice.png", full_page=True)

    sign_in(page, live_server, PERSON)
    page.goto(f"{live_server}/account")
    page.get_by_role("link", name="See, download or erase the data held about you").click()
    axe_check(page, "your data")
    page.get_by_role("link", name="See your data").click()
    expect(page.get_by_text(PERSON).first).to_be_visible()
    axe_check(page, "the data itself")
    page.screenshot(path=shots / "privacy-02-data.png", full_page=True)
    page.go_back()
    page.get_by_label("Anything the administrator should know (optional)").fill("I have left.")
    page.get_by_role("button", name="Ask to erase my data").click()
    expect(page.get_by_text("Your request is sent.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, "admin@example.org")
    page.goto(f"{live_server}/admin/privacy")
    axe_check(page, "admin privacy")
    page.screenshot(path=shots / "privacy-03-requests.png", full_page=True)
    page.get_by_label("Erase everything; revoke valid certificates").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("The person's data is erased.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, PERSON)
    expect(page.get_by_text("The e-mail address or the password is not right.")).to_be_visible()
