"""Configuration order, the generated secret key, SQLite settings, security headers."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from elearn import create_app
from elearn.db import engine_of
from tests.conftest import POSTGRES


def test_missing_secret_key_is_generated_once_with_mode_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ELEARN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("ELEARN_SECRET_KEY", raising=False)
    first = create_app()
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) == 64
    assert create_app().config["SECRET_KEY"] == first.config["SECRET_KEY"]
    engine_of(first).dispose()


def test_instance_config_then_environment_override_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ELEARN_INSTANCE_PATH", str(tmp_path))
    (tmp_path / "config.py").write_text(
        "SELF_SIGNUP = False\nPASSWORD_RESET_HOURS = 2\nSECRET_KEY = 'from-file'\n"
    )
    app = create_app()
    assert app.config["SELF_SIGNUP"] is False and app.config["PASSWORD_RESET_HOURS"] == 2
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'elearn.sqlite'}"
    monkeypatch.setenv("ELEARN_PASSWORD_RESET_HOURS", "5")
    monkeypatch.setenv("ELEARN_DATABASE_URL", f"sqlite:///{tmp_path / 'other.sqlite'}")
    app = create_app()
    assert app.config["PASSWORD_RESET_HOURS"] == 5
    assert app.config["DATABASE_URL"].endswith("other.sqlite")
    assert not (tmp_path / "secret_key").exists()  # a configured key is never replaced


def test_production_sets_secure_cookies(tmp_path: Path) -> None:
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "PRODUCTION": True,
            "SECRET_KEY": "x",
            "PUBLIC_URL": "https://kurs.example.no",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


@pytest.mark.skipif(POSTGRES, reason="SQLite settings; this run uses PostgreSQL")
def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(app) -> None:  # type: ignore[no-untyped-def]
    with engine_of(app).connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_pages_carry_security_headers(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_no_asset_comes_from_another_site() -> None:
    root = Path(__file__).resolve().parents[2] / "elearn" / "templates"
    templates = sorted(root.rglob("*.html"))
    assert root / "base.html" in templates and len(templates) >= 30
    for template in templates:
        body = template.read_text(encoding="utf-8")
        assert "http://" not in body and "https://" not in body, template


def test_secrets_are_git_ignored() -> None:
    ignore = (Path(__file__).resolve().parents[2] / ".gitignore").read_text()
    assert "/instance/" in ignore
    # Nothing secret or local is tracked: no instance files, keys or databases.
    tracked = subprocess.run(
        ["git", "ls-files", "instance", "*.pem", "*.key", "*.sqlite", "secret_key"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tracked == []


def test_unexpected_error_shows_a_page_without_a_trace(tmp_path: Path) -> None:
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})

    def boom() -> str:
        raise RuntimeError("secret internals")

    boom.access = ("public",)  # type: ignore[attr-defined]
    app.add_url_rule("/boom", view_func=boom)
    response = app.test_client().get("/boom", headers={"Accept-Language": "en"})
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "secret internals" not in body and "Traceback" not in body
    engine_of(app).dispose()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_the_database_file_the_app_makes_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with engine_of(app).connect() as connection:  # open: the -wal and -shm files exist
        connection.execute(text("SELECT count(*) FROM user_account"))
        files = [tmp_path / f"elearn.sqlite{suffix}" for suffix in ("", "-wal", "-shm")]
        assert all(f.exists() for f in files)
        for f in files:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    engine_of(app).dispose()


def test_an_existing_database_file_keeps_its_mode(tmp_path: Path) -> None:
    (tmp_path / "elearn.sqlite").touch(mode=0o640)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    assert stat.S_IMODE((tmp_path / "elearn.sqlite").stat().st_mode) == 0o640 & ~current_umask()
    engine_of(app).dispose()
