"""Shared fixtures: a migrated, synced, seeded database made once and copied for each test."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from elearn import create_app
from elearn.db import engine_of

DEMO_PASSWORD = "elearn-demo"
COURSE = "sustainability-intro"
ROLE_USERS = {
    "learner": "learner@example.org",
    "manager": "manager@example.org",
    "certifier": "certifier@example.org",
    "admin": "admin@example.org",
    "new-learner": "learner2@example.org",  # has not started any course
}
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def off_loop(fn: Any, *args: Any) -> Any:
    """Call a library that runs asyncio.run() while the browser tests hold a loop in this thread."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


def make_app(instance: Path, **config: Any) -> Flask:
    return create_app(
        {
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'elearn.sqlite'}",
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            **config,
        }
    )


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    instance = tmp_path_factory.mktemp("template")
    app = make_app(instance)
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["content", "sync"], ["demo"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    engine_of(app).dispose()
    return instance / "elearn.sqlite"


def copy_instance(template_db: Path, target: Path) -> None:
    """The database with the keys that signed its certificates, as a backup would hold them."""
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{template_db}{suffix}")
        if source.exists():
            shutil.copy(source, target / f"elearn.sqlite{suffix}")
    for folder in ("keys", "pdf-signing"):
        if (template_db.parent / folder).is_dir():
            shutil.copytree(template_db.parent / folder, target / folder)


@pytest.fixture
def app(template_db: Path, tmp_path: Path) -> Iterator[Flask]:
    copy_instance(template_db, tmp_path)
    application = make_app(tmp_path)
    yield application
    engine_of(application).dispose()


def english_client(app: Flask) -> FlaskClient:
    """A client whose browser asks for English (the default locale is nb)."""
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return english_client(app)


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = DEMO_PASSWORD) -> Any:
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client, "/login")},
    )


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    """POST a form with a valid CSRF token, as the browser would."""
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})}, **kw)


@pytest.fixture
def as_role(app: Flask) -> Any:
    def make(role: str) -> FlaskClient:
        c = english_client(app)
        response = login(c, ROLE_USERS[role])
        assert response.status_code == 302, response.get_data(as_text=True)
        return c

    return make


@pytest.fixture
def learner(as_role: Any) -> FlaskClient:
    return as_role("learner")


@pytest.fixture
def admin(as_role: Any) -> FlaskClient:
    return as_role("admin")
