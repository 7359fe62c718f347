"""A live elearn server for Playwright driving Debian's Chromium, and an axe-core check."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import Template, clear_limits, copy_instance, make_app

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if not Path(CHROMIUM).exists():
                if os.environ.get("CI"):
                    raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
                item.add_marker(
                    pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt-get install chromium)")
                )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "en-GB", "viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="session")
def live_app(template_db: Template, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The app the live server serves, for a test that must set up data directly."""
    instance = tmp_path_factory.mktemp("e2e")
    return make_app(instance, TESTING=False, **copy_instance(template_db, instance))


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    app = live_app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    clear_limits(app)


@pytest.fixture(scope="session")
def shots() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def axe_check(page: Any, name: str) -> list[dict[str, Any]]:
    """Run axe-core on the page; fail on serious or critical WCAG 2.1 A/AA violations."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    violations = results.response["violations"]
    grave = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert grave == [], f"axe on {name}:\n" + "\n".join(grave)
    return violations
