"""A manager and a certifier at work in a real browser, with axe-core on every page."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from elearn.db import engine_of
from tests.conftest import Template, copy_instance, english_client, login, make_app
from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in
from tests.web.test_certify_desk import seed_weighted_attempts


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
    expect(page.get_by_text("Sealed through entry number")).to_be_visible()
    page.screenshot(path=shots / "14-audit.png", full_page=True)


@pytest.fixture(scope="module")
def weighted_server(
    template_db: Template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A live server whose exam has five submitted attempts on items of unequal marks."""
    instance = tmp_path_factory.mktemp("e2e-statistics")
    seeding = make_app(instance, **copy_instance(template_db, instance))
    client = english_client(seeding)
    assert login(client, "learner@example.org").status_code == 302
    seed_weighted_attempts(seeding, client)
    engine_of(seeding).dispose()
    app = make_app(instance, TESTING=False, DATABASE_URL=seeding.config["DATABASE_URL"])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_certifier_reads_the_statistics_charts(
    page: Page, weighted_server: str, shots: Path
) -> None:
    sign_in(page, weighted_server, "certifier@example.org")
    page.locator("#lang-select").select_option("en")
    page.locator("form[action='/language'] button").click()
    page.get_by_role("link", name="Certification").click()
    page.get_by_role("navigation", name="Certification").get_by_role(
        "link", name="Item statistics"
    ).click()
    page.locator("a[href='/certify/exams/quick-certificate/statistics']").click()
    page.get_by_label("Attempts counted").select_option("all")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("img", name="Number of attempts by total score")).to_be_visible()
    expect(page.get_by_role("img", name="Each item by facility")).to_be_visible()
    expect(page.get_by_role("table", name="Attempts by total score")).to_be_visible()
    expect(page.get_by_role("table", name="Items by facility and discrimination")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Intended weight")).to_be_visible()
    axe_check(page, "item statistics with charts")
    page.screenshot(path=shots / "15-item-statistics.png", full_page=True)


def test_certifier_reads_the_exposure_report(page: Page, weighted_server: str, shots: Path) -> None:
    sign_in(page, weighted_server, "certifier@example.org")
    page.locator("#lang-select").select_option("en")
    page.locator("form[action='/language'] button").click()
    page.goto(f"{weighted_server}/certify/statistics")
    page.get_by_role("link", name=re.compile(r"^Exposure\W+quick-certificate$")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Exposure")
    expect(page.get_by_role("table", name="Learners")).to_be_visible()
    expect(page.get_by_role("table", name="Items")).to_be_visible()
    axe_check(page, "exposure report")
    page.screenshot(path=shots / "16-exposure.png", full_page=True)
