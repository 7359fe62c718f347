"""A backup taken while the app runs restores to a working copy."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from elearn.db import engine_of
from elearn.models import Item, User
from tests.conftest import POSTGRES, _database_url, english_client, login, make_app, new_database


def counts(app: Flask) -> tuple[int, int]:
    with Session(engine_of(app)) as s:
        return len(s.exec(select(User)).all()), len(s.exec(select(Item)).all())


def test_backup_and_restore(app: Flask, tmp_path: Path) -> None:
    if POSTGRES and shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not installed")
    before = counts(app)
    english_client(app).get("/login")  # the app is in use while it is backed up
    target = tmp_path / "backup" / ("elearn.dump" if POSTGRES else "elearn.sqlite")
    result = app.test_cli_runner().invoke(args=["db", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # as secret as the database
    restored_instance = tmp_path / "restored"
    restored_instance.mkdir()
    for folder in ("keys", "pdf-signing"):
        if (Path(app.instance_path) / folder).is_dir():
            shutil.copytree(Path(app.instance_path) / folder, restored_instance / folder)
    if POSTGRES:
        name = new_database()
        url = make_url(_database_url(name)).set(drivername="postgresql")
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--dbname",
                url.render_as_string(hide_password=False),
                str(target),
            ],
            check=True,
        )
        restored = make_app(restored_instance, DATABASE_URL=_database_url(name))
    else:
        shutil.copy(target, restored_instance / "elearn.sqlite")
        restored = make_app(restored_instance)
    assert counts(restored) == before
    assert login(english_client(restored), "learner@example.org").status_code == 302
    engine_of(restored).dispose()
