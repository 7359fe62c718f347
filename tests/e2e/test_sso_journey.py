"""Chromium signs in through a real OpenID provider on loopback (panva's oidc-provider): the
button on the sign-in page, the provider's own login and consent pages, back to elearn with a
new account mapped from the provider's groups; then signs out at the provider too."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlmodel import Session, select
from werkzeug.serving import make_server

from elearn.db import engine_of
from elearn.models import User, UserIdentity
from tests.conftest import Template, copy_instance, make_app, release_app
from tests.e2e.conftest import axe_check
from tests.oidc_provider import CLIENT_SECRET, free_port, node_ready, running_provider

pytestmark = pytest.mark.skipif(
    node_ready() is not None and not __import__("os").environ.get("CI"),
    reason=str(node_ready()),
)


@pytest.fixture(scope="module")
def sso_server(
    template_db: Template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Flask]]:
    instance = tmp_path_factory.mktemp("sso-e2e")
    provider_port, app_port = free_port(), free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    base = f"http://127.0.0.1:{app_port}"
    app = make_app(
        instance,
        TESTING=False,
        OIDC_PROVIDERS={
            "kommune": {
                "label": "Kommune ID",
                "discovery_url": f"{issuer}/.well-known/openid-configuration",
                "client_id": "elearn",
                "client_secret": CLIENT_SECRET,
                "scopes": ["openid", "email", "profile", "groups"],
                "rules": [
                    {"claim": "groups", "value": "innkjop-ledere", "manager_of": "Kommune/Innkjøp"}
                ],
            }
        },
        **copy_instance(template_db, instance),
    )
    with running_provider(
        tmp_path_factory.mktemp("sso-provider"),
        [f"{base}/login/sso/kommune/callback"],
        port=provider_port,
    ):
        server = make_server("127.0.0.1", app_port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield base, app
        finally:
            server.shutdown()
            release_app(app)


def test_a_buyer_signs_in_through_the_organisation_and_out_again(
    page: Page, sso_server: tuple[str, Flask], shots: Path
) -> None:
    base, app = sso_server
    page.goto(f"{base}/login")
    axe_check(page, "login with a provider")
    page.get_by_role("link", name="Sign in with Kommune ID").click()

    # The provider's own pages (its development login form and consent).
    page.locator("input[name=login]").fill("nora")
    page.locator("input[name=password]").fill("any")
    page.screenshot(path=shots / "sso-01-provider-login.png", full_page=True)
    page.locator("button[type=submit]").click()
    page.locator("button[type=submit]").click()  # consent

    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_role("heading", name="Welcome, Nora Nilsen")).to_be_visible()
    axe_check(page, "home after SSO")
    page.screenshot(path=shots / "sso-02-signed-in.png", full_page=True)
    # Mapped from the provider's group: she manages the purchasing unit.
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Staff")
    ).to_be_visible()

    with Session(engine_of(app)) as s:
        user = s.exec(select(User).where(User.email == "nora@kommune.example")).one()
        identity: Any = s.exec(select(UserIdentity).where(UserIdentity.user_id == user.id)).one()
    assert identity.subject == "nora"

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    axe_check(page, "signed out, on to the provider")
    page.screenshot(path=shots / "sso-03-signed-out.png", full_page=True)
    # RP-initiated logout: the provider asks to confirm, then sends the browser back.
    page.get_by_role("link", name="Sign out of Kommune ID").click()
    page.locator("button[type=submit], input[type=submit]").first.click()
    expect(page).to_have_url(re.compile(re.escape(f"{base}/login") + r"(\?state=[\w-]+)?$"))
    page.goto(f"{base}/account")
    expect(page).to_have_url(f"{base}/login?next=%2Faccount")
