"""Standard setting through the web: a certifier runs a modified-Angoff study, panellists rate,
the results recommend a cut, and the final ratings go back into the content files."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert
from sqlmodel import Session, col, func, select

from elearn.clock import utcnow
from elearn.config import PROJECT_ROOT
from elearn.db import engine_of
from elearn.domain.errors import Conflict
from elearn.models import (
    AttemptSlot,
    AuditEntry,
    Exam,
    ExamAttempt,
    Item,
    ItemPanelRating,
    ItemVersion,
    Study,
    StudyItem,
    StudyRating,
    User,
)
from elearn.services import accounts, standard_setting
from tests.conftest import (
    ROLE_USERS,
    Template,
    copy_instance,
    english_client,
    login,
    make_app,
    post,
)

EXAM = "quick-certificate"  # the test exam: 6 items of topic sdgs from the 18 of the main pool
TOPIC = "sdgs"
FIELD = re.compile(r'name="rating-(\d+)"')


def user_id(app: Flask, email: str) -> int:
    with Session(engine_of(app)) as s:
        found = s.exec(select(User.id).where(User.email == email)).one()
        assert found is not None
        return found


def open_study(app: Flask, client: FlaskClient, *emails: str) -> int:
    panel = [str(user_id(app, e)) for e in emails]
    response = post(client, "/certify/studies", {"exam": EXAM, "panellists": panel})
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.match(r"/certify/studies/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def items_of(client: FlaskClient, study_id: int) -> list[int]:
    page = client.get(f"/panel/studies/{study_id}/topics/{TOPIC}")
    assert page.status_code == 200, page.status_code
    return [int(i) for i in FIELD.findall(page.get_data(as_text=True))]


def rate(client: FlaskClient, study_id: int, ratings: dict[int, str]) -> Any:
    data = {f"rating-{item}": value for item, value in ratings.items()}
    return post(client, f"/panel/studies/{study_id}/topics/{TOPIC}", data)


def stored(app: Flask, study_id: int) -> list[tuple[int, int, int, float]]:
    with Session(engine_of(app)) as s:
        rows = s.exec(select(StudyRating).where(StudyRating.study_id == study_id)).all()
        return sorted((r.user_id, r.round, r.item_id, r.rating) for r in rows)


@pytest.fixture
def certifier(as_role: Any) -> FlaskClient:
    return as_role("certifier")


@pytest.fixture
def panel(as_role: Any) -> tuple[FlaskClient, FlaskClient]:
    return as_role("panellist"), as_role("panellist2")


def run_study(
    app: Flask, certifier: FlaskClient, panel: tuple[FlaskClient, FlaskClient]
) -> tuple[int, list[int]]:
    """Two panellists rate the 18 items: P1 0.70 everywhere; P2 0.60, then in round 2 revises
    the first nine to 0.70. Item means: nine at 0.70, nine at 0.65; the one topic's mean 0.675."""
    study_id = open_study(app, certifier, ROLE_USERS["panellist"], ROLE_USERS["panellist2"])
    one, two = panel
    items = items_of(one, study_id)
    assert len(items) == 18
    assert rate(one, study_id, dict.fromkeys(items, "0.70")).status_code == 302
    assert rate(two, study_id, dict.fromkeys(items, "0.60")).status_code == 302
    assert post(certifier, f"/certify/studies/{study_id}/round-2").status_code == 302
    revised = {item: "0.70" for item in items[:9]} | {item: "0.60" for item in items[9:]}
    assert rate(two, study_id, revised).status_code == 302
    return study_id, items


