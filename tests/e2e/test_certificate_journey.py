"""Certificates in a real browser: a verifier checks a code; holders and certifiers see theirs."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in


def test_certifier_finds_a_certificate_and_anyone_verifies_it(
    page: Page, browser: Browser, live_server: str, shots: Path
) -> None:
    sign_in(page, live_server, "certifier@example.org")
    page.get_by_role("link", name="Certification").click()
    axe_check(page, "sign-off queue")
    page.get_by_role("navigation", name="Certification").get_by_role(
        "link", name="Certificates"
    ).click()
    axe_check(page, "certificate list")
    row = page.get_by_role("row").filter(has_text="Kari Gyldig")
    code = row.get_by_role("link").first.inner_text()
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", code)
    row.get_by_role("link").first.click()
    axe_check(page, "certificate detail")

    visitor = browser.new_page(locale="en-GB")
    visitor.goto(f"{live_server}/verify")
    visitor.get_by_label("Verification code").fill(code.lower().replace("-", " "))
    visitor.get_by_role("button", name="Verify").click()
    expect(visitor.locator("#state")).to_contain_text("Valid")
    expect(visitor.get_by_text("Kari Gyldig")).to_be_visible()
    axe_check(visitor, "verify page")
    visitor.screenshot(path=shots / "10-verify.png", full_page=True)
    pdf = visitor.request.get(f"{live_server}/verify/{code}/pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    visitor.goto(f"{live_server}/verify")
    expect(visitor.locator("#signing-fingerprint")).to_contain_text(":")
    visitor.get_by_label("Certificate PDF", exact=True).set_input_files(
        files=[{"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": pdf.body()}]
    )
    visitor.get_by_role("button", name="Check the PDF").click()
    expect(visitor.locator("#outcome")).to_contain_text("Genuine and valid")
    axe_check(visitor, "PDF check")
    # The issuer and the achievement resolve to public pages a browser can read.
    visitor.goto(f"{live_server}/verify/{code}")
    visitor.get_by_role("link", name="The issuer").click()
    expect(visitor.get_by_role("heading", name="Certificate that signs the PDFs")).to_be_visible()
    axe_check(visitor, "issuer profile")
    visitor.goto(f"{live_server}/achievements/quick-certificate")
    expect(visitor.get_by_role("heading", name="What it takes")).to_be_visible()
    expect(visitor.locator("#topic-sdgs")).to_be_visible()
    axe_check(visitor, "achievement page")
    visitor.goto(f"{live_server}/verify/ZZZZ-ZZZZ-ZZZZ")
    expect(visitor.get_by_role("heading", name="No certificate found")).to_be_visible()
    axe_check(visitor, "unknown code")
    visitor.close()


def test_holder_sees_their_certificate(page: Page, live_server: str, shots: Path) -> None:
    sign_in(page, live_server, "kari.gyldig@example.org")
    page.get_by_role("link", name="My certificates").click()
    heading = page.get_by_role("heading", level=2)
    expect(heading).to_contain_text("ertifiseringsprøve")  # issued in Norwegian: marked as such
    expect(heading).to_have_attribute("lang", "nb")
    expect(page.get_by_text("Valid", exact=True)).to_be_visible()
    axe_check(page, "my certificates")
    page.screenshot(path=shots / "11-my-certificates.png", full_page=True)
