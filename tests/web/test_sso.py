"""Sign-in through an organisation's OpenID provider, against a real provider on loopback
(panva's oidc-provider, tests/oidc/): accounts made, linked and mapped; tokens and answers that
must be refused are refused, and nothing is created when they are."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.domain.sso import SsoRefused, check_id_token_claims
from elearn.models import AuditEntry, ManagerUnit, OrgUnit, SsoGrant, User, UserIdentity, UserRole
from elearn.services import accounts
from tests.conftest import (
    DEMO_PASSWORD,
    Template,
    copy_instance,
    csrf_token,
    english_client,
    login,
    make_app,
    release_app,
)
from tests.oidc_provider import (
    CLIENT_SECRET,
    USERS,
    RunningProvider,
    free_port,
    node_ready,
    running_provider,
    sign_in_without_browser,
)

pytestmark = pytest.mark.skipif(
    node_ready() is not None and not __import__("os").environ.get("CI"),
    reason=str(node_ready()),
)
APP = "http://localhost"
CALLBACK = f"{APP}/login/sso/test/callback"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    with running_provider(tmp_path_factory.mktemp("oidc"), [CALLBACK]) as running:
        yield running


def provider_config(provider: RunningProvider, **overrides: Any) -> dict[str, Any]:
    return {
        "label": "Kommune ID",
        "discovery_url": provider.discovery_url,
        "client_id": "elearn",
        "client_secret": CLIENT_SECRET,
        "scopes": ["openid", "email", "profile", "groups"],
        "trusted_email_domains": ["kommune.example"],
        "rules": [
            {"claim": "groups", "value": "innkjop-ledere", "manager_of": "Demo kommune / Innkjøp"},
            {"claim": "tid", "value": "tenant-kommune", "unit": "Demo kommune"},
        ],
        **overrides,
    }


def sso_app(template_db: Template, path: Path, providers: dict[str, Any], **config: Any) -> Flask:
    return make_app(path, OIDC_PROVIDERS=providers, **config, **copy_instance(template_db, path))


@pytest.fixture
def app(template_db: Template, tmp_path: Path, provider: RunningProvider) -> Iterator[Flask]:
    import json

    (provider.workdir / "users.json").write_text(json.dumps(USERS))  # each test from the start
    application = sso_app(template_db, tmp_path, {"test": provider_config(provider)})
    yield application
    release_app(application)


def start(client: FlaskClient, name: str = "test") -> str:
    response = client.get(f"/login/sso/{name}")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return str(response.headers["Location"])


def sso_sign_in(client: FlaskClient, login_name: str, name: str = "test") -> Any:
    back = sign_in_without_browser(start(client, name), login_name, APP + "/")
    return client.get(back[len(APP) :])


def db(app: Flask) -> Session:
    return Session(engine_of(app))


def users_with(app: Flask, email: str) -> list[User]:
    with db(app) as s:
        return list(s.exec(select(User).where(User.email == email)))


def identities(app: Flask) -> list[UserIdentity]:
    with db(app) as s:
        return list(s.exec(select(UserIdentity)))


def roles(app: Flask, user_id: int) -> set[str]:
    with db(app) as s:
        return set(s.exec(select(UserRole.role).where(UserRole.user_id == user_id)))


def managed_paths(app: Flask, user_id: int) -> set[str]:
    with db(app) as s:
        ids = s.exec(select(ManagerUnit.unit_id).where(ManagerUnit.user_id == user_id)).all()
        return {accounts.unit_path(session=s, unit_id=i) for i in ids}


def test_the_login_page_offers_the_provider(app: Flask) -> None:
    page = english_client(app).get("/login").get_data(as_text=True)
    assert "Sign in with Kommune ID" in page
    assert 'href="/login/sso/test' in page


def test_the_way_out_asks_for_pkce_state_and_nonce(app: Flask) -> None:
    query = parse_qs(urlsplit(start(english_client(app))).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert query["redirect_uri"] == [CALLBACK]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile", "groups"}


def test_a_first_sign_in_makes_the_account_and_maps_claims_to_roles_and_units(
    app: Flask, provider: RunningProvider
) -> None:
    client = english_client(app)
    response = sso_sign_in(client, "nora")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    [user] = users_with(app, "nora@kommune.example")
    assert user.name == "Nora Nilsen"
    assert user.password_hash == accounts.UNUSABLE  # no password of its own
    assert roles(app, user.id) == {"learner", "manager"}
    assert managed_paths(app, user.id) == {"Demo kommune/Innkjøp"}
    with db(app) as s:
        assert accounts.unit_path(session=s, unit_id=user.org_unit_id) == "Demo kommune"
    [identity] = identities(app)
    assert (identity.issuer, identity.subject, identity.user_id) == (
        provider.issuer,
        "nora",
        user.id,
    )
    account = client.get("/account").get_data(as_text=True)
    assert "Nora Nilsen" in account and "Kommune ID, linked" in account
    with db(app) as s:
        actions = set(s.exec(select(AuditEntry.action)))
    assert {"user.created", "user.sso_linked", "user.sso_access_changed"} <= actions


def test_accounts_are_made_for_a_provider_even_when_self_sign_up_is_off(app: Flask) -> None:
    with db(app) as s:
        accounts.put_setting(session=s, key="self_signup", value=False, actor_id=None, now=utcnow())
        s.commit()
    assert english_client(app).get("/signup").status_code == 403
    assert sso_sign_in(english_client(app), "nora").status_code == 302
    assert len(users_with(app, "nora@kommune.example")) == 1


def test_a_second_sign_in_finds_the_same_account(app: Flask) -> None:
    sso_sign_in(english_client(app), "nora")
    response = sso_sign_in(english_client(app), "nora")
    assert response.status_code == 302
    assert len(users_with(app, "nora@kommune.example")) == 1
    assert len(identities(app)) == 1


def test_roles_the_rules_gave_go_when_the_group_no_longer_maps_and_hand_given_roles_stay(
    app: Flask, provider: RunningProvider
) -> None:
    sso_sign_in(english_client(app), "nora")
    [user] = users_with(app, "nora@kommune.example")
    with db(app) as s:  # an admin makes her a certifier by hand
        s.add(UserRole(user_id=user.id, role="certifier"))
        s.commit()
    provider.set_user("nora", groups=[])
    assert sso_sign_in(english_client(app), "nora").status_code == 302
    assert roles(app, user.id) == {"learner", "certifier"}
    assert managed_paths(app, user.id) == set()
    with db(app) as s:
        grants = set(s.exec(select(SsoGrant.kind, SsoGrant.value)))
    assert ("manages", "Demo kommune/Innkjøp") not in grants
    assert ("role", "manager") not in grants


def test_a_role_an_admin_gave_before_the_rule_stays_when_the_rule_stops(
    app: Flask, provider: RunningProvider
) -> None:
    with db(app) as s:
        user = accounts.create_user(
            session=s,
            email="nora@kommune.example",
            name="Nora",
            password=None,
            now=utcnow(),
            roles=("learner", "manager"),
        )
        s.commit()
        user_id = user.id
    sso_sign_in(english_client(app), "nora")  # linked by e-mail: a trusted domain, no password
    provider.set_user("nora", groups=[])
    sso_sign_in(english_client(app), "nora")
    assert roles(app, user_id) == {"learner", "manager"}  # both were the admin's


def test_an_imported_account_without_password_is_linked_by_email_in_a_trusted_domain(
    app: Flask,
) -> None:
    with db(app) as s:
        made = accounts.create_user(
            session=s, email="siri@kommune.example", name="Siri", password=None, now=utcnow()
        )
        s.commit()
        siri = made.id
    response = sso_sign_in(english_client(app), "siri")  # no email_verified, as Entra ID
    assert response.status_code == 302
    [identity] = identities(app)
    assert identity.user_id == siri
    assert len(users_with(app, "siri@kommune.example")) == 1


def test_an_account_without_password_outside_the_trusted_domains_is_not_linked(app: Flask) -> None:
    with db(app) as s:
        accounts.create_user(
            session=s, email="ola@elsewhere.example", name="Ola", password=None, now=utcnow()
        )
        s.commit()
    response = sso_sign_in(english_client(app), "ola")
    assert response.status_code == 403
    assert "cannot be linked to it by itself" in response.get_data(as_text=True)
    assert identities(app) == []


def test_an_unconfirmed_address_makes_no_account(app: Flask) -> None:
    response = sso_sign_in(english_client(app), "uma")
    assert response.status_code == 403
    assert "did not confirm your e-mail address" in response.get_data(as_text=True)
    assert users_with(app, "uma@elsewhere.example") == []
    assert identities(app) == []


def test_a_password_account_is_linked_only_with_its_password(app: Flask) -> None:
    client = english_client(app)
    response = sso_sign_in(client, "lena")
    assert response.status_code == 302 and response.headers["Location"] == "/login/sso/link"
    page = client.get("/login/sso/link").get_data(as_text=True)
    assert "learner@example.org" in page
    token = csrf_token(client, "/login/sso/link")
    wrong = client.post("/login/sso/link", data={"csrf_token": token, "password": "not-it"})
    assert wrong.status_code == 401
    assert identities(app) == []
    assert client.get("/account").status_code == 302  # not signed in
    right = client.post("/login/sso/link", data={"csrf_token": token, "password": DEMO_PASSWORD})
    assert right.status_code == 302
    [identity] = identities(app)
    [learner] = users_with(app, "learner@example.org")
    assert identity.user_id == learner.id
    assert client.get("/account").status_code == 200
    # From now on the provider alone signs her in.
    again = english_client(app)
    assert sso_sign_in(again, "lena").headers["Location"] == "/"
    assert again.get("/account").status_code == 200


def test_a_provider_without_addresses_links_the_account_the_person_signs_in_to(
    app: Flask, provider: RunningProvider
) -> None:
    provider_scopes = provider_config(provider)
    assert "groups" in provider_scopes["scopes"]
    client = english_client(app)
    response = sso_sign_in(client, "ida")  # as ID-porten: sub and pid, nothing else
    assert response.headers["Location"] == "/login/sso/link"
    with client.session_transaction() as browser:
        assert "pid" not in browser["sso_link"]["claims"]  # never kept, not even for a minute
    page = client.get("/login/sso/link").get_data(as_text=True)
    assert 'name="email"' in page
    token = csrf_token(client, "/login/sso/link")
    wrong = client.post(
        "/login/sso/link",
        data={"csrf_token": token, "email": "learner@example.org", "password": "not-it"},
    )
    assert wrong.status_code == 401
    assert identities(app) == []
    right = client.post(
        "/login/sso/link",
        data={"csrf_token": token, "email": "learner@example.org", "password": DEMO_PASSWORD},
    )
    assert right.status_code == 302
    [identity] = identities(app)
    [learner] = users_with(app, "learner@example.org")
    assert (identity.user_id, identity.subject) == (learner.id, "ida")
    with db(app) as s:  # the national identity number is nowhere in the database
        for table in ("user_identity", "user_account", "audit_entry", "sso_grant", "app_setting"):
            rows = s.connection().exec_driver_sql(f"SELECT * FROM {table}").fetchall()
            assert "01017012345" not in repr(rows), table


def test_the_link_step_cannot_be_reached_without_a_provider_sign_in(app: Flask) -> None:
    client = english_client(app)
    assert client.get("/login/sso/link").status_code == 400
    token = csrf_token(client, "/login")
    response = client.post("/login/sso/link", data={"csrf_token": token, "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert identities(app) == []


def _token_for_other_client(provider: RunningProvider, nonce: str) -> dict[str, Any]:
    """A real token response of the same provider for its second client."""
    meta = requests.get(provider.discovery_url, timeout=5).json()
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    query = urlencode(
        {
            "client_id": "other-app",
            "response_type": "code",
            "scope": "openid email profile",
            "redirect_uri": "http://other.example/cb",
            "state": "s",
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    back = sign_in_without_browser(
        f"{meta['authorization_endpoint']}?{query}", "nora", "http://other.example/cb"
    )
    code = parse_qs(urlsplit(back).query)["code"][0]
    answer = requests.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://other.example/cb",
            "code_verifier": verifier,
        },
        auth=("other-app", CLIENT_SECRET),
        timeout=5,
    )
    assert answer.ok, answer.text
    return dict(answer.json())


def test_a_token_made_for_another_client_is_refused(
    app: Flask, provider: RunningProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = english_client(app)
    authorize = start(client)
    nonce = parse_qs(urlsplit(authorize).query)["nonce"][0]
    other = _token_for_other_client(provider, nonce)
    # The token endpoint's answer swapped for the other client's (same provider, same nonce).
    oauth_client = app.extensions["elearn.oauth"].create_client("test")
    monkeypatch.setattr(oauth_client, "fetch_access_token", lambda **_kw: dict(other))
    back = sign_in_without_browser(authorize, "nora", APP + "/")
    response = client.get(back[len(APP) :])
    assert response.status_code in (400, 403)
    assert "could not be confirmed" in response.get_data(as_text=True)
    assert users_with(app, "nora@kommune.example") == []
    # And the claims check on its own says why.
    from joserfc import jwt

    claims = jwt.decode(other["id_token"], _provider_keys(provider)).claims
    with pytest.raises(SsoRefused) as refused:
        check_id_token_claims(
            claims, issuer=provider.issuer, client_id="elearn", nonce=nonce, now=utcnow()
        )
    assert refused.value.reason == "audience"


def _provider_keys(provider: RunningProvider) -> Any:
    from joserfc.jwk import KeySet

    meta = requests.get(provider.discovery_url, timeout=5).json()
    return KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=5).json())


def test_a_token_expired_by_the_apps_clock_is_refused(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import elearn.web.sso as pages

    client = english_client(app)
    back = sign_in_without_browser(start(client), "nora", APP + "/")
    monkeypatch.setattr(pages, "utcnow", lambda: utcnow() + timedelta(hours=2))
    response = client.get(back[len(APP) :])
    assert response.status_code == 403
    assert "expired" in response.get_data(as_text=True)
    assert users_with(app, "nora@kommune.example") == []


def test_a_replayed_answer_is_refused(app: Flask) -> None:
    client = english_client(app)
    back = sign_in_without_browser(start(client), "nora", APP + "/")
    assert client.get(back[len(APP) :]).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    replayed = client.get(back[len(APP) :])
    assert replayed.status_code == 400
    assert "not started here, or it was used already" in replayed.get_data(as_text=True)
    elsewhere = english_client(app).get(back[len(APP) :])  # another browser with the URL
    assert elsewhere.status_code == 400
    assert len(identities(app)) == 1


def test_a_state_this_browser_was_not_given_is_refused(app: Flask) -> None:
    client = english_client(app)
    back = sign_in_without_browser(start(client), "nora", APP + "/")
    forged = back.replace("state=", "state=x")
    response = client.get(forged[len(APP) :])
    assert response.status_code == 400
    assert users_with(app, "nora@kommune.example") == []


def test_a_nonce_other_than_this_browsers_is_refused(app: Flask) -> None:
    client = english_client(app)
    back = sign_in_without_browser(start(client), "nora", APP + "/")
    with client.session_transaction() as browser:
        browser["sso_pending"] = {**browser["sso_pending"], "nonce": "another-nonce"}
    response = client.get(back[len(APP) :])
    assert response.status_code == 403
    assert users_with(app, "nora@kommune.example") == []
    with db(app) as s:
        refused = s.exec(
            select(AuditEntry).where(col(AuditEntry.action) == "user.sso_refused")
        ).all()
    assert [r.data["reason"] for r in refused] == ["nonce"]


def test_a_provider_that_is_down_gets_a_clear_message_and_nothing_is_made(
    template_db: Template, tmp_path: Path, provider: RunningProvider
) -> None:
    down = provider_config(
        provider, discovery_url=f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    )
    application = sso_app(template_db, tmp_path, {"down": down})
    try:
        before = len(users_with(application, "nora@kommune.example"))
        response = english_client(application).get("/login/sso/down")
        assert response.status_code == 503
        assert "did not answer" in response.get_data(as_text=True)
        assert len(users_with(application, "nora@kommune.example")) == before == 0
    finally:
        release_app(application)


def test_an_unknown_provider_is_not_found(app: Flask) -> None:
    assert english_client(app).get("/login/sso/nope").status_code == 404
    assert english_client(app).get("/login/sso/nope/callback?code=x&state=y").status_code == 404


def test_private_key_jwt_signs_the_client_in_without_a_secret(
    template_db: Template, tmp_path: Path, provider: RunningProvider
) -> None:
    (tmp_path / "sso-client.pem").write_text(provider.client_pem)
    config = provider_config(
        provider,
        client_id="elearn-pkjwt",
        client_secret=None,
        private_key_file="sso-client.pem",
        private_key_id="elearn-client-1",
    )
    config.pop("client_secret")
    application = sso_app(template_db, tmp_path, {"test": config})
    try:
        response = sso_sign_in(english_client(application), "nora")
        assert response.status_code == 302, response.get_data(as_text=True)
        assert len(users_with(application, "nora@kommune.example")) == 1
    finally:
        release_app(application)


def test_sign_out_ends_the_session_at_the_provider_too(
    app: Flask, provider: RunningProvider
) -> None:
    client = english_client(app)
    sso_sign_in(client, "nora")
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 200  # a page with the way on: the CSP keeps forms on the site
    found = re.search(
        r'<a class="button" href="([^"]+)">Sign out of Kommune ID', response.get_data(as_text=True)
    )
    assert found
    target = urlsplit(html.unescape(found.group(1)))
    assert f"{target.scheme}://{target.netloc}" == provider.issuer
    assert target.path == "/session/end"
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == [f"{APP}/login"]
    assert query["id_token_hint"][0].count(".") == 2
    assert query["client_id"] == ["elearn"]
    assert client.get("/account").status_code == 302  # signed out here as well


def test_a_domain_that_must_use_its_provider_cannot_use_passwords_but_break_glass_can(
    template_db: Template, tmp_path: Path, provider: RunningProvider
) -> None:
    application = sso_app(
        template_db,
        tmp_path,
        {"test": provider_config(provider)},
        SSO_BREAK_GLASS_EMAILS=("root@kommune.example",),
    )
    try:
        with db(application) as s:
            for email in ("siri@kommune.example", "root@kommune.example"):
                accounts.create_user(
                    session=s, email=email, name="X", password="a-long-password", now=utcnow()
                )
            s.commit()
        admin = english_client(application)
        login(admin, "admin@example.org")
        token = csrf_token(admin, "/admin/sso")
        bad = admin.post(
            "/admin/sso",
            data={"csrf_token": token, "domain": "not a domain", "provider": "test", "submit": "1"},
        )
        assert bad.status_code == 200 and "Give a domain such as" in bad.get_data(as_text=True)
        forged = admin.post(
            "/admin/sso",
            data={
                "csrf_token": token,
                "domain": "kommune.example",
                "provider": "nope",
                "submit": "1",
            },
        )
        assert forged.status_code == 200
        saved = admin.post(
            "/admin/sso",
            data={
                "csrf_token": token,
                "domain": "kommune.example",
                "provider": "test",
                "submit": "1",
            },
        )
        assert saved.status_code == 302
        refused = login(english_client(application), "siri@kommune.example", "a-long-password")
        assert refused.status_code == 401
        assert "Your organisation signs you in" in refused.get_data(as_text=True)
        # The same answer for an address that has no account: nothing is revealed.
        nobody = login(english_client(application), "nobody@kommune.example", "a-long-password")
        assert nobody.status_code == 401
        assert "Your organisation signs you in" in nobody.get_data(as_text=True)
        assert (
            login(
                english_client(application), "root@kommune.example", "a-long-password"
            ).status_code
            == 302
        )
        # Lifted again: passwords work.
        admin.post(
            "/admin/sso",
            data={"lift-csrf_token": token, "lift-domain": "kommune.example", "lift-submit": "1"},
        )
        assert (
            login(
                english_client(application), "siri@kommune.example", "a-long-password"
            ).status_code
            == 302
        )
    finally:
        release_app(application)


def test_only_admins_reach_the_sso_settings(app: Flask) -> None:
    learner = english_client(app)
    login(learner, "learner@example.org")
    assert learner.get("/admin/sso").status_code == 403
    assert english_client(app).get("/admin/sso").status_code == 302


def test_wrong_provider_settings_stop_the_app_naming_the_setting(
    template_db: Template, tmp_path: Path, provider: RunningProvider
) -> None:
    with pytest.raises(RuntimeError, match=r"OIDC_PROVIDERS\['test'\]"):
        sso_app(template_db, tmp_path, {"test": provider_config(provider, client_id="")})


def test_unused_org_unit_rows_are_not_made_by_a_refused_sign_in(app: Flask) -> None:
    with db(app) as s:
        before = len(s.exec(select(OrgUnit)).all())
    sso_sign_in(english_client(app), "uma")
    with db(app) as s:
        assert len(s.exec(select(OrgUnit)).all()) == before
