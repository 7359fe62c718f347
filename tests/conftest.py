"""Shared fixtures: a migrated, synced, seeded database made once and copied for each test."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
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
    "panellist": "panellist@example.org",
    "panellist2": "panellist2@example.org",
    "organiser": "organiser@example.org",
    "adviser": "adviser@example.org",
    "new-learner": "learner2@example.org",  # has not started any course
    "editor": "editor@example.org",
}
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def off_loop(fn: Any, *args: Any) -> Any:
    """Call a library that runs asyncio.run() while the browser tests hold a loop in this thread."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


# With ELEARN_TEST_DATABASE_URL (a PostgreSQL server, e.g. postgresql+psycopg://postgres@
# 127.0.0.1:5432/test) every app gets a database of its own on that server; otherwise SQLite.
TEST_DATABASE_URL = os.environ.get("ELEARN_TEST_DATABASE_URL")
POSTGRES = bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"))
_CREATED: list[str] = []


def _admin() -> Any:
    from sqlalchemy import create_engine

    assert TEST_DATABASE_URL is not None
    return create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")


def _database_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    assert TEST_DATABASE_URL is not None
    return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


def new_database(template: str | None = None) -> str:
    """A fresh PostgreSQL database (a copy of ``template`` when given), dropped at the end."""
    from sqlalchemy import text

    name = f"elearn_t_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    engine = _admin()
    with engine.connect() as connection:
        suffix = f" TEMPLATE {template}" if template else ""
        connection.execute(text(f"CREATE DATABASE {name}{suffix}"))
    engine.dispose()
    _CREATED.append(name)
    return name


def drop_database(name: str) -> None:
    from sqlalchemy import text

    engine = _admin()
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    engine.dispose()
    if name in _CREATED:
        _CREATED.remove(name)


# The sign-in limits count in Redis when it answers, as in production (its own database; each app
# its own key prefix, so that tests and other checkouts sharing the server never meet; see
# recipes.md). ELEARN_TEST_REDIS_URL=none keeps them in memory; ELEARN_TEST_REQUIRE_REDIS=1 (CI)
# makes a missing server an error rather than a skip.
TEST_REDIS_URL = os.environ.get("ELEARN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_answers(url: str) -> bool:
    if not url.startswith("redis"):
        return False
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        answered = bool(client.ping())
        client.close()
        return answered
    except redis.RedisError:
        return False


REDIS = _redis_answers(TEST_REDIS_URL)
if not REDIS and os.environ.get("ELEARN_TEST_REQUIRE_REDIS"):
    raise RuntimeError(f"no Redis answers at {TEST_REDIS_URL}: .ci/run starts one")


def limiter_store() -> dict[str, Any]:
    """Settings for a limiter store of one app's own: a fresh key prefix on Redis, or memory."""
    if not REDIS:
        return {"RATELIMIT_STORAGE_URI": "memory://"}
    return {
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL,
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": f"LIMITS-test-{uuid.uuid4().hex}"},
    }


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases() -> Iterator[None]:
    yield
    for name in list(_CREATED):
        drop_database(name)


def make_app(instance: Path, **config: Any) -> Flask:
    if "DATABASE_URL" not in config:
        config["DATABASE_URL"] = (
            _database_url(new_database()) if POSTGRES else f"sqlite:///{instance / 'elearn.sqlite'}"
        )
    return create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "FAIL_ON_GET_WRITES": True,
            **limiter_store(),
            **config,
        }
    )


def clear_limits(app: Flask) -> None:
    """Delete the app's own counters from Redis (its key prefix only)."""
    if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        app.extensions["elearn.limiter"].reset()


@dataclass(frozen=True)
class Template:
    """A migrated, synced, seeded database and the instance folder whose keys signed it."""

    instance: Path
    database: str | None  # PostgreSQL database name; None: instance/elearn.sqlite
    content: dict[str, str]  # COURSES_DIR and QUESTION_BANKS_DIR of the content it holds


ROOT = Path(__file__).resolve().parent.parent
TEST_EXAMS = {  # test-only exams added to a copy of the shipped content: bank -> files
    "soa-baerekraft": [Path(__file__).parent / "fixtures" / "quick-certificate.yaml"],
}


def shipped_content_with_test_exams(root: Path) -> dict[str, str]:
    """A copy of the shipped courses and banks, with the test exams added to it."""
    shutil.copytree(ROOT / "courses", root / "courses")
    shutil.copytree(ROOT / "question_banks", root / "question_banks")
    for bank, files in TEST_EXAMS.items():
        for file in files:
            shutil.copy(file, root / "question_banks" / bank / "exams" / file.name)
    return {
        "COURSES_DIR": str(root / "courses"),
        "QUESTION_BANKS_DIR": str(root / "question_banks"),
    }


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Template:
    instance = tmp_path_factory.mktemp("template")
    content = shipped_content_with_test_exams(tmp_path_factory.mktemp("content"))
    database = new_database() if POSTGRES else None
    app = make_app(
        instance, **content, **({"DATABASE_URL": _database_url(database)} if database else {})
    )
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["content", "sync"], ["demo"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    engine_of(app).dispose()
    return Template(instance, database, content)


def copy_instance(template: Template, target: Path) -> dict[str, Any]:
    """The database with the keys that signed its certificates and its stored files, as a backup
    would hold them.

    Returns the configuration that points an app at the copy (and at the template's content).
    """
    for folder in ("keys", "pdf-signing", "files"):  # files: the demo archive's uploads
        if (template.instance / folder).is_dir():
            shutil.copytree(template.instance / folder, target / folder)
    if template.database is not None:
        return {**template.content, "DATABASE_URL": _database_url(new_database(template.database))}
    for suffix in ("", "-wal", "-shm"):
        source = template.instance / f"elearn.sqlite{suffix}"
        if source.exists():
            shutil.copy(source, target / f"elearn.sqlite{suffix}")
    return dict(template.content)


def release_app(application: Flask) -> None:
    """Give back what an app of the tests holds: its counters, connections and database."""
    clear_limits(application)
    engine_of(application).dispose()
    if POSTGRES:
        from sqlalchemy.engine import make_url

        drop_database(str(make_url(application.config["DATABASE_URL"]).database))


@pytest.fixture
def app(template_db: Template, tmp_path: Path) -> Iterator[Flask]:
    application = make_app(tmp_path, **copy_instance(template_db, tmp_path))
    yield application
    release_app(application)


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
