"""A candidate waits for a scheduled sitting in a real browser and starts when the time comes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.models import User
from elearn.services import sittings
from elearn.services.certificates import authority_of
from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in

CANDIDATE = "rune.tilbakekalt@example.org"  # no other journey uses this person
EXAM = "soa-baerekraft-ovingsprove"  # no course required


def test_candidate_waits_in_the_waiting_room_and_starts_at_the_time(
    page: Page, live_app: Flask, live_server: str, shots: Path
) -> None:
    now = utcnow()
    with live_app.app_context(), Session(engine_of(live_app)) as session:
        certifier = session.exec(select(User.id).where(User.email == "certifier@example.org")).one()
        scheduled = sittings.schedule(
            session=session,
            authority=authority_of(app=live_app),
            exam_id=EXAM,
            starts_at=now + timedelta(seconds=8),
            late_minutes=5,
            place="online",
            invigilator_email="certifier@example.org",
            emails=[CANDIDATE],
            unit_id=None,
            created_by=certifier,
            now=now,
        )
        session.commit()
        sitting_id = scheduled.sitting.id

    sign_in(page, live_server, CANDIDATE)
    page.get_by_role("link", name="online").click()  # the booking on the candidate's home page
    expect(page.get_by_role("heading", name=f"Waiting room: {EXAM}")).to_be_visible()
    start = page.get_by_role("button", name="Start")
    expect(start).to_be_disabled()
    expect(page.locator("#countdown")).to_contain_text("Starts in")
    axe_check(page, "waiting room")
    page.screenshot(path=shots / "30-waiting-room.png", full_page=True)

    # The page's script counts down, asks the server, and shows Start enabled at the time.
    expect(start).to_be_enabled(timeout=20_000)
    expect(page.locator("#countdown")).to_have_text("The sitting has started.")
    start.click()
    expect(page.get_by_text("Question 1 of").first).to_be_visible()
    assert f"/sittings/{sitting_id}" not in page.url
    axe_check(page, "sitting's first question")
