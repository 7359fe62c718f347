"""Images in items reach the candidate in front of the item, and nobody else (decision 0021)."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from elearn.db import engine_of
from elearn.domain.images import image_name
from elearn.models import AttemptSlot, Item, ItemVersion
from tests.web.test_exams import start


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain PNG of one colour, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _png(120, 40, (200, 30, 30))  # a red bar


def give_image(app: Flask, attempt_id: int, number: int, data: bytes) -> tuple[str, str]:
    """Show ``data`` with the item of a slot (as an imported item would); (file, item key)."""
    name = image_name(data)
    with Session(engine_of(app)) as s:
        slot = s.exec(
            select(AttemptSlot).where(
                AttemptSlot.attempt_id == attempt_id, AttemptSlot.number == number
            )
        ).one()
        version = s.get(ItemVersion, slot.item_version_id)
        assert version is not None
        item = s.get(Item, version.item_id)
        assert item is not None
        alt = {"nb": "Et rødt kvadrat", "en": "A red square", "da": "Et rødt kvadrat"}
        version.spec = {**version.spec, "images": [{"file": name, "alt": alt}]}
        s.add(version)
        s.commit()
        media = Path(app.config["QUESTION_BANKS_DIR"]) / item.bank_id / "media"
        media.mkdir(exist_ok=True)
        (media / name).write_bytes(data)
        return name, item.key


def test_the_exam_page_shows_the_image_with_alt_text_and_serves_it_safely(
    app: Flask, learner: FlaskClient, as_role: Any
) -> None:
    attempt_id = start(learner)
    name, key = give_image(app, attempt_id, 1, PNG)
    page = learner.get(f"/attempts/{attempt_id}/1").get_data(as_text=True)
    url = f"/attempts/{attempt_id}/1/images/0"
    found = re.search(r'<img src="([^"]+)" alt="([^"]+)">', page)
    assert found and found.group(1) == url and found.group(2) in ("Et rødt kvadrat", "A red square")
    assert name not in page and key not in found.group(0)  # the URL names no item or file

    image = learner.get(url)
    assert image.status_code == 200 and image.data == PNG
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert image.headers["Cache-Control"] == "no-store"

    # Only the images of the item in front of them: another position, another question, a
    # made-up attempt, another learner's attempt, or no sign-in at all.
    assert learner.get(f"/attempts/{attempt_id}/1/images/1").status_code == 404
    assert learner.get(f"/attempts/{attempt_id}/2/images/0").status_code == 404
    assert learner.get(f"/attempts/{attempt_id}/99/images/0").status_code == 404
    assert learner.get("/attempts/999999/1/images/0").status_code == 404
    assert as_role("manager").get(url).status_code == 404
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_file_that_is_no_longer_the_image_is_not_served(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    name, _key = give_image(app, attempt_id, 1, PNG)
    with Session(engine_of(app)) as s:
        version_id = s.exec(
            select(AttemptSlot.item_version_id).where(
                col(AttemptSlot.attempt_id) == attempt_id, AttemptSlot.number == 1
            )
        ).one()
        bank_id = s.exec(
            select(Item.bank_id)
            .join(ItemVersion, col(ItemVersion.item_id) == col(Item.id))
            .where(ItemVersion.id == version_id)
        ).one()
    path = Path(app.config["QUESTION_BANKS_DIR"]) / bank_id / "media" / name
    path.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
    assert learner.get(f"/attempts/{attempt_id}/1/images/0").status_code == 404
    path.unlink()
    assert learner.get(f"/attempts/{attempt_id}/1/images/0").status_code == 404


def test_the_knowledge_check_shows_and_serves_the_image(app: Flask, learner: FlaskClient) -> None:
    from elearn.models import Course, CourseModule
    from tests.conftest import COURSE

    module_id = "01-what-is-sustainability"
    with Session(engine_of(app)) as s:
        course = s.get(Course, COURSE)
        assert course is not None
        bank_id = course.spec["practice_bank"]
        module = s.exec(
            select(CourseModule).where(
                CourseModule.course_id == COURSE, CourseModule.module_id == module_id
            )
        ).one()
        first_key = module.spec["check"][0]
        item = s.exec(select(Item).where(Item.bank_id == bank_id, Item.key == first_key)).one()
        version = s.get(ItemVersion, item.current_version_id)
        assert version is not None
        alt = {"nb": "Et rødt kvadrat", "en": "A red square", "da": "Et rødt kvadrat"}
        version.spec = {**version.spec, "images": [{"file": image_name(PNG), "alt": alt}]}
        s.add(version)
        s.commit()
    media = Path(app.config["QUESTION_BANKS_DIR"]) / bank_id / "media"
    media.mkdir(exist_ok=True)
    (media / image_name(PNG)).write_bytes(PNG)
    base = f"/courses/{COURSE}/modules/{module_id}"
    page = learner.get(base).get_data(as_text=True)
    assert f'<img src="{base}/check/1/images/0" alt="' in page
    image = learner.get(f"{base}/check/1/images/0")
    assert image.status_code == 200 and image.data == PNG
    assert image.headers["Content-Type"] == "image/png"
    assert learner.get(f"{base}/check/2/images/0").status_code == 404
    assert learner.get(f"{base}/check/99/images/0").status_code == 404
    assert learner.get(f"/courses/{COURSE}/modules/nope/check/1/images/0").status_code == 404


def test_after_the_attempt_only_a_result_that_shows_the_items_shows_their_images(
    app: Flask, learner: FlaskClient
) -> None:
    from tests.conftest import post
    from tests.web.test_exams import PRACTICE

    hidden = start(learner)  # quick-certificate: its result shows topics only
    give_image(app, hidden, 1, PNG)
    assert learner.get(f"/attempts/{hidden}/1/images/0").status_code == 200
    assert post(learner, f"/attempts/{hidden}/submit").status_code == 302
    assert learner.get(f"/attempts/{hidden}/1/images/0").status_code == 404

    shown = start(learner, PRACTICE)  # its result shows the answers, so the questions again
    give_image(app, shown, 1, PNG)
    assert post(learner, f"/attempts/{shown}/submit").status_code == 302
    result = learner.get(f"/attempts/{shown}/result").get_data(as_text=True)
    assert f'<img src="/attempts/{shown}/1/images/0" alt="' in result
    assert learner.get(f"/attempts/{shown}/1/images/0").status_code == 200


def test_a_certifier_sees_the_image_where_they_see_the_attempt(
    app: Flask, learner: FlaskClient, as_role: Any
) -> None:
    attempt_id = start(learner)
    give_image(app, attempt_id, 1, PNG)
    certifier = as_role("certifier")
    page = certifier.get(f"/certify/attempts/{attempt_id}").get_data(as_text=True)
    url = f"/certify/attempts/{attempt_id}/1/images/0"
    assert f'<img src="{url}" alt="' in page
    image = certifier.get(url)
    assert image.status_code == 200 and image.data == PNG
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert certifier.get(f"/certify/attempts/{attempt_id}/1/images/1").status_code == 404
    assert certifier.get(f"/certify/attempts/{attempt_id}/2/images/0").status_code == 404
    assert learner.get(url).status_code == 403  # a learner is no certifier, even of their own