def test_a_study_from_opening_to_the_recommended_cut(
    app: Flask, certifier: FlaskClient, panel: tuple[FlaskClient, FlaskClient]
) -> None:
    study_id = open_study(app, certifier, ROLE_USERS["panellist"], ROLE_USERS["panellist2"])
    one, two = panel
    home = one.get("/panel/").get_data(as_text=True)
    assert f"/panel/studies/{study_id}" in home and "0 / 18" in home
    items = items_of(one, study_id)
    page = one.get(f"/panel/studies/{study_id}/topics/{TOPIC}").get_data(as_text=True)
    assert "Right answer" in page and "sdg-001" in page  # the panellist judges the item as keyed
    # Round 1: saved part-way, then finished; nobody sees the others' ratings.
    response = rate(one, study_id, dict.fromkeys(items[:4], "0.70"))
    assert response.status_code == 302
    assert "4 / 18" in one.get(f"/panel/studies/{study_id}").get_data(as_text=True)
    rate(one, study_id, dict.fromkeys(items, "0.70"))
    rate(two, study_id, dict.fromkeys(items, "0.60"))
    page = two.get(f"/panel/studies/{study_id}/topics/{TOPIC}").get_data(as_text=True)
    assert "The panel in round 1" not in page and "0.70 · " not in page
    follow = certifier.get(f"/certify/studies/{study_id}").get_data(as_text=True)
    assert follow.count("18 / 18") == 2
    # Round 2: the spread of round 1 without names; too few responses for a facility.
    post(certifier, f"/certify/studies/{study_id}/round-2")
    page = two.get(f"/panel/studies/{study_id}/topics/{TOPIC}").get_data(as_text=True)
    assert "The panel in round 1 (2 ratings): 0.60 · 0.70" in page
    assert "lowest 0.60, median 0.65, highest 0.70" in page
    assert "not shown below 30 scored responses" in page
    assert "Pernille" not in page  # the spread names nobody
    revised = {item: "0.70" for item in items[:9]} | {item: "0.60" for item in items[9:]}
    rate(two, study_id, revised)
    page = two.get(f"/panel/studies/{study_id}/topics/{TOPIC}").get_data(as_text=True)
    assert page.count("(revised)") == 9
    # Only revisions are stored as round 2; round 1 stays as it was.
    p2 = user_id(app, ROLE_USERS["panellist2"])
    rows = stored(app, study_id)
    assert [r for r in rows if r[1] == 2] == [(p2, 2, i, 0.7) for i in sorted(items[:9])]
    assert len([r for r in rows if r[1] == 1]) == 36
    response = post(certifier, f"/certify/studies/{study_id}/close")
    assert response.headers["Location"] == f"/certify/studies/{study_id}/results"
    results = certifier.get(f"/certify/studies/{study_id}/results").get_data(as_text=True)
    # By hand: item means nine at 0.70, nine at 0.65 → the topic's mean 0.675, the form's cut
    # 67.5 %; own cuts 70 and 65 → SD √((2.5² + 2.5²) / 1) = 3.54, SE 3.54 / √2 = 2.5.
    assert "<strong>67.5 %</strong> (standard error 2.5 percentage points)" in results
    assert "3.5 percentage points, over 2 panellist(s)" in results
    assert "cut now (its file)</dt><dd>80 %</dd>" in results
    with Session(engine_of(app)) as s:
        actions = s.exec(
            select(AuditEntry.action).where(AuditEntry.subject == f"study:{study_id}")
        ).all()
    assert actions == ["study.opened", "study.round-2", "study.closed"]
    # Closed: ratings are final.
    assert rate(one, study_id, dict.fromkeys(items, "0.50")).status_code == 409
    assert post(certifier, f"/certify/studies/{study_id}/close").status_code == 409


