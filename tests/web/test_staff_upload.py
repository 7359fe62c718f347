"""Staff import through the command line and the admin's upload page."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from elearn.db import engine_of
from elearn.models import AuditEntry, User
from tests.conftest import POSTGRES, csrf_token

GOOD = (
    "name,email,unit,roles\n"
    "Per Hansen,per@example.org,Eksempel kommune/Innkjøp/Avtaler,learner\n"
    '"Nilsen, Kari",kari.n@example.org,Eksempel kommune/Teknisk drift,learner;manager\n'
)
BAD = (
    GOOD + "Ola,not-an-email,Eksempel kommune,learner\nEva,eva@example.org,Eksempel kommune,boss\n"
)


def users(app: Flask) -> int:
    with Session(engine_of(app)) as s:
        return len(s.exec(select(User)).all())


def test_cli_dry_run_import_and_import_again(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(GOOD, encoding="utf-8")
    runner = app.test_cli_runner()
    before = users(app)
    dry = runner.invoke(args=["staff", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "dry run: 2 to create" in dry.output
    assert "new unit: Eksempel kommune/Innkjøp/Avtaler" in dry.output
    assert users(app) == before
    done = runner.invoke(args=["staff", "import", str(path)])
    assert done.exit_code == 0 and "imported: 2 to create" in done.output
    assert users(app) == before + 2
    again = runner.invoke(args=["staff", "import", str(path)])
    assert again.exit_code == 0 and "0 to create, 0 to update, 2 unchanged" in again.output
    assert users(app) == before + 2
    with Session(engine_of(app)) as s:
        assert (
            len(s.exec(select(AuditEntry).where(AuditEntry.action == "staff.imported")).all()) == 2
        )


def test_cli_reports_every_bad_row_by_line_and_imports_nothing(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(BAD, encoding="utf-8")
    before = users(app)
    result = app.test_cli_runner().invoke(args=["staff", "import", str(path)])
    assert result.exit_code == 1
    assert f"{path}:4: " in result.output and "not-an-email" in result.output
    assert f"{path}:5: " in result.output and "boss" in result.output
    assert users(app) == before
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(GOOD.encode("latin-1"))
    result = app.test_cli_runner().invoke(args=["staff", "import", str(latin1)])
    assert result.exit_code == 1 and "UTF-8" in result.output


def upload(client: FlaskClient, data: bytes) -> str:
    response = client.post(
        "/admin/staff",
        data={"csrf_token": csrf_token(client), "file": (io.BytesIO(data), "staff.csv")},
        content_type="multipart/form-data",
    )
    return response.get_data(as_text=True)


def test_upload_shows_a_preview_then_imports_on_confirmation(
    app: Flask, admin: FlaskClient
) -> None:
    before = users(app)
    page = upload(admin, GOOD.encode("utf-8-sig"))
    assert "2 to create, 0 to update, 0 unchanged, 0 error(s)." in page
    assert users(app) == before
    confirm = admin.post(
        "/admin/staff", data={"csrf_token": csrf_token(admin), "confirm": "y", "text": GOOD}
    )
    assert confirm.status_code == 302
    assert users(app) == before + 2


def test_upload_with_a_bad_row_imports_nothing(app: Flask, admin: FlaskClient) -> None:
    before = users(app)
    page = upload(admin, BAD.encode())
    assert "Nothing was imported" in page and "Line 4" in page and "Line 5" in page
    forced = admin.post(
        "/admin/staff", data={"csrf_token": csrf_token(admin), "confirm": "y", "text": BAD}
    )
    assert forced.status_code == 400
    assert users(app) == before


def test_only_admins_upload(as_role) -> None:  # type: ignore[no-untyped-def]
    for role in ("learner", "manager", "certifier"):
        client = as_role(role)
        response = client.post(
            "/admin/staff", data={"csrf_token": csrf_token(client), "text": GOOD, "confirm": "y"}
        )
        assert response.status_code == 403


def test_upload_of_a_non_utf8_file_says_how_to_save_it(app: Flask, admin: FlaskClient) -> None:
    before = users(app)
    page = upload(admin, GOOD.encode("cp1252"))
    assert "the file is not UTF-8 text (byte" in page and users(app) == before


# --- large files: parts of a few hundred rows, each committed; the lock is never held for long ---


def many(n: int, start: int = 0) -> str:
    rows = [f"Person {i},p{i}@example.org,Kommune/Enhet {i % 5},learner" for i in range(start, n)]
    return "name,email,unit,roles\n" + "\n".join(rows) + "\n"


def import_entries(app: Flask) -> list[AuditEntry]:
    with Session(engine_of(app)) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.action == "staff.imported")).all())


def test_a_large_import_commits_part_by_part(app: Flask) -> None:
    from sqlalchemy import event

    from elearn.clock import utcnow
    from elearn.jobs.staff import import_staff

    inserted: list[int] = []
    began: list[str] = []

    def on_begin(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN"):
            began.append(statement)
            inserted.append(0)
        elif statement.startswith("INSERT INTO user_account") and inserted:
            inserted[-1] += 1

    before = users(app)
    event.listen(engine_of(app), "before_cursor_execute", on_begin)
    with app.app_context():
        plan = import_staff(app, text=many(700), dry_run=False, now=utcnow(), batch_rows=300)
    event.remove(engine_of(app), "before_cursor_execute", on_begin)
    assert plan.counts["create"] == 700
    assert users(app) == before + 700
    if not POSTGRES:  # SQLite's BEGINs are seen: the plan reads without the write lock, then
        # three parts, each its own transaction
        assert began == ["BEGIN DEFERRED", "BEGIN IMMEDIATE", "BEGIN IMMEDIATE", "BEGIN IMMEDIATE"]
        assert inserted[1:] == [300, 300, 100]
    parts = sorted(e.data["part"] for e in import_entries(app))
    assert parts == [[1, 3], [2, 3], [3, 3]]


def test_an_import_stopped_half_way_is_finished_by_importing_the_file_again(
    app: Flask, monkeypatch: Any
) -> None:
    from elearn.clock import utcnow
    from elearn.jobs import staff as staff_job

    real = staff_job.apply_import

    def fails_in_part_two(**kw: Any) -> None:
        if kw["part"][0] == 2:
            raise RuntimeError("the server went down")
        real(**kw)

    before = users(app)
    monkeypatch.setattr(staff_job, "apply_import", fails_in_part_two)
    with app.app_context(), pytest.raises(RuntimeError):
        staff_job.import_staff(app, text=many(500), dry_run=False, now=utcnow(), batch_rows=200)
    assert users(app) == before + 200  # the first part stays; the second was rolled back
    monkeypatch.setattr(staff_job, "apply_import", real)
    with app.app_context():
        plan = staff_job.import_staff(
            app, text=many(500), dry_run=False, now=utcnow(), batch_rows=200
        )
    assert plan.counts == {"create": 300, "update": 0, "unchanged": 200, "errors": 0}
    assert users(app) == before + 500


def test_the_upload_imports_in_parts_without_holding_the_lock(
    app: Flask, admin: FlaskClient
) -> None:
    from sqlalchemy import event

    app.config["STAFF_IMPORT_BATCH_ROWS"] = 2
    text = many(5)
    began: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN"):
            began.append(statement)

    token = csrf_token(admin)
    before = users(app)
    event.listen(engine_of(app), "before_cursor_execute", note)
    confirm = admin.post("/admin/staff", data={"csrf_token": token, "confirm": "y", "text": text})
    event.remove(engine_of(app), "before_cursor_execute", note)
    assert confirm.status_code == 302
    assert users(app) == before + 5
    if not POSTGRES:
        assert began[0] == "BEGIN DEFERRED"  # the request itself only reads
        assert began.count("BEGIN IMMEDIATE") == 3  # parts of 2, 2 and 1 rows
    assert len(import_entries(app)) == 3


def test_an_upload_too_large_for_a_request_is_refused_with_the_command_to_use(
    app: Flask, admin: FlaskClient
) -> None:
    app.config["STAFF_UPLOAD_MAX_ROWS"] = 3
    before = users(app)
    response = admin.post(
        "/admin/staff", data={"csrf_token": csrf_token(admin), "confirm": "y", "text": many(4)}
    )
    assert response.status_code == 413
    assert "flask --app elearn staff import FILE" in response.get_data(as_text=True)
    assert users(app) == before
    assert import_entries(app) == []
