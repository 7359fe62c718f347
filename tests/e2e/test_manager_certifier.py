"""A manager and a certifier at work in a real browser, with axe-core on every page."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in


def test_manager_follows_their_staff(page: Page, live_server: str, shots: Path) -> None:
    sign_in(page, live_server, "manager@example.org")
    # Another journey may have saved a language on this demo profile: choose English here.
    page.locator("#lang-select").select_option("en")
    page.locator("form[action='/language'] button").click()
    page.get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", level=1, name="Eksempel kommune")).to_be_visible()
    axe_check(page, "manager unit")
    page.screenshot(path=shots / "12-manager-unit.png", full_page=True)
    page.get_by_role(
        "link", name="Sustainability in the public sector, an introduction"
    ).first.click()
    expect(page.get_by_role("img", name="Share who completed, by unit")).to_be_visible()
    axe_check(page, "manager drill-down")
    page.screenshot(path=shots / "13-manager-chart.png", full_page=True)
    page.get_by_role("link", name="Lena Læring").first.click()
    expect(page.get_by_role("heading", name="Lena Læring")).to_be_visible()
    axe_check(page, "manager person")


def test_certifier_reviews_statistics_and_audit(page: Page, live_server: str, shots: Path) -> None:
    sign_in(page, live_server, "certifier@example.org")
    page.get_by_role("link", name="Certification").click()
    nav = page.get_by_role("navigation", name="Certification")
    for name in ("Attempts", "Item statistics", "Extra time", "Audit log"):
        nav.get_by_role("link", name=name).click()
        axe_check(page, f"certifier {name}")
    expect(page.get_by_text("The chain holds")).to_be_visible()
    page.screenshot(path=shots / "14-audit.png", full_page=True)
