"""Identifiers fixed at issuance, status lists as the spec advises, and verification that fails
closed (docs/decisions/0014)."""

from __future__ import annotations

import base64
import gzip
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jws
from joserfc.jwk import import_key
from sqlmodel import Session, select

from elearn import create_app
from elearn.clock import utcnow
from elearn.config import DefaultPublicUrl
from elearn.db import engine_of
from elearn.domain import credentials as vc
from elearn.models import Certificate, StatusList
from elearn.services.certificates import authority_of
from tests.conftest import (
    ROOT,
    Template,
    copy_instance,
    english_client,
    login,
    make_app,
    post,
    release_app,
)
from tests.web.test_certificates import certificate_of, demo_code, pass_exam

# --- helpers -------------------------------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_verify(app: Flask, tmp_path: Path, token: str, *extra: str) -> Any:
    (tmp_path / "cred.jwt").write_text(token)
    jwks = tmp_path / "jwks.json"
    if not jwks.exists():
        jwks.write_text(json.dumps(app.test_client().get("/.well-known/jwks.json").json))
    return app.test_cli_runner().invoke(
        args=["credentials", "verify", str(tmp_path / "cred.jwt"), "--jwks", str(jwks), *extra]
    )


def credential_of(client: FlaskClient, code: str) -> str:
    return str(client.get(f"/api/v1/credentials/{code}").get_data(as_text=True))


# --- fail closed: the CLI ------------------------------------------------------------------------


def test_cli_help_documents_the_exit_codes(app: Flask) -> None:
    out = app.test_cli_runner().invoke(args=["credentials", "verify", "--help"]).output
    assert "3  status unknown" in out and "1  not valid" in out and "0  valid" in out