def test_csv_export_and_the_ratings_file(
    app: Flask, certifier: FlaskClient, panel: tuple[FlaskClient, FlaskClient]
) -> None:
    study_id, _ = run_study(app, certifier, panel)
    assert certifier.get(f"/certify/studies/{study_id}/ratings.yaml").status_code == 409
    post(certifier, f"/certify/studies/{study_id}/close")
    response = certifier.get(f"/certify/studies/{study_id}/results.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["item", "topic", "round 1: Per Paneldeltaker", "round 1: Pernille Panel"]
    assert rows[1][:2] == ["sdg-001", "sdgs"] and rows[1][2:6] == ["0.60", "0.70", "0.70", "0.70"]
    summary = {row[0]: row[1:] for row in rows[14:] if row}
    assert summary["recommended_cut_percent"] == ["67.50"]
    assert summary["standard_error_percent_points"] == ["2.50"]
    name = f"{EXAM}-study-{study_id}.yaml"
    detail = certifier.get(f"/certify/studies/{study_id}").get_data(as_text=True)
    assert f"question_banks/soa-baerekraft/ratings/{name}" in detail
    response = certifier.get(f"/certify/studies/{study_id}/ratings.yaml")
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    data = yaml.safe_load(response.get_data(as_text=True))
    assert data["study"]["id"] == f"{EXAM}-study-{study_id}" and data["study"]["exam"] == EXAM
    assert data["study"]["panellists"] == 2 and data["study"]["rounds"] == 2
    assert data["ratings"]["sdg-001"] == 0.7 and data["ratings"]["sdg-012"] == 0.65


def test_bad_ratings_are_refused_and_nothing_is_saved(
    app: Flask, certifier: FlaskClient, panel: tuple[FlaskClient, FlaskClient]
) -> None:
    study_id = open_study(app, certifier, ROLE_USERS["panellist"], ROLE_USERS["panellist2"])
    one, _ = panel
    items = items_of(one, study_id)
    with Session(engine_of(app)) as s:  # an item of the bank that the study does not hold
        other = s.exec(select(Item.id).where(Item.topic == "legal")).first()
    for value in ("0.63", "1.05", "-0.05", "65", "x"):
        response = rate(one, study_id, {items[0]: "0.70", items[1]: value})
        assert response.status_code == 400, value
        assert "steps of 0.05" in response.get_data(as_text=True)
    for forged in ({other: "0.70"}, {999999: "0.70"}):
        response = rate(one, study_id, {items[0]: "0.70", **forged})
        assert response.status_code == 400
        assert "not an item of this study" in response.get_data(as_text=True)
    response = post(one, f"/panel/studies/{study_id}/topics/{TOPIC}", {"rating-abc": "0.5"})
    assert response.status_code == 400
    assert stored(app, study_id) == []
    # Without the CSRF token nothing is saved either.
    response = one.post(f"/panel/studies/{study_id}/topics/{TOPIC}", data={"rating-1": "0.5"})
    assert response.status_code == 400 and stored(app, study_id) == []


def test_saving_twice_changes_nothing_the_second_time(
    app: Flask, certifier: FlaskClient, panel: tuple[FlaskClient, FlaskClient]
) -> None:
    study_id = open_study(app, certifier, ROLE_USERS["panellist"], ROLE_USERS["panellist2"])
    one, _ = panel
    items = items_of(one, study_id)
    ratings = dict.fromkeys(items, "0.55")
    first = rate(one, study_id, ratings)
    after_first = stored(app, study_id)
    second = rate(one, study_id, ratings)
    assert first.status_code == second.status_code == 302
    assert stored(app, study_id) == after_first and len(after_first) == 18
    page = one.get(second.headers["Location"]).get_data(as_text=True)
    assert "Your ratings are saved (0 changed)." in page
    rate(one, study_id, {items[0]: ""})  # taken back
    assert len(stored(app, study_id)) == 17


def test_only_invited_panellists_see_and_rate_a_study(
    app: Flask, certifier: FlaskClient, panel: tuple[FlaskClient, FlaskClient], as_role: Any
) -> None:
    with Session(engine_of(app)) as s:
        accounts.create_user(
            session=s,
            email="panellist3@example.org",
            name="Pia Utenfor",
            password="elearn-demo",
            now=utcnow(),
            roles=("panellist",),
        )
        s.commit()
    study_id = open_study(app, certifier, ROLE_USERS["panellist"], ROLE_USERS["panellist2"])
    items = items_of(panel[0], study_id)
    outsider = english_client(app)
    assert login(outsider, "panellist3@example.org").status_code == 302
    assert f"/panel/studies/{study_id}" not in outsider.get("/panel/").get_data(as_text=True)
    assert outsider.get(f"/panel/studies/{study_id}").status_code == 404
    assert outsider.get(f"/panel/studies/{study_id}/topics/{TOPIC}").status_code == 404
    assert rate(outsider, study_id, {items[0]: "0.70"}).status_code == 404
    # An admin reaches the panel's pages, but rates only where invited.
    assert as_role("admin").get(f"/panel/studies/{study_id}").status_code == 404
    assert stored(app, study_id) == []


def test_wrong_roles_are_refused(
    app: Flask, certifier: FlaskClient, panel: tuple[FlaskClient, FlaskClient], as_role: Any
) -> None:
    study_id = open_study(app, certifier, ROLE_USERS["panellist"], ROLE_USERS["panellist2"])
    learner = as_role("learner")
    for url in ("/panel/", f"/panel/studies/{study_id}", "/certify/studies"):
        assert learner.get(url).status_code == 403
    # A panellist neither runs studies nor reads their results; a certifier does not rate.
    one, _ = panel
    for url in ("/certify/studies", f"/certify/studies/{study_id}/results"):
        assert one.get(url).status_code == 403
    assert post(one, f"/certify/studies/{study_id}/round-2").status_code == 403
    assert certifier.get(f"/panel/studies/{study_id}").status_code == 403
    assert rate(certifier, study_id, {1: "0.5"}).status_code == 403


def test_round_two_needs_round_one_and_comes_once(
    app: Flask, certifier: FlaskClient, panel: tuple[FlaskClient, FlaskClient]
) -> None:
    study_id = open_study(app, certifier, ROLE_USERS["panellist"], ROLE_USERS["panellist2"])
    response = post(certifier, f"/certify/studies/{study_id}/round-2")
    assert response.status_code == 409
    assert "Nobody has rated yet" in response.get_data(as_text=True)
    one, _ = panel
    rate(one, study_id, dict.fromkeys(items_of(one, study_id), "0.70"))
    assert post(certifier, f"/certify/studies/{study_id}/round-2").status_code == 302
    assert post(certifier, f"/certify/studies/{study_id}/round-2").status_code == 409
    post(certifier, f"/certify/studies/{study_id}/close")
    assert post(certifier, f"/certify/studies/{study_id}/round-2").status_code == 409


def test_who_runs_a_study_is_not_on_its_panel(app: Flask, admin: FlaskClient) -> None:
    admin_id = user_id(app, ROLE_USERS["admin"])
    # An admin grants the panellist role on the user form, here to themselves.
    form = admin.get(f"/admin/users/{admin_id}").get_data(as_text=True)
    assert 'value="panellist"' in form and "Panellist (standard setting)" in form
    response = post(
        admin,
        f"/admin/users/{admin_id}",
        {
            "name": "Ada Admin",
            "email": ROLE_USERS["admin"],
            "roles": ["admin", "panellist"],
            "active": "y",
        },
    )
    assert response.status_code == 302
    with Session(engine_of(app)) as s:
        assert accounts.user_roles(session=s, user_id=admin_id) == {"admin", "panellist"}
    page = admin.get("/certify/studies").get_data(as_text=True)
    assert "Ada Admin (admin@example.org)" not in page  # not offered for their own study
    one = [str(user_id(app, ROLE_USERS["panellist"]))]
    for forged in (str(admin_id), str(user_id(app, ROLE_USERS["learner"]))):
        response = post(admin, "/certify/studies", {"exam": EXAM, "panellists": [forged, *one]})
        assert response.status_code == 200  # the form again: not a choice it offered
        assert "not a valid choice" in response.get_data(as_text=True)
    response = post(admin, "/certify/studies", {"exam": EXAM, "panellists": one})
    assert response.status_code == 409 and "at least two" in response.get_data(as_text=True)
    # The rule holds below the form too.
    two = [admin_id, user_id(app, ROLE_USERS["panellist"])]
    with Session(engine_of(app)) as s, pytest.raises(Conflict, match="cannot also rate"):
        standard_setting.open_study(
            session=s, exam_id=EXAM, panellist_ids=two, runner_id=admin_id, note="", now=utcnow()
        )
    with Session(engine_of(app)) as s:
        assert s.exec(select(func.count()).select_from(Study)).one() == 0


def test_the_study_holds_the_pool_without_retired_items(
    app: Flask, certifier: FlaskClient, panel: tuple[FlaskClient, FlaskClient]
) -> None:
    with Session(engine_of(app)) as s:
        retired = s.exec(select(Item).where(Item.key == "sdg-003")).one()
        retired.retired_at = utcnow()
        s.commit()
    study_id = open_study(app, certifier, ROLE_USERS["panellist"], ROLE_USERS["panellist2"])
    with Session(engine_of(app)) as s:
        keys = s.exec(
            select(Item.key)
            .join(StudyItem, col(StudyItem.item_id) == col(Item.id))
            .where(StudyItem.study_id == study_id)
        ).all()
    assert len(keys) == 17 and "sdg-003" not in keys and all(k.startswith("sdg-") for k in keys)


def test_observed_facility_is_shown_from_thirty_scored_responses(
    app: Flask, certifier: FlaskClient, panel: tuple[FlaskClient, FlaskClient]
) -> None:
    study_id, items = run_study(app, certifier, panel)
    now = utcnow()
    with Session(engine_of(app)) as s:
        learner = user_id(app, ROLE_USERS["learner"])
        version = s.exec(
            select(StudyItem.item_version_id).where(
                StudyItem.study_id == study_id, StudyItem.item_id == items[0]
            )
        ).one()
        exam_version = s.exec(select(Exam.current_version_id).where(Exam.id == EXAM)).one()
        for n in range(30):
            attempt = ExamAttempt(
                user_id=learner,
                exam_id=EXAM,
                exam_version_id=exam_version or 0,
                language="en",
                seed="1",
                fingerprint="x",
                started_at=now - timedelta(hours=1),
                deadline_at=now,
                submitted_at=now,
            )
            s.add(attempt)
            s.flush()
            # 24 of 30 right: facility 0.80.
            s.execute(
                insert(AttemptSlot),
                [
                    {
                        "attempt_id": attempt.id,
                        "number": 1,
                        "item_version_id": version,
                        "topic": TOPIC,
                        "options": [],
                        "prompts": [],
                        "flagged": False,
                        "mark": 1.0 if n < 24 else 0.0,
                    }
                ],
            )
            if n == 28:
                s.commit()
                page = panel[0].get(f"/panel/studies/{study_id}/topics/{TOPIC}")
                assert "(29 so far)" in page.get_data(as_text=True)
        s.commit()
    page = panel[0].get(f"/panel/studies/{study_id}/topics/{TOPIC}").get_data(as_text=True)
    assert "Observed facility: 0.80 of all candidates (30 scored responses)." in page


def test_the_statistics_page_shows_the_cut_beside_the_recommendation(
    app: Flask, certifier: FlaskClient, panel: tuple[FlaskClient, FlaskClient]
) -> None:
    page = certifier.get(f"/certify/exams/{EXAM}/statistics").get_data(as_text=True)
    assert '<dd id="cut-in-file">80 %; sdgs 80 %</dd>' in page
    assert "No study of this exam has been closed yet." in page
    assert "0 from a panel, 18 author estimates" in page
    assert page.count("author estimate</td>") == 18
    study_id, _ = run_study(app, certifier, panel)
    post(certifier, f"/certify/studies/{study_id}/close")
    page = certifier.get(f"/certify/exams/{EXAM}/statistics").get_data(as_text=True)
    assert "<strong>67.5 %</strong>" in page and f"study {study_id}</a>" in page


# --- the ratings file, back through the content tree -------------------------------------------


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "courses", root / "courses")
    shutil.copytree(PROJECT_ROOT / "question_banks", root / "question_banks")
    return root


