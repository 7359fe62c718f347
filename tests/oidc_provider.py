"""A real OpenID provider on loopback for the SSO tests: panva's oidc-provider (tests/oidc/),
run with the machine's Node.js (recipes.md). `npm ci` in tests/oidc installs it; .ci/run does.

Its development login page takes any password for a known login; `sign_in_without_browser`
drives that page with plain HTTP, as a person would, and stops at the app's redirect URI."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey

HERE = Path(__file__).parent / "oidc"
CLIENT_SECRET = "elearn-test-secret-0123456789abcdef"

USERS: dict[str, dict[str, Any]] = {
    # A new person whose organisation confirms the address: created and mapped.
    "nora": {
        "email": "nora@kommune.example",
        "email_verified": True,
        "name": "Nora Nilsen",
        "groups": ["innkjop-ledere"],
        "tid": "tenant-kommune",
    },
    # In a trusted domain without email_verified (as Entra ID sends it).
    "siri": {
        "email": "siri@kommune.example",
        "name": "Siri Staff",
        "groups": [],
        "tid": "tenant-kommune",
    },
    # An address the provider did not confirm, in a domain nobody trusts.
    "uma": {"email": "uma@elsewhere.example", "email_verified": False, "name": "Uma Unverified"},
    # The demo learner's address: a password account, linked only with its password.
    "lena": {"email": "learner@example.org", "email_verified": True, "name": "Lena Learner"},
    # As ID-porten: a subject and a national identity number, no e-mail, no name.
    "ida": {"pid": "01017012345"},
    # An address outside the trusted domains whose account has no password.
    "ola": {"email": "ola@elsewhere.example", "email_verified": True, "name": "Ola Import"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def node_ready() -> str | None:
    """Why the provider cannot run here, or None."""
    if shutil.which("node") is None:
        return "no Node.js on this machine"
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        return "oidc-provider is not installed: run `npm ci` in tests/oidc (.ci/run does)"
    return None


def private_key() -> tuple[str, dict[str, Any]]:
    """A client key for private_key_jwt: the PEM the app reads and the JWK the provider holds."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = RSAKey.import_key(pem).as_dict(private=False)
    jwk.update({"kid": "elearn-client-1", "use": "sig", "alg": "RS256"})
    return pem, jwk


@dataclass
class RunningProvider:
    issuer: str
    workdir: Path
    client_jwk: dict[str, Any]
    client_pem: str

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def set_user(self, login: str, **claims: Any) -> None:
        """Change a user's claims; the provider reads them at the next sign-in."""
        users = json.loads((self.workdir / "users.json").read_text())
        users[login] = {**users.get(login, {}), **claims}
        (self.workdir / "users.json").write_text(json.dumps(users))


@contextmanager
def running_provider(
    workdir: Path, redirect_uris: list[str], port: int | None = None
) -> Iterator[RunningProvider]:
    reason = node_ready()
    if reason:
        raise RuntimeError(reason)
    port = port or free_port()
    issuer = f"http://127.0.0.1:{port}"
    pem, jwk = private_key()
    (workdir / "users.json").write_text(json.dumps(USERS))
    logout_uris = sorted(
        {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}/login" for u in redirect_uris}
    )
    config = {
        "port": port,
        "issuer": issuer,
        "users_file": str(workdir / "users.json"),
        "clients": [
            {
                "client_id": "elearn",
                "client_secret": CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": logout_uris,
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            {
                # A second client of the same provider: its tokens are not for elearn.
                "client_id": "other-app",
                "client_secret": CLIENT_SECRET,
                "redirect_uris": ["http://other.example/cb"],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            },
            {
                "client_id": "elearn-pkjwt",
                "redirect_uris": redirect_uris,
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": {"keys": [jwk]},
            },
        ],
    }
    (workdir / "provider.json").write_text(json.dumps(config))
    log = (workdir / "provider.log").open("w")
    process = subprocess.Popen(
        ["node", str(HERE / "server.mjs"), str(workdir / "provider.json")],
        cwd=HERE,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "the OpenID provider did not start: " + (workdir / "provider.log").read_text()
                )
            time.sleep(0.1)
        yield RunningProvider(issuer, workdir, jwk, pem)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def sign_in_without_browser(authorize_url: str, login: str, stop_at: str) -> str:
    """Follow the provider's pages as a person would (log in with any password, consent) until
    it redirects to ``stop_at``; returns that URL (with code and state)."""
    http = requests.Session()
    url = authorize_url
    for _ in range(12):
        response = http.get(url, allow_redirects=False, timeout=10)
        if response.status_code in (302, 303):
            url = urljoin(url, response.headers["Location"])
            if url.startswith(stop_at):
                return url
            continue
        page = response.text
        found = FORM_ACTION.search(page)
        assert found, f"no form at {url}: {page[:500]}"
        action = urljoin(url, found.group(1))
        if 'name="login"' in page:
            data = {"prompt": "login", "login": login, "password": "any"}
        else:
            data = {"prompt": "consent"}
        response = http.post(action, data=data, allow_redirects=False, timeout=10)
        assert response.status_code in (302, 303), (response.status_code, response.text[:500])
        url = urljoin(action, response.headers["Location"])
        if url.startswith(stop_at):
            return url
    raise AssertionError("the provider's pages did not end at the app")