def test_cli_fails_closed_when_the_status_list_cannot_be_read(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    """A revoked certificate whose list cannot be established is never "valid" (it used to be)."""
    token = credential_of(client, demo_code(app, "kari.gyldig@example.org"))
    good_list = client.get("/status/1").get_data(as_text=True)
    (tmp_path / "status.jwt").write_text(good_list)
    assert (
        cli_verify(app, tmp_path, token, "--status-list", str(tmp_path / "status.jwt")).exit_code
        == 0
    )

    other_key = vc.generate_key("http://127.0.0.1:5000/.well-known/jwks.json#k-other")
    payload = jwt.decode(good_list, options={"verify_signature": False})
    forged = vc.sign_credential(
        {k: v for k, v in payload.items() if k not in ("iss", "nbf", "iat", "jti", "sub")},
        other_key,
    )
    head, body, signature = good_list.split(".")
    flipped = body[:-6] + ("A" if body[-6] != "A" else "B") + body[-5:]
    cases = {
        "missing": str(tmp_path / "no-such-list.jwt"),
        "unreachable": f"http://127.0.0.1:{closed_port()}/status/1",
        "tampered": ".".join((head, flipped, signature)),
        "wrong key": forged,
    }
    for case, source in cases.items():
        if case in ("tampered", "wrong key"):
            (tmp_path / f"{case}.jwt").write_text(source)
            source = str(tmp_path / f"{case}.jwt")
        result = cli_verify(app, tmp_path, token, "--status-list", source)
        assert result.exit_code == 3, (case, result.output)
        assert "status: status unknown" in result.output, (case, result.output)
        assert "status: valid" not in result.output, case
        assert "revocation: cannot be established" in result.output, case


def test_cli_fails_closed_on_an_index_outside_the_list(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    """A list that does not hold the credential's index (here: a list of 8 slots, signed by the
    right key) cannot say the credential is not revoked."""
    token = credential_of(client, demo_code(app, "kari.gyldig@example.org"))
    url = jwt.decode(token, options={"verify_signature": False})["credentialStatus"][
        "statusListCredential"
    ]
    authority = authority_of(app=app)
    small = vc.build_status_list_credential(
        url, authority.issuer, vc.encode_status_list([], size=8, minimum=8), utcnow()
    )
    (tmp_path / "small.jwt").write_text(
        vc.sign_credential(small, authority.current_key(now=utcnow()))
    )
    result = cli_verify(app, tmp_path, token, "--status-list", str(tmp_path / "small.jwt"))
    assert result.exit_code == 3 and "outside the list" in result.output, result.output


def test_cli_no_status_says_revocation_was_not_checked(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    token = credential_of(client, demo_code(app, "kari.gyldig@example.org"))
    result = cli_verify(app, tmp_path, token, "--no-status")
    assert result.exit_code == 0 and "revocation: not checked" in result.output


# --- fail closed: online -------------------------------------------------------------------------


def test_verify_page_says_status_unknown_when_the_list_cannot_be_trusted(
    app: Flask, client: FlaskClient
) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    assert "<strong>Valid</strong>" in client.get(f"/verify/{code}").get_data(as_text=True)
    client.get("/status/1")  # signed and stored
    other_key = vc.generate_key("http://127.0.0.1:5000/.well-known/jwks.json#k-other")
    with Session(engine_of(app)) as s:
        row = s.get(StatusList, 1)
        assert row is not None and row.token is not None
        good = row.token
        head, body, signature = good.split(".")
        for bad in (
            ".".join((head, body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:], signature)),
            vc.sign_credential(
                vc.build_status_list_credential(
                    row.url, authority_of(app=app).issuer, vc.encode_status_list([]), utcnow()
                ),
                other_key,
            ),
        ):
            row.token = bad
            s.add(row)
            s.commit()
            page = client.get(f"/verify/{code}").get_data(as_text=True)
            assert "Status unknown" in page and "<strong>Valid</strong>" not in page
        row.token = good
        cert = s.exec(select(Certificate).where(Certificate.code == code)).one()
        row.size = cert.status_index  # the index is now outside the list
        s.add(row)
        s.commit()
        assert "Status unknown" in client.get(f"/verify/{code}").get_data(as_text=True)
        row.size = vc.STATUS_LIST_SIZE
        row.url = "http://elsewhere.example/status/1"  # not the list the credential names
        s.add(row)
        s.commit()
        assert "Status unknown" in client.get(f"/verify/{code}").get_data(as_text=True)
        s.delete(row)
        s.commit()
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "Status unknown" in page and "<strong>Valid</strong>" not in page


# --- status lists ---------------------------------------------------------------------------------


def test_status_list_is_cacheable_and_signed_again_only_when_a_bit_changes(
    app: Flask, client: FlaskClient, as_role: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import elearn.web.certificates as pages

    first = client.get("/status/1")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=300"
    etag = first.headers["ETag"]
    assert etag and first.headers["Last-Modified"]
    not_modified = client.get("/status/1", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.data == b""
    # An hour later, nothing revoked: the same signed copy, not a new signature.
    monkeypatch.setattr(pages, "utcnow", lambda: utcnow() + timedelta(hours=1))
    later = client.get("/status/1")
    assert later.headers["ETag"] == etag and later.data == first.data
    code = demo_code(app, "kari.gyldig@example.org")
    assert (
        post(as_role("certifier"), f"/certify/certificates/{code}", {"reason": "x"}).status_code
        == 302
    )
    changed = client.get("/status/1", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    with Session(engine_of(app)) as s:
        index = s.exec(select(Certificate.status_index).where(Certificate.code == code)).one()
    listing = vc.verify_credential(
        changed.get_data(as_text=True), client.get("/.well-known/jwks.json").json
    )
    assert vc.status_bit(listing["credentialSubject"]["encodedList"], index)
    assert client.get("/status/2").status_code == 404


def test_two_app_servers_serve_the_same_list(template_db: Template, tmp_path: Path) -> None:
    """The list's state is in the database: a second server serves the first one's copy."""
    (tmp_path / "a").mkdir()
    config = copy_instance(template_db, tmp_path / "a")
    first = make_app(tmp_path / "a", **config)
    second = make_app(tmp_path / "a", **config)  # same database and keys, another process' app
    try:
        one = first.test_client().get("/status/1")
        two = second.test_client().get("/status/1", headers={"If-None-Match": one.headers["ETag"]})
        assert two.status_code == 304
        assert second.test_client().get("/status/1").data == one.data
    finally:
        engine_of(second).dispose()
        release_app(first)


@pytest.fixture
def small_lists(template_db: Template, tmp_path: Path) -> Iterator[Flask]:
    application = make_app(tmp_path, **copy_instance(template_db, tmp_path), STATUS_LIST_SIZE=8)
    yield application
    release_app(application)


def test_a_full_list_is_followed_by_a_new_one(small_lists: Flask, tmp_path: Path) -> None:
    app = small_lists
    with Session(engine_of(app)) as s:
        on_first = len(s.exec(select(Certificate).where(Certificate.status_list == 1)).all())
    assert on_first < 8  # the demo's certificates, on the list opened before (131,072 slots)
    with Session(engine_of(app)) as s:
        # The template's list 1 has the full size; make it as full as a list of 8 would be.
        row = s.get(StatusList, 1)
        assert row is not None
        row.size = on_first
        s.add(row)
        s.commit()
    learner = english_client(app)
    assert login(learner, "learner@example.org").status_code == 302
    cert = certificate_of(app, pass_exam(app, learner))
    assert cert is not None and cert.status_list == 2 and 0 <= cert.status_index < 8
    payload = jwt.decode(cert.credential, options={"verify_signature": False})
    assert payload["credentialStatus"]["statusListCredential"] == "http://127.0.0.1:5000/status/2"
    client = english_client(app)
    listing = vc.verify_credential(
        client.get("/status/2").get_data(as_text=True), client.get("/.well-known/jwks.json").json
    )
    assert listing["id"] == "http://127.0.0.1:5000/status/2"
    assert not vc.status_bit(listing["credentialSubject"]["encodedList"], cert.status_index)
    with pytest.raises(ValueError):
        vc.status_bit(listing["credentialSubject"]["encodedList"], 8)
    assert "<strong>Valid</strong>" in client.get(f"/verify/{cert.code}").get_data(as_text=True)
    with Session(engine_of(app)) as s:
        assert s.get(StatusList, 2).size == 8  # type: ignore[union-attr]


# --- staged rotation ------------------------------------------------------------------------------


def test_a_rotated_key_is_published_at_once_and_signs_after_the_cache_time(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from elearn.services.certificates import init_app

    t0 = datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)
    app = SimpleNamespace(
        instance_path=str(tmp_path),
        config={"PUBLIC_URL": "https://kurs.example.no", "ISSUER_NAME": "x", "JWKS_MAX_AGE": 300},
        extensions={},
    )
    init_app(app, now=t0)
    authority = authority_of(app=app)
    first = authority.current_key(now=t0)  # the JWT's key (RS256 by default)
    ed25519 = authority.current_key(now=t0, algorithm=vc.EDDSA)
    new = authority.rotate(now=t0 + timedelta(days=30), algorithm=vc.RS256)
    published = [k["kid"] for k in authority.jwks()["keys"]]
    assert sorted(published) == sorted([ed25519.kid, first.kid, new.kid])
    assert published[-1] == new.kid
    assert authority.current_key(now=t0 + timedelta(days=30, seconds=299)).kid == first.kid
    assert authority.current_key(now=t0 + timedelta(days=30, seconds=300)).kid == new.kid
    # A restart reads the same records.
    init_app(app, now=t0)
    assert authority_of(app=app).current_key(now=t0 + timedelta(days=30)).kid == first.kid


# --- the public address ---------------------------------------------------------------------------


def test_production_refuses_the_default_public_url(tmp_path: Path) -> None:
    for url in (None, "http://127.0.0.1:5000/"):
        config = {"INSTANCE_PATH": str(tmp_path), "PRODUCTION": True, "SECRET_KEY": "x"}
        if url:
            config["PUBLIC_URL"] = url
        with pytest.raises(DefaultPublicUrl, match="PUBLIC_URL"):
            create_app(config)


def test_gunicorn_refuses_to_start_production_with_the_default_public_url(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ELEARN_", "FLASK_RUN"))},
        "ELEARN_INSTANCE_PATH": str(tmp_path),
        "ELEARN_SECRET_KEY": "x",
        "ELEARN_PRODUCTION": "true",
        "ELEARN_WORKERS": "1",
        "ELEARN_BIND": f"127.0.0.1:{closed_port()}",
    }
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "elearn.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "PUBLIC_URL is not set" in result.stderr, result.stderr
    assert "Booting worker" not in result.stderr


def test_production_refuses_an_address_whose_identifiers_no_longer_answer(
    app: Flask, tmp_path: Path
) -> None:
    config = {
        "INSTANCE_PATH": app.instance_path,
        "PRODUCTION": True,
        "SECRET_KEY": "x",
        "DATABASE_URL": app.config["DATABASE_URL"],
        "PUBLIC_URL": "https://kurs.example.no",
    }
    with pytest.raises(vc.UnrecordedAddress, match="PUBLIC_URL_ALIASES"):
        create_app(config)
    moved = create_app({**config, "PUBLIC_URL_ALIASES": ["http://127.0.0.1:5000"]})
    engine_of(moved).dispose()


def test_development_address_follows_flask_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASK_RUN_PORT", "8080")
    monkeypatch.setenv("FLASK_RUN_HOST", "0.0.0.0")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    assert app.config["PUBLIC_URL"] == "http://127.0.0.1:8080"
    assert authority_of(app=app).issuer.id == "http://127.0.0.1:8080/issuer"


def test_make_run_passes_its_port_to_the_app() -> None:
    """`make run PORT=8080`: every step (demo included) sees the port the server listens on."""
    # FLASK replaced by a command that prints what each step would see; nothing is installed.
    result = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "-o",
            "install",
            "run",
            "PORT=8080",
            "FLASK=printenv FLASK_RUN_PORT #",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("FLASK_RUN")},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["8080"] * 4, result.stdout


# --- moving the address ---------------------------------------------------------------------------


def _get(client: FlaskClient, url: str, bases: tuple[str, ...]) -> Any:
    """GET one of our URLs through the test client: scheme and host stripped, path kept."""
    assert url.startswith(bases), (url, bases)
    parts = urlsplit(url)
    response = client.get(parts.path)
    assert response.status_code == 200, url
    return response


def _verify_independently(client: FlaskClient, url: str, bases: tuple[str, ...]) -> dict[str, Any]:
    """Fetch a credential by its own URL and verify it with joserfc and the key its kid names."""
    token = _get(client, url, bases).get_data(as_text=True)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    published = _get(client, header["kid"], bases).json
    jwk = (
        next(k for k in published["keys"] if k["kid"] == header["kid"])
        if "keys" in published
        else published
    )
    key = import_key(jwk)
    verified = jws.deserialize_compact(token, key, algorithms=[header["alg"]])
    payload: dict[str, Any] = json.loads(verified.payload)
    return payload


def _bit(encoded: str, index: int) -> bool:
    data = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    return bool((data[index // 8] >> (7 - index % 8)) & 1)


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_certificates_still_verify_after_the_address_moves(app: Flask, tmp_path: Path) -> None:
    """The demo's certificates were issued at the old address; the app restarts at a new one
    (another port and a path), the old one kept as an alias, and issues one more."""
    OLD = "http://127.0.0.1:5000"
    NEW = "http://127.0.0.1:8080/elearn"
    app.test_cli_runner().invoke(args=["keys", "rotate"])
    config = {k: app.config[k] for k in ("DATABASE_URL", "COURSES_DIR", "QUESTION_BANKS_DIR")}
    engine_of(app).dispose()
    # The restart at the new address, the old one kept as an alias.
    moved = make_app(Path(app.instance_path), **config, PUBLIC_URL=NEW, PUBLIC_URL_ALIASES=[OLD])
    client = english_client(moved)
    again = english_client(moved)
    assert login(again, "learner@example.org").status_code == 302
    fresh = certificate_of(moved, pass_exam(moved, again))
    assert fresh is not None
    with Session(engine_of(moved)) as s:
        rows = s.exec(select(Certificate)).all()
    assert len(rows) >= 4
    bases = (OLD + "/", NEW + "/")
    revoked_seen = 0
    for row in rows:
        claims = jwt.decode(row.credential, options={"verify_signature": False})
        payload = _verify_independently(client, claims["id"], bases)
        assert payload["issuer"]["id"] == OLD + "/issuer"  # the issuer's id never moves
        status = payload["credentialStatus"]
        listing = _verify_independently(client, status["statusListCredential"], bases)
        assert listing["id"] == status["statusListCredential"]
        revoked = _bit(listing["credentialSubject"]["encodedList"], int(status["statusListIndex"]))
        assert revoked == (row.revoked_at is not None)
        revoked_seen += revoked
        page = client.get(f"/verify/{row.code}").get_data(as_text=True)
        assert "Not valid" not in page and "Status unknown" not in page
    assert revoked_seen == 1
    # Old links keep their address; the new certificate's own link is at the new address, its
    # identifiers (issuer, status list) are those recorded before the move.
    fresh_claims = jwt.decode(fresh.credential, options={"verify_signature": False})
    assert fresh_claims["id"].startswith(NEW + "/api/v1/credentials/")
    assert fresh_claims["credentialStatus"]["statusListCredential"] == OLD + "/status/1"
    kids = [k["kid"] for k in client.get("/elearn/.well-known/jwks.json").json["keys"]]
    assert kids and all(kid.startswith(OLD + "/keys/") for kid in kids)  # recorded before the move
    release_app(moved)


def test_the_upgrade_records_the_url_of_a_list_already_in_use(app: Flask) -> None:
    """Certificates issued before lists were rows: the upgrade records the URL they carry, not
    today's address."""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "downgrade", "0008"]).exit_code == 0
    with Session(engine_of(app)) as s:
        token = s.exec(select(Certificate.credential)).first()
    assert token is not None
    carried = jwt.decode(token, options={"verify_signature": False})["credentialStatus"]
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with Session(engine_of(app)) as s:
        row = s.get(StatusList, 1)
        assert row is not None and row.url == carried["statusListCredential"]
        assert row.size == vc.STATUS_LIST_SIZE and row.token is None
    assert english_client(app).get("/status/1").status_code == 200
