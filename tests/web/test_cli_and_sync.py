"""The commands: db upgrade, content check and sync, demo, users create."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlmodel import Session, SQLModel, col, select

from elearn.config import PROJECT_ROOT
from elearn.content.loader import load_content
from elearn.db import engine_of
from elearn.models import AuditEntry, Course, Item, ItemVersion, User, UserRole, modelled
from elearn.services.demo import DEMO_USERS
from elearn.services.programme_demo import PEOPLE
from tests.conftest import english_client, login, make_app

ITEMS = "question_banks/soa-baerekraft/items/sdgs.yaml"


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "courses", root / "courses")
    shutil.copytree(PROJECT_ROOT / "question_banks", root / "question_banks")
    return root


@pytest.fixture
def fresh(tmp_path: Path, content_copy: Path) -> Flask:
    app = make_app(
        tmp_path / "instance",
        COURSES_DIR=str(content_copy / "courses"),
        QUESTION_BANKS_DIR=str(content_copy / "question_banks"),
    )
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    return app


def run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def test_migrations_match_the_models(fresh: Flask) -> None:
    with engine_of(fresh).connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": modelled})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_upgrade_twice_is_harmless(fresh: Flask) -> None:
    assert run(fresh, "db", "upgrade")[0] == 0


def test_content_check_passes_on_shipped_content(fresh: Flask) -> None:
    code, out = run(fresh, "content", "check")
    shipped = load_content(PROJECT_ROOT / "courses", PROJECT_ROOT / "question_banks", PROJECT_ROOT)
    items = sum(len(b.items) for b in shipped.banks.values())
    exams = sum(len(b.exams) for b in shipped.banks.values())
    assert code == 0 and out.startswith(
        f"ok: {len(shipped.courses)} course(s), {len(shipped.banks)} bank(s), "
        f"{items} item(s), {exams} exam(s)"
    )


def test_content_check_prints_every_problem_and_exits_1(fresh: Flask, content_copy: Path) -> None:
    course = content_copy / "courses/sustainability-intro/course.yaml"
    course.write_text(
        course.read_text().replace("estimated_minutes:", "colour: red\nestimated_minutes:")
    )
    items = content_copy / ITEMS
    items.write_text(items.read_text().replace("key: b", "key: zz", 1))
    code, out = run(fresh, "content", "check")
    assert code == 1
    lines = [line for line in out.splitlines() if ": " in line and not line.endswith("problem(s)")]
    assert any(
        line.startswith("courses/sustainability-intro/course.yaml:")
        and "unknown key 'colour'" in line
        for line in lines
    ), out
    assert any(
        line.startswith(f"{ITEMS}:") and "the key 'zz' is not an option" in line for line in lines
    ), out


def test_sync_is_idempotent(fresh: Flask) -> None:
    code, out = run(fresh, "content", "sync")
    assert code == 0 and "created course sustainability-intro" in out
    code, out = run(fresh, "content", "sync")
    assert code == 0 and "synced: 0 created, 0 updated, 0 deactivated" in out
    with Session(engine_of(fresh)) as s:
        assert (
            len(s.exec(select(AuditEntry).where(AuditEntry.action == "content.synced")).all()) == 1
        )


def test_changed_item_becomes_a_new_version_and_the_old_one_stays(
    fresh: Flask, content_copy: Path
) -> None:
    run(fresh, "content", "sync")
    items = content_copy / ITEMS
    items.write_text(items.read_text().replace("source:", "source: Revised,", 1))
    code, out = run(fresh, "content", "sync")
    assert code == 0 and "updated item soa-baerekraft/sdg-001" in out
    with Session(engine_of(fresh)) as s:
        item = s.exec(select(Item).where(Item.key == "sdg-001")).one()
        versions = s.exec(
            select(ItemVersion)
            .where(ItemVersion.item_id == item.id)
            .order_by(col(ItemVersion.version))
        ).all()
        assert [v.version for v in versions] == [1, 2]
        assert item.current_version_id == versions[1].id
        assert versions[1].spec["source"].startswith("Revised,")
        assert not versions[0].spec["source"].startswith("Revised,")


def test_broken_file_is_refused_whole_and_loaded_versions_stay(
    fresh: Flask, content_copy: Path
) -> None:
    run(fresh, "content", "sync")
    with Session(engine_of(fresh)) as s:
        versions_before = len(s.exec(select(ItemVersion)).all())
    items = content_copy / ITEMS
    text = items.read_text()
    # One good change and one broken item in the same file: neither is loaded.
    items.write_text(text.replace("source:", "source: Changed,", 1).replace("key: b", "key: zz", 1))
    course = content_copy / "courses/sustainability-intro/course.yaml"
    course.write_text(course.read_text() + "\nbroken: [\n")
    code, out = run(fresh, "content", "sync")
    assert code == 1
    assert "the files named were not loaded" in out
    with Session(engine_of(fresh)) as s:
        assert len(s.exec(select(ItemVersion)).all()) == versions_before
        assert all(i.active for i in s.exec(select(Item)))
        assert s.get(Course, "sustainability-intro") is not None
        assert s.get(Course, "sustainability-intro").active  # type: ignore[union-attr]


def test_removed_item_is_deactivated_not_deleted(fresh: Flask, content_copy: Path) -> None:
    run(fresh, "content", "sync")
    items = content_copy / ITEMS
    text = items.read_text()
    start = text.index("  - id: sdg-012")
    items.write_text(text[:start])
    code, out = run(fresh, "content", "sync")
    assert code == 0 and "deactivated item soa-baerekraft/sdg-012" in out, out
    with Session(engine_of(fresh)) as s:
        item = s.exec(select(Item).where(Item.key == "sdg-012")).one()
        assert not item.active and item.current_version_id is not None


def test_demo_is_idempotent_and_refused_in_production(tmp_path: Path, fresh: Flask) -> None:
    code, out = run(fresh, "demo")
    assert code == 0 and "created learner@example.org" in out
    code, out = run(fresh, "demo")
    assert code == 0 and "created" not in out
    with Session(engine_of(fresh)) as s:
        # The demo's users and the contact people of the demo programmes' organisations.
        assert len(s.exec(select(User)).all()) == len(DEMO_USERS) + len(PEOPLE)
    prod = make_app(tmp_path / "prod", PRODUCTION=True, PUBLIC_URL="https://kurs.example.no")
    run(prod, "db", "upgrade")
    code, out = run(prod, "demo")
    assert code == 1 and "refused" in out
    with Session(engine_of(prod)) as s:
        assert s.exec(select(User)).all() == []


def test_users_create(fresh: Flask) -> None:
    code, out = run(
        fresh,
        "users",
        "create",
        "--email",
        "Ola@Example.org",
        "--name",
        "Ola",
        "--role",
        "manager",
        "--role",
        "learner",
        "--unit",
        "Oslo kommune/Innkjøp",
        "--password",
        "a-long-password",
    )
    assert code == 0, out
    with Session(engine_of(fresh)) as s:
        user = s.exec(select(User).where(User.email == "ola@example.org")).one()
        roles = set(s.exec(select(UserRole.role).where(UserRole.user_id == user.id)))
    assert roles == {"manager", "learner"}
    assert login(english_client(fresh), "ola@example.org", "a-long-password").status_code == 302
    code, out = run(
        fresh,
        "users",
        "create",
        "--email",
        "ola@example.org",
        "--name",
        "Again",
        "--password",
        "a-long-password",
    )
    assert code == 1 and "already exists" in out
    code, out = run(
        fresh, "users", "create", "--email", "x@example.org", "--name", "X", "--password", "short"
    )
    assert code == 2 and "at least 10 characters" in out
    code, out = run(
        fresh,
        "users",
        "create",
        "--email",
        "y@example.org",
        "--name",
        "Y",
        "--role",
        "emperor",
        "--password",
        "a-long-password",
    )
    assert code == 2


def test_a_command_group_is_imported_when_used_not_at_app_start(tmp_path: Path) -> None:
    """App servers need no command: alembic, yaml and the format parsers load only for one."""
    code = (
        "import json, sys; from elearn import create_app; "
        f"app = create_app({{'INSTANCE_PATH': {str(tmp_path)!r}, 'SECRET_KEY': 'x'}}); "
        "heavy = ('elearn.cli.', 'alembic', 'yaml', 'elearn.content.formats'); "
        "at_start = sorted(m for m in sys.modules if m.startswith(heavy)); "
        "out = app.test_cli_runner().invoke(args=['bank', '--help']).output; "
        "print(json.dumps([at_start, 'elearn.cli.bank' in sys.modules, 'export' in out]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    at_start, bank_loaded, listed = json.loads(done.stdout)
    assert at_start == ["elearn.cli.demo"]  # `demo` is a single command, not a group
    assert bank_loaded and listed
