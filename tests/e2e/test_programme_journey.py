"""A programme in a real browser: an adviser runs an organisation through the four phases of a
Rejsehold-like programme (kick-off, start meeting with an approved agreement and the head of
procurement present, advisory activities done, closing workshop with the evaluation answered)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from elearn.db import open_session
from elearn.models import (
    EventRegistration,
    MailMessage,
    Participation,
    Programme,
    ProgrammeEvaluation,
)
from elearn.services import accounts
from elearn.services import programmes as service
from elearn.services.demo import DEMO_PASSWORD
from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in

ORG = "Østby kommune (e2e)"
HEAD = "chef.e2e@ostby.example.org"


def _setup(app: Flask) -> tuple[int, int, int]:
    """An accepted organisation with its head of procurement, registered for the start meeting."""
    now = datetime.now(UTC)
    with open_session(app) as s:
        programme = s.exec(select(Programme).where(Programme.kind == "advisory")).one()
        assert programme.id is not None
        unit = accounts.ensure_unit_path(session=s, path=ORG)
        unit.org_type = "municipality"
        user = accounts.create_user(
            session=s,
            email=HEAD,
            name="Øystein Østby",
            password=DEMO_PASSWORD,
            now=now,
            roles=("learner",),
            org_unit_id=unit.id,
        )
        assert unit.id is not None
        part = Participation(
            programme_id=programme.id, unit_id=unit.id, status="accepted", created_at=now
        )
        s.add(part)
        start_meeting = service.phases(session=s, programme_id=programme.id)[1].events[0]
        reg = EventRegistration(
            event_id=start_meeting.id or 0,
            user_id=user.id,
            nonce=secrets.token_hex(12),
            name=user.name,
            email=user.email,
            mode="in_person",
            language="en",
            status="confirmed",
            created_at=now,
            confirmed_at=now,
        )
        s.add(reg)
        s.commit()
        assert part.id is not None and reg.id is not None
        return programme.id, part.id, reg.id


def test_adviser_runs_an_organisation_through_the_four_phases(
    page: Page, live_app: Flask, live_server: str, shots: Path
) -> None:
    programme_id, part_id, reg_id = _setup(live_app)
    organisation = f"{live_server}/programmes/{programme_id}/organisations/{part_id}"
    complete = page.get_by_role("button", name="Mark the current phase complete")

    sign_in(page, live_server, "adviser@example.org")
    page.get_by_role("link", name="Programmes", exact=True).click()
    page.get_by_role("link", name="Rejseholdet for grønne indkøb (demo)").click()
    axe_check(page, "programme")
    page.get_by_role("link", name=ORG).click()
    axe_check(page, "organisation")

    # Phase 1, the kick-off: the contact person is named, the phase is complete.
    page.get_by_label("E-mail").fill(HEAD)
    page.get_by_label("Role").fill("Head of procurement")
    page.get_by_role("button", name="Add contact person").click()
    expect(page.get_by_text("The contact person is saved.")).to_be_visible()
    complete.click()
    expect(page.get_by_text("The phase is complete.")).to_be_visible()

    # Phase 2, the start meeting: the activity plan and the agreement.
    page.get_by_text("Add an activity").click()
    page.get_by_label("Activity", exact=True).fill("Life-cycle costs in the cleaning tender")
    page.get_by_label("Owner").fill("Øystein Østby")
    page.get_by_label("Due date").fill("2030-01-31")
    page.get_by_role("button", name="Add activity").click()
    expect(page.get_by_text("The activity is added to the plan.")).to_be_visible()
    page.get_by_label("Agreement text").fill("We agree on the activities in the plan.")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_text("Version 1 of the agreement is saved")).to_be_visible()
    axe_check(page, "organisation with plan and agreement")
    # Not yet: the agreement is not approved and the head of procurement has not been there.
    complete.click()
    expect(page.get_by_role("heading", name="That could not be done")).to_be_visible()
    expect(page.get_by_text("must be approved")).to_be_visible()

    # The organisation's contact approves it in the app.
    contact = page.context.browser.new_page()  # type: ignore[union-attr]
    sign_in(contact, live_server, HEAD)
    contact.get_by_role("link", name="My programmes").click()
    contact.get_by_role("link", name="Rejseholdet for grønne indkøb (demo)").click()
    axe_check(contact, "contact's programme")
    contact.get_by_role("button", name="Approve version 1 of the agreement").click()
    expect(contact.get_by_text("You approved version 1 of the agreement.")).to_be_visible()
    contact.screenshot(path=shots / "60-programme-agreement-approved.png", full_page=True)

    # Still not: the head of procurement has not been at the start meeting.
    page.goto(organisation)
    expect(page.get_by_text("Approved", exact=True).first).to_be_visible()
    complete.click()
    expect(page.get_by_text("required participation is not met")).to_be_visible()
    # The organiser checks them in at the start meeting (the events journey does it by hand).
    with open_session(live_app) as s:
        reg = s.get(EventRegistration, reg_id)
        assert reg is not None
        reg.checked_in_at = datetime.now(UTC)
        s.add(reg)
        s.commit()
    page.goto(organisation)
    expect(page.get_by_text("Met", exact=True)).to_be_visible()
    complete.click()
    expect(page.get_by_text("The phase is complete.")).to_be_visible()

    # Phase 3, the advisory activities: done.
    page.get_by_label("Status of Life-cycle costs in the cleaning tender").select_option("done")
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_text("The activity is saved.")).to_be_visible()
    complete.click()
    expect(page.get_by_text("The phase is complete.")).to_be_visible()
    with open_session(live_app) as s:
        invitation = s.exec(
            select(MailMessage)
            .where(
                MailMessage.to_address == HEAD,
                MailMessage.template == "programmes/evaluation",
            )
            .order_by(col(MailMessage.id).desc())
        ).first()
        assert invitation is not None and f"/me/programmes/{part_id}/evaluation" in (
            invitation.body_text
        )

    # Phase 4, the closing workshop: the contact answers the evaluation.
    contact.goto(f"{live_server}/me/programmes/{part_id}")
    contact.get_by_role("link", name="Answer the closing evaluation").click()
    axe_check(contact, "evaluation form")
    for group in (
        "How useful was the programme for your organisation?",
        "How good was the advice you were given?",
        "How much of it will your organisation go on using?",
    ):
        contact.get_by_role("group", name=group).get_by_label("4").check()
    contact.get_by_label("What did your organisation gain?").fill("A TCO habit.")
    contact.get_by_role("button", name="Send the evaluation").click()
    expect(contact.get_by_text("Thank you: your evaluation is saved.")).to_be_visible()
    contact.close()

    page.goto(organisation)
    complete.click()
    expect(page.get_by_text("Every phase is complete.").first).to_be_visible()
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_role("row", name=ORG)).to_contain_text("4/4")
    axe_check(page, "dashboard")
    page.screenshot(path=shots / "61-programme-dashboard.png", full_page=True)
    page.get_by_role("link", name="Closing evaluation").click()
    expect(page.get_by_role("row", name=ORG)).to_contain_text("4.0")
    axe_check(page, "evaluation summary")
    with open_session(live_app) as s:
        assert s.exec(
            select(ProgrammeEvaluation).where(ProgrammeEvaluation.participation_id == part_id)
        ).one().ratings == {"useful": 4, "advice": 4, "use": 4}