@pytest.fixture
def copied_app(template_db: Template, tmp_path: Path, content_copy: Path) -> Iterator[Flask]:
    """The seeded app, reading its content from a copy of the content tree."""
    instance = tmp_path / "instance"
    instance.mkdir()
    application = make_app(
        instance,
        **{
            **copy_instance(template_db, instance),
            "COURSES_DIR": str(content_copy / "courses"),
            "QUESTION_BANKS_DIR": str(content_copy / "question_banks"),
        },
    )
    yield application
    engine_of(application).dispose()


def test_the_ratings_file_round_trip_feeds_the_draw_without_new_versions(
    copied_app: Flask, content_copy: Path
) -> None:
    app = copied_app

    def client(role: str) -> FlaskClient:
        c = english_client(app)
        assert login(c, ROLE_USERS[role]).status_code == 302
        return c

    certifier = client("certifier")
    study_id, _ = run_study(app, certifier, (client("panellist"), client("panellist2")))
    post(certifier, f"/certify/studies/{study_id}/close")
    text = certifier.get(f"/certify/studies/{study_id}/ratings.yaml").get_data(as_text=True)
    target = content_copy / f"question_banks/soa-baerekraft/ratings/{EXAM}-study-{study_id}.yaml"
    target.parent.mkdir()
    target.write_text(text, encoding="utf-8")

    runner = app.test_cli_runner()
    check = runner.invoke(args=["content", "check"])
    assert check.exit_code == 0, check.output
    with Session(engine_of(app)) as s:
        versions_before = s.exec(select(func.count()).select_from(ItemVersion)).one()
    sync = runner.invoke(args=["content", "sync"])
    assert sync.exit_code == 0, sync.output
    assert "updated panel ratings of bank soa-baerekraft: 18 set, 0 removed" in sync.output
    assert "updated item" not in sync.output
    with Session(engine_of(app)) as s:
        assert s.exec(select(func.count()).select_from(ItemVersion)).one() == versions_before
        rows = {
            key: rating
            for key, rating in s.exec(
                select(Item.key, ItemPanelRating.rating).join(
                    ItemPanelRating, col(ItemPanelRating.item_id) == col(Item.id)
                )
            )
        }
        first = s.exec(
            select(ItemPanelRating).join(Item, col(Item.id) == col(ItemPanelRating.item_id))
        ).first()
        assert first is not None and first.panellists == 2 and first.rounds == 2
    assert len(rows) == 18 and rows["sdg-001"] == 0.7 and rows["sdg-012"] == 0.65
    assert runner.invoke(args=["content", "sync"]).output.count("panel ratings") == 0

    # The draw uses the panel's ratings: a form's expected score is their mean.
    learner = client("learner")
    response = post(learner, f"/exams/{EXAM}/start")
    attempt_id = int(response.headers["Location"].split("/")[2])
    with Session(engine_of(app)) as s:
        keys = s.exec(
            select(Item.key)
            .join(ItemVersion, col(ItemVersion.item_id) == col(Item.id))
            .join(AttemptSlot, col(AttemptSlot.item_version_id) == col(ItemVersion.id))
            .where(AttemptSlot.attempt_id == attempt_id)
        ).all()
        attempt = s.get(ExamAttempt, attempt_id)
        assert attempt is not None and attempt.expected_score is not None
    assert attempt.expected_score == pytest.approx(sum(rows[k] for k in keys) / len(keys))
    page = certifier.get(f"/certify/exams/{EXAM}/statistics").get_data(as_text=True)
    assert "18 from a panel, 0 author estimates" in page
    assert f"panel: {EXAM}-study-{study_id}, closed" in page

    # The file removed: the items go back to their authors' estimates.
    target.unlink()
    sync = runner.invoke(args=["content", "sync"])
    assert "panel ratings of bank soa-baerekraft: 0 set, 18 removed" in sync.output
    with Session(engine_of(app)) as s:
        assert s.exec(select(func.count()).select_from(ItemPanelRating)).one() == 0


