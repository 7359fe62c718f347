"""A modified-Angoff study in a real browser: a certifier runs it, two panellists rate in two
rounds, and the results page recommends the cut worked out by hand; axe-core on every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in

# The 18 items of topic sdgs in the main pool, which quick-certificate draws 6 from.
ITEMS = [f"sdg-{n:03d}" for n in (*range(1, 13), 101, 102, 104, 105, 106, 107)]


def person(browser: Browser, args: dict[str, Any], base: str, email: str) -> Page:
    """A browser of one's own (own cookies), signed in."""
    page = browser.new_context(**args).new_page()
    sign_in(page, base, email)
    return page


def rate(page: Page, ratings: dict[str, str]) -> None:
    for key, value in ratings.items():
        page.get_by_label(f"Your rating of {key}").select_option(value)
    page.get_by_role("button", name="Save my ratings").click()
    expect(page.get_by_text("Your ratings are saved")).to_be_visible()


def open_topic(page: Page, base: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Standard setting").click()
    page.get_by_role("link", name="Study").first.click()
    page.get_by_role("link", name="sdgs").click()


def test_a_panel_sets_a_standard_in_two_rounds(
    page: Page,
    browser: Browser,
    browser_context_args: dict[str, Any],
    live_server: str,
    shots: Path,
) -> None:
    # The certifier opens a study of the knowledge test with the two demo panellists.
    sign_in(page, live_server, "certifier@example.org")
    page.get_by_role("link", name="Certification").click()
    page.get_by_role("navigation", name="Certification").get_by_role(
        "link", name="Standard setting"
    ).click()
    axe_check(page, "studies")
    page.get_by_label("Exam", exact=True).select_option("quick-certificate")
    page.get_by_label("Pernille Panel").check()
    page.get_by_label("Per Paneldeltaker").check()
    page.get_by_label("Purpose").fill("Cut score of the knowledge test, first panel")
    page.screenshot(path=shots / "20-study-open.png", full_page=True)
    page.get_by_role("button", name="Open the study").click()
    expect(page.get_by_text("The study is open")).to_be_visible()
    study_url = page.url
    axe_check(page, "study")

    # Round 1, each on their own: P1 0.80 on sdg-001..006 and 0.60 on the rest, P2 0.70 on all.
    one = person(browser, browser_context_args, live_server, "panellist@example.org")
    open_topic(one, live_server)
    expect(one.get_by_text("Round 1 (independent)")).to_be_visible()
    expect(one.get_by_text("Right answer").first).to_be_visible()
    axe_check(one, "rating sheet, round 1")
    rate(one, {k: "0.80" for k in ITEMS[:6]} | {k: "0.60" for k in ITEMS[6:]})
    one.screenshot(path=shots / "21-rating-round-1.png", full_page=True)

    two = person(browser, browser_context_args, live_server, "panellist2@example.org")
    two.get_by_role("navigation", name="Main").get_by_role("link", name="Standard setting").click()
    axe_check(two, "panel home")
    two.get_by_role("link", name="Study").first.click()
    axe_check(two, "panel study")
    two.get_by_role("link", name="sdgs").click()
    expect(two.get_by_text("The panel in round 1")).to_have_count(0)  # nobody else's ratings
    rate(two, dict.fromkeys(ITEMS, "0.70"))

    # The certifier sees both done and opens round 2.
    page.goto(study_url)
    expect(page.get_by_role("cell", name="18 / 18")).to_have_count(2)
    page.get_by_role("button", name="End round 1 and open round 2").click()
    expect(page.get_by_text("Round 2 is open")).to_be_visible()
    page.screenshot(path=shots / "22-study-round-2.png", full_page=True)

    # Round 2: the spread of round 1 without names; P2 moves towards P1 on sdg-001..003,
    # P1 moves sdg-012 up to 0.65.
    two.reload()
    expect(two.get_by_text("The panel in round 1 (2 ratings): 0.70 · 0.80").first).to_be_visible()
    expect(two.get_by_text("lowest 0.60, median 0.65, highest 0.70").first).to_be_visible()
    expect(two.get_by_text("not shown below 30 scored responses").first).to_be_visible()
    axe_check(two, "rating sheet, round 2")
    two.screenshot(path=shots / "23-rating-round-2.png", full_page=True)
    rate(two, dict.fromkeys(ITEMS[:3], "0.80"))
    expect(two.get_by_text("(revised)")).to_have_count(3)
    one.reload()
    rate(one, {"sdg-012": "0.65"})

    # The certifier closes the study. By hand, final ratings:
    #   P1: sdg-001..006 0.80, sdg-012 0.65, the other 11 items 0.60
    #   P2: sdg-001..003 0.80, the other 15 items 0.70
    # item means: 3 × 0.80, 3 × 0.75, 11 × 0.65, 1 × 0.675 → the one topic's mean
    # (2.4 + 2.25 + 7.15 + 0.675) / 18 = 0.693056; the form draws only this topic, so the cut
    # is 69.31 %. Own cuts: P1 12.05 / 18 = 66.94 %, P2 12.9 / 18 = 71.67 %; their SD
    # 4.7222 / √2 = 3.34, the standard error 3.34 / √2 = 2.36.
    page.goto(study_url)
    page.get_by_role("button", name="Close the study after round 2").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Results of study")
    expect(page.locator("#recommended-cut")).to_contain_text(
        "69.3 % (standard error 2.4 percentage points)"
    )
    expect(page.get_by_text("3.3 percentage points, over 2 panellist(s)")).to_be_visible()
    axe_check(page, "study results")
    page.screenshot(path=shots / "24-study-results.png", full_page=True)
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("heading", name="Decision")).to_be_visible()
    page.screenshot(path=shots / "25-study-record-print.png", full_page=True)
    page.emulate_media(media="screen")

    # The statistics page puts the exam's cut beside the study's recommendation.
    page.goto(f"{live_server}/certify/exams/quick-certificate/statistics")
    expect(page.locator("#cut-in-file")).to_contain_text("80 %")
    expect(page.locator("#cut-recommended")).to_contain_text("69.3 %")
    page.locator("summary", has_text="Angoff ratings the draw uses").click()
    expect(page.get_by_role("cell", name="author estimate").first).to_be_visible()
    axe_check(page, "statistics with the standard")
    page.screenshot(path=shots / "26-statistics-standard.png", full_page=True)

    # A closed study takes no more ratings.
    one.reload()
    expect(one.get_by_role("button", name="Save my ratings")).to_have_count(0)
    one.context.close()
    two.context.close()
