"""Staff import through the command line and the admin's upload page."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from elearn.db import engine_of
from elearn.models import AuditEntry, User
from tests.conftest import csrf_token

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
