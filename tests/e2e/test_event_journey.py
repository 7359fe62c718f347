"""Events in a real browser: a guest registers, confirms by the e-mailed link, gets the .ics and
cancels, and the person waiting gets the place; an organiser checks people in and uploads slides."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from elearn.db import open_session
from elearn.domain import events as rules
from elearn.models import EventRegistration, MailAttachment, MailMessage, User
from elearn.services import events as service
from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in

GUEST = "guest.e2e@example.net"
WAITER = "panellist2@example.org"  # no other journey registers this person for an event
TITLE = "Browser workshop"


def _make_event(app: Flask) -> int:
    now = datetime.now(UTC)
    start = (now + timedelta(days=5)).replace(tzinfo=None, second=0, microsecond=0)
    with open_session(app) as s:
        organiser = s.exec(select(User.id).where(User.email == "organiser@example.org")).one()
        event = service.create_event(
            session=s,
            draft=service.Draft(
                kind="workshop",
                language="en",
                title={"en": TITLE},
                description={"en": "Hands-on."},
                sessions=[rules.SessionTime(start, start + timedelta(hours=3), "Europe/Oslo")],
                deadline=now + timedelta(days=4),
                place="Town hall, room 2",
                capacity_in_person=1,
                questions=["Dietary needs?"],
                contact_name="Olav",
                contact_email="organiser@example.org",
            ),
            organiser_ids=[],
            created_by=organiser,
            now=now,
        )
        s.commit()
        assert event.id is not None
        return event.id


def _mail(app: Flask, to: str, template: str) -> MailMessage:
    with open_session(app) as s:
        found = s.exec(
            select(MailMessage)
            .where(MailMessage.to_address == to, MailMessage.template == f"events/{template}")
            .order_by(col(MailMessage.id).desc())
        ).first()
        assert found is not None, (to, template)
        return found


def _link(message: MailMessage, base: str) -> str:
    found = re.search(
        r"https?://\S+/events/registration/[0-9a-f.]+(?:/confirm)?", message.body_text
    )
    assert found, message.body_text
    return base + "/events/" + found.group(0).split("/events/", 1)[1]


def test_guest_registers_confirms_gets_the_invitation_and_cancels_and_the_next_gets_the_place(
    page: Page, live_app: Flask, live_server: str, shots: Path
) -> None:
    from icalendar import Calendar

    event_id = _make_event(live_app)
    page.goto(f"{live_server}/events/")
    axe_check(page, "events")
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    axe_check(page, "event page")
    page.get_by_role("link", name="Register").click()
    expect(page.get_by_role("heading", name="What we store")).to_be_visible()
    page.get_by_label("Full name").fill("Gina Gjest")
    page.get_by_label("E-mail").fill(GUEST)
    page.get_by_label("Organisation", exact=True).fill("Nabokommune")
    page.get_by_label("Type of organisation").select_option("municipality")
    page.get_by_label("Dietary needs?").fill("Vegetarian")
    axe_check(page, "registration form")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    axe_check(page, "check your e-mail")
    page.screenshot(path=shots / "40-event-check-email.png", full_page=True)

    # The link in the e-mail: a page with a button (a mail scanner's visit confirms nothing).
    page.goto(_link(_mail(live_app, GUEST, "confirm_address"), live_server))
    axe_check(page, "confirm")
    page.get_by_role("button", name="Confirm my registration").click()
    status = page.locator("#registration-status")
    expect(status).to_contain_text(f"You are registered for {TITLE}.")
    expect(status).to_contain_text("Vegetarian")
    expect(page.get_by_role("img", name="QR code to check in Gina Gjest")).to_be_visible()
    axe_check(page, "registration confirmed")
    page.screenshot(path=shots / "41-event-registered.png", full_page=True)
    personal = page.url

    # The confirmation e-mail carries the invitation, in the session's own time zone.
    confirmation = _mail(live_app, GUEST, "confirmation")
    with open_session(live_app) as s:
        ics = s.exec(
            select(MailAttachment).where(MailAttachment.message_id == confirmation.id)
        ).one()
    vevent = next(iter(Calendar.from_ical(ics.data).walk("VEVENT")))
    assert str(vevent["DTSTART"].dt.tzinfo) == "Europe/Oslo"
    # The same invitation from the page's link.
    href = page.get_by_role("link", name="Add to your calendar (.ics)").get_attribute("href")
    download = page.request.get(live_server + (href or ""))
    assert download.ok and b"TZID=Europe/Oslo" in download.body()

    # The event is full now: a signed-in person goes on the waiting list.
    other = page.context.browser.new_page()  # type: ignore[union-attr]
    sign_in(other, live_server, WAITER)
    other.goto(f"{live_server}/events/{event_id}/register")
    other.get_by_label("Organisation", exact=True).fill("Eksempel kommune")
    other.get_by_label("Type of organisation").select_option("municipality")
    other.get_by_role("button", name="Register").click()
    expect(other.locator("#registration-status")).to_contain_text("waiting list")
    axe_check(other, "waiting list")

    # The guest cancels; the place goes to the one waiting, who is told by e-mail.
    page.goto(personal)
    page.get_by_role("button", name="Cancel my registration").click()
    expect(page.locator("#registration-status")).to_contain_text("cancelled")
    other.reload()
    expect(other.locator("#registration-status")).to_contain_text(
        f"You are registered for {TITLE}."
    )
    assert "A place became free" in _mail(live_app, WAITER, "promoted").body_text
    other.screenshot(path=shots / "42-event-promoted.png", full_page=True)
    other.close()


def test_organiser_checks_people_in_by_name_and_by_code_and_uploads_slides(
    page: Page, live_app: Flask, live_server: str, shots: Path, tmp_path: Path
) -> None:
    event_id = _make_event(live_app)
    now = datetime.now(UTC)
    site = service.Site(live_server, live_app.secret_key.encode())  # type: ignore[union-attr]
    with open_session(live_app) as s:
        reg = service.register(
            session=s,
            event_id=event_id,
            person=service.user_person(
                session=s,
                user_id=s.exec(select(User.id).where(User.email == "learner@example.org")).one(),
            ),
            mode="in_person",
            answers={"q1": "None"},
            lang="en",
            site=site,
            now=now,
        ).registration
        s.commit()
        check_in_url = site.links(reg).check_in
        reg_id = reg.id

    sign_in(page, live_server, "organiser@example.org")
    page.get_by_role("link", name="Organise events").click()
    expect(page.get_by_role("link", name=TITLE).first).to_be_visible()
    page.goto(f"{live_server}/organise/events/{event_id}")
    expect(page.get_by_role("cell", name="Lena Læring learner@example.org")).to_be_visible()
    axe_check(page, "organiser's event")
    page.get_by_role("button", name="Check in Lena Læring").click()
    expect(page.get_by_text("Lena Læring is checked in.")).to_be_visible()
    page.get_by_role("button", name="Undo check-in of Lena Læring").click()

    # The QR code on the confirmation is this address: the organiser's phone opens it.
    page.goto(check_in_url)
    axe_check(page, "check-in by code")
    page.get_by_role("button", name="Check in Lena Læring").click()
    expect(page.get_by_text("Lena Læring is checked in.")).to_be_visible()
    with open_session(live_app) as s:
        row = s.get(EventRegistration, reg_id)
        assert row is not None and row.checked_in_at is not None

    slides = tmp_path / "slides.pdf"
    slides.write_bytes(b"%PDF-1.4\n% slides\n")
    page.get_by_label("Title").fill("Slides")
    page.get_by_label("File (PDF, PNG or JPEG)").set_input_files(str(slides))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("The file is uploaded")).to_be_visible()
    page.screenshot(path=shots / "43-event-organiser.png", full_page=True)

    # The participant finds the slides on the event's page.
    participant = page.context.browser.new_page()  # type: ignore[union-attr]
    sign_in(participant, live_server, "learner@example.org")
    participant.goto(f"{live_server}/events/{event_id}")
    response = participant.request.get(
        live_server + (participant.get_by_role("link", name="Slides").get_attribute("href") or "")
    )
    assert response.ok and response.body().startswith(b"%PDF")
    assert response.headers["x-content-type-options"] == "nosniff"
    participant.close()
