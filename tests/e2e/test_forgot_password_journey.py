"""Forgot password in a real browser: ask for a link, the admin reads it in the development
mailbox (no SMTP server), the link sets a new password once; axe-core on every page."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from elearn.clock import utcnow
from elearn.db import open_session
from elearn.models import MailMessage
from elearn.services import accounts
from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in

EMAIL = "forgetful@example.org"  # made here: the other journeys' people keep their passwords


def test_forgot_password_by_e_mail(
    page: Page, live_app: Flask, live_server: str, shots: Path
) -> None:
    with open_session(live_app) as session:
        accounts.create_user(
            session=session,
            email=EMAIL,
            name="Frida Glemsk",
            password="old-password-1",
            now=utcnow(),
        )
        session.commit()

    page.goto(f"{live_server}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    axe_check(page, "forgot password")
    page.get_by_role("button", name="Send me a link").click()  # empty: refused on the page
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    axe_check(page, "forgot password with error")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status").filter(has_text=EMAIL)).to_be_visible()
    axe_check(page, "check your e-mail")
    page.screenshot(path=shots / "mail-01-check-your-email.png", full_page=True)

    # The newcomer without an SMTP server: the admin's local mailbox shows the message.
    admin = page.context.browser.new_context(locale="en-GB")  # type: ignore[union-attr]
    mailbox = admin.new_page()
    sign_in(mailbox, live_server, "admin@example.org")
    mailbox.goto(f"{live_server}/admin/mailbox")
    axe_check(mailbox, "mailbox")
    mailbox.get_by_role("row").filter(has_text=EMAIL).get_by_role("link").first.click()
    expect(mailbox.get_by_role("heading", level=1)).to_have_text(
        re.compile("Tilbakestill passordet ditt")
    )
    expect(
        mailbox.frame_locator("iframe.mail-html").get_by_text("Hei, Frida Glemsk!")
    ).to_be_visible()
    axe_check(mailbox, "mailbox message")
    mailbox.screenshot(path=shots / "mail-02-mailbox-message.png", full_page=True)
    mailbox.locator("iframe.mail-html").screenshot(path=shots / "mail-02b-mailbox-html.png")
    text = mailbox.locator("pre.mail-text").inner_text()
    admin.close()

    match = re.search(r"https?://[^/\s]+(/reset/\S+)", text)
    assert match, text
    link = live_server + match.group(1)
    page.goto(link)
    axe_check(page, "set a new password")
    page.get_by_label("New password", exact=True).fill("a-brand-new-pw")
    page.get_by_label("Repeat the new password").fill("a-brand-new-pw")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("Your new password is set. Sign in with it.")).to_be_visible()
    sign_in(page, live_server, EMAIL, "a-brand-new-pw")
    expect(page.get_by_role("heading", name="Welcome, Frida Glemsk")).to_be_visible()

    # Once: the same link again says it does not work, and offers a new one.
    page.goto(link)
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    axe_check(page, "spent link")
    expect(page.get_by_role("link", name="Get a new link by e-mail")).to_be_visible()
    page.screenshot(path=shots / "mail-03-spent-link.png", full_page=True)
    with open_session(live_app) as session:
        rows = session.exec(
            select(MailMessage).where(MailMessage.to_address == EMAIL).order_by(col(MailMessage.id))
        ).all()
        assert [r.template for r in rows] == ["password_reset"]