def test_every_item_type_is_shown_to_the_panel_with_its_key(
    app: Flask, certifier: FlaskClient, panel: tuple[FlaskClient, FlaskClient]
) -> None:
    exam = "soa-baerekraft-sertifisering"
    ids = [str(user_id(app, ROLE_USERS[r])) for r in ("panellist", "panellist2")]
    response = post(certifier, "/certify/studies", {"exam": exam, "panellists": ids})
    study_id = int(response.headers["Location"].rsplit("/", 1)[1])
    overview = panel[0].get(f"/panel/studies/{study_id}").get_data(as_text=True)
    topics = re.findall(rf"/panel/studies/{study_id}/topics/([a-z-]+)", overview)
    assert len(topics) == 9  # the blueprint's topics, labour crime its own since issue 18
    shown = 0
    for topic in topics:
        page = panel[0].get(f"/panel/studies/{study_id}/topics/{topic}").get_data(as_text=True)
        fields = len(FIELD.findall(page))
        assert fields > 0 and page.count("Right answer") == fields, topic
        shown += fields
    with Session(engine_of(app)) as s:
        drawable = s.exec(
            select(func.count())
            .select_from(Item)
            .where(
                col(Item.active).is_(True),
                col(Item.bank_id) == "soa-baerekraft",
                col(Item.pool) == "",  # the certification exam's pool: the main one
            )
        ).one()
    assert shown == drawable
