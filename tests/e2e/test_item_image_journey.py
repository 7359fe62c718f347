"""An item's image in a real browser: shown after the stem with its alt text, axe-clean."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from elearn.db import engine_of
from elearn.domain.images import image_name
from elearn.models import Course, CourseModule, Item, ItemVersion
from tests.conftest import COURSE
from tests.e2e.conftest import axe_check
from tests.e2e.test_journeys import sign_in
from tests.web.test_item_images import PNG

MODULE = "01-what-is-sustainability"


def test_a_knowledge_check_question_shows_its_image(
    page: Page, live_server: str, live_app: Flask, shots: Path
) -> None:
    alt = {"nb": "Et rødt kvadrat", "en": "A red square", "da": "Et rødt kvadrat"}
    with Session(engine_of(live_app)) as s:
        course = s.get(Course, COURSE)
        assert course is not None
        bank_id = course.spec["practice_bank"]
        module = s.exec(
            select(CourseModule).where(
                CourseModule.course_id == COURSE, CourseModule.module_id == MODULE
            )
        ).one()
        item = s.exec(
            select(Item).where(Item.bank_id == bank_id, Item.key == module.spec["check"][0])
        ).one()
        version_id = item.current_version_id
        version = s.get(ItemVersion, version_id)
        assert version is not None
        before = dict(version.spec)
        version.spec = {**before, "images": [{"file": image_name(PNG), "alt": alt}]}
        s.add(version)
        s.commit()
    media = Path(live_app.config["QUESTION_BANKS_DIR"]) / bank_id / "media"
    media.mkdir(exist_ok=True)
    (media / image_name(PNG)).write_bytes(PNG)
    try:
        sign_in(page, live_server, "learner@example.org")
        page.goto(f"{live_server}/courses/{COURSE}/modules/{MODULE}")
        image = page.locator(".item-images img").first
        expect(image).to_be_visible()
        assert image.get_attribute("alt") in alt.values()
        assert image.evaluate("img => img.complete && img.naturalWidth") == 120  # loaded
        axe_check(page, "knowledge check with an image")
        image.scroll_into_view_if_needed()
        page.screenshot(path=shots / "30-check-image.png", full_page=False)
    finally:
        with Session(engine_of(live_app)) as s:
            version = s.get(ItemVersion, version_id)
            assert version is not None
            version.spec = before
            s.add(version)
            s.commit()
