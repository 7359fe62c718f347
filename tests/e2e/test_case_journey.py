"""A case in a real browser: a participant writes and submits it with an attachment, an editor
publishes it, and a visitor who is not signed in finds it by searching."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in

WRITER = "kari.gyldig@example.org"
EDITOR = "editor@example.org"
TITLE = "Heat pumps in every nursery"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_case_from_submission_through_review_to_publication_and_search(
    browser: Browser, live_server: str, shots: Path
) -> None:
    size = {"locale": "en-GB", "viewport": {"width": 1280, "height": 900}}
    writer = browser.new_context(**size).new_page()
    sign_in(writer, live_server, WRITER)
    writer.get_by_role("link", name="Cases", exact=True).click()
    expect(writer.get_by_role("heading", name="Case bank")).to_be_visible()
    writer.get_by_role("link", name="Share a case").click()
    axe_check(writer, "case form")
    writer.get_by_label("Language of this text").select_option("en")
    writer.get_by_label("Title", exact=True).fill(TITLE)
    writer.get_by_label("Organisation").fill("Testvik municipality")
    writer.get_by_label("Country").select_option("NO")
    writer.get_by_label("Year").fill("2025")
    writer.get_by_label("Category (product or service group)").select_option("energy")
    writer.get_by_label("Goal 7", exact=True).check()
    writer.get_by_label("Goal 13", exact=True).check()
    writer.get_by_label("Summary").fill("Oil boilers in twelve nurseries were replaced by pumps.")
    writer.get_by_label("CO₂e reduced").fill("About 40 tonnes a year")
    writer.get_by_label("Basis for the CO₂e figure").fill("Metered oil use before and after")
    writer.get_by_label("Lessons learned").fill("Involve the caretakers from the start.")
    writer.screenshot(path=shots / "40-case-form.png", full_page=True)
    writer.get_by_role("button", name="Save draft").click()
    expect(writer.get_by_text("Your draft is saved.")).to_be_visible()
    expect(writer.get_by_role("heading", name=TITLE)).to_be_visible()

    # A file that is no PDF is refused with the reason; a PDF is kept.
    writer.get_by_label("Attach a PDF or an image").set_input_files(
        {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": b"<html>not a pdf</html>"}
    )
    writer.get_by_role("button", name="Attach", exact=True).click()
    expect(writer.get_by_text("Only PDF files and images")).to_be_visible()
    writer.get_by_label("Attach a PDF or an image").set_input_files(
        {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    writer.get_by_role("button", name="Attach", exact=True).click()
    expect(writer.get_by_text("The file is attached.")).to_be_visible()
    expect(writer.get_by_role("link", name="plan.pdf")).to_be_visible()
    axe_check(writer, "case draft")
    writer.get_by_role("button", name="Submit for review").click()
    expect(writer.get_by_text("Your case is submitted.")).to_be_visible()
    case_url = writer.url

    editor = browser.new_context(**size).new_page()
    sign_in(editor, live_server, EDITOR)
    editor.get_by_role("link", name="Case review").click()
    axe_check(editor, "review queue")
    editor.get_by_role("link", name=TITLE).click()
    expect(editor.get_by_text("Submitted for review").first).to_be_visible()
    axe_check(editor, "case under review")
    editor.get_by_label("Comment to the writer").fill("Clear basis, thank you.")
    editor.screenshot(path=shots / "41-case-review.png", full_page=True)
    editor.get_by_role("button", name="Publish").click()
    expect(editor.get_by_text("The case is published.")).to_be_visible()

    visitor = browser.new_context(**size).new_page()
    visitor.goto(f"{live_server}/cases")
    visitor.get_by_label("Search title and text").fill("heat pumps nurseries")
    visitor.get_by_label("Sustainable development goal").select_option("7")
    visitor.get_by_role("button", name="Search").click()
    expect(visitor.get_by_text("Cases found: 1")).to_be_visible()
    axe_check(visitor, "case search")
    visitor.get_by_role("link", name=TITLE).click()
    assert visitor.url.split("?")[0] == case_url.split("?")[0]
    expect(visitor.locator('meta[property="og:title"]')).to_have_attribute("content", TITLE)
    expect(visitor.get_by_text("Metered oil use before and after")).to_be_visible()
    expect(visitor.get_by_text("Clear basis, thank you.")).to_have_count(0)
    axe_check(visitor, "published case")
    visitor.screenshot(path=shots / "42-case-published.png", full_page=True)
    # A course module links to the published cases of its topic.
    writer.goto(f"{live_server}/courses/life-cycle-costs/modules/01-what-counts")
    cases_aside = writer.get_by_role("complementary", name="Cases on this topic")
    expect(
        cases_aside.get_by_role("link", name="Floor scrubbers chosen by life-cycle cost")
    ).to_be_visible()
    axe_check(writer, "module with its cases")
    cases_aside.screenshot(path=shots / "43-module-cases.png")
    for page in (writer, editor, visitor):
        page.context.close()
