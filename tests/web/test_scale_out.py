"""Two gunicorn servers over one database: a learner's requests alternate, nothing is lost."""

from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlmodel import Session, col, select

from elearn.db import engine_of
from elearn.models import AttemptSlot, AuditEntry, ExamAttempt
from tests.conftest import Template, copy_instance, make_app

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
GUNICORNC = Path(sys.executable).parent / "gunicornc"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_servers(template_db: Template, tmp_path: Path) -> Iterator[tuple[list[str], str]]:
    config = copy_instance(template_db, tmp_path)
    database = config.get("DATABASE_URL", f"sqlite:///{tmp_path / 'elearn.sqlite'}")
    env = {
        **os.environ,
        "ELEARN_INSTANCE_PATH": str(tmp_path),
        "ELEARN_DATABASE_URL": database,
        "ELEARN_SECRET_KEY": "shared-by-both-servers",
        "ELEARN_WORKERS": "1",
        "ELEARN_ACCESS_LOG": "/dev/null",
    }
    servers, urls = [], []
    for _ in range(2):
        port = free_port()
        env["ELEARN_BIND"] = f"127.0.0.1:{port}"
        servers.append(
            subprocess.Popen(
                [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), "elearn.wsgi:app"],
                cwd=ROOT,
                env=dict(env),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        for url in urls:
            while True:
                try:
                    if requests.get(f"{url}/healthz", timeout=5).ok:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, "a server did not start"
                time.sleep(0.2)
        yield urls, database
    finally:  # stop the servers even when they never became ready
        for server in servers:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)


@pytest.mark.skipif(shutil.which(str(GUNICORN)) is None, reason="gunicorn not installed")
def test_an_exam_across_two_servers_loses_nothing_and_scores_once(
    two_servers: tuple[list[str], str], tmp_path: Path
) -> None:
    (a, b), database = two_servers
    web = requests.Session()
    web.headers["Accept-Language"] = "en"

    def token(url: str) -> str:
        match = CSRF.search(web.get(f"{url}/").text)
        assert match
        return match.group(1)

    login = web.post(
        f"{a}/login",
        data={"email": "learner@example.org", "password": "elearn-demo", "csrf_token": token(a)},
        allow_redirects=False,
    )
    assert login.status_code == 302
    started = web.post(
        f"{b}/exams/sdg-basics/start", data={"csrf_token": token(b)}, allow_redirects=False
    )
    attempt = int(re.search(r"/attempts/(\d+)/1", started.headers["Location"]).group(1))  # type: ignore[union-attr]
    for number in range(1, 7):
        server = (a, b)[number % 2]
        page = web.get(f"{server}/attempts/{attempt}/{number}")
        assert page.status_code == 200
        saved = web.post(
            f"{(b, a)[number % 2]}/attempts/{attempt}/{number}/save",
            data={"flag": "1"},
            headers={"X-CSRFToken": token(server)},
        )
        assert saved.status_code == 200, saved.text
    # Both servers receive the submit at the same moment: it is scored once.
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(
                lambda url: web.post(
                    f"{url}/attempts/{attempt}/submit",
                    data={"csrf_token": token(url)},
                    allow_redirects=False,
                ),
                (a, b),
            )
        )
    assert all(r.status_code == 302 for r in results)
    app = make_app(tmp_path / "check", DATABASE_URL=database)
    with Session(engine_of(app)) as s:
        flags = s.exec(select(AttemptSlot.flagged).where(AttemptSlot.attempt_id == attempt)).all()
        scored = s.exec(
            select(AuditEntry).where(
                AuditEntry.action == "attempt.scored", AuditEntry.subject == f"attempt:{attempt}"
            )
        ).all()
        row = s.exec(select(ExamAttempt).where(col(ExamAttempt.id) == attempt)).one()
    engine_of(app).dispose()
    assert flags == [True] * 6  # every save, whichever server took it
    assert len(scored) == 1 and row.submitted_at is not None


@pytest.mark.skipif(shutil.which(str(GUNICORN)) is None, reason="gunicorn not installed")
def test_each_server_answers_on_a_control_socket_of_its_own(
    two_servers: tuple[list[str], str], tmp_path: Path
) -> None:
    urls, _ = two_servers
    masters = set()
    for url in urls:
        bind = url.removeprefix("http://")
        path = tmp_path / f"gunicorn-{bind.replace(':', '_')}.ctl"
        assert path.is_socket() and stat.S_IMODE(path.stat().st_mode) == 0o600, path
        stats = subprocess.run(
            [str(GUNICORNC), "-s", str(path), "-c", "show stats", "-j"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        masters.add(json.loads(stats.stdout)["pid"])
    assert len(masters) == 2  # not one socket, taken over by whichever server started last


def control_socket(monkeypatch: pytest.MonkeyPatch, instance: Path, bind: str) -> str:
    monkeypatch.setenv("ELEARN_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("ELEARN_BIND", bind)
    monkeypatch.delenv("ELEARN_CONTROL_SOCKET", raising=False)
    return str(runpy.run_path(str(ROOT / "gunicorn.conf.py"))["control_socket"])


def test_control_sockets_differ_per_instance_and_address(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    one = control_socket(monkeypatch, tmp_path / "a", "127.0.0.1:8000")
    assert one == str(tmp_path / "a" / "gunicorn-127.0.0.1_8000.ctl")
    assert control_socket(monkeypatch, tmp_path / "b", "127.0.0.1:8000") != one
    assert control_socket(monkeypatch, tmp_path / "a", "127.0.0.1:8001") != one
    # A folder too deep for a socket's path: a private one under gunicorn's folder, still its own.
    deep = tmp_path / ("d" * 120)
    first = control_socket(monkeypatch, deep, "127.0.0.1:8000")
    assert first.startswith(str(Path.home() / ".gunicorn" / "elearn-"))
    assert control_socket(monkeypatch, deep, "127.0.0.1:8001") != first
    monkeypatch.setenv("ELEARN_CONTROL_SOCKET", "/run/elearn/ctl.sock")
    assert str(runpy.run_path(str(ROOT / "gunicorn.conf.py"))["control_socket"]) == (
        "/run/elearn/ctl.sock"
    )
