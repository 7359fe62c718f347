"""Certificates end to end: issued on a pass, verified by anyone, revoked, keys rotated."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jws
from joserfc.jwk import KeySet
from sqlmodel import Session, col, select

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.domain import credentials as vc
from elearn.models import AuditEntry, Certificate, ExamAttempt, ExamVersion
from tests.conftest import english_client, login, post
from tests.web.test_exams import EXAM, right_answer, set_deadline, slots, start


def pass_exam(app: Flask, client: FlaskClient) -> int:
    attempt_id = start(client)
    for slot, spec in slots(app, attempt_id):
        post(client, f"/attempts/{attempt_id}/{slot.number}", right_answer(slot, spec))
    assert post(client, f"/attempts/{attempt_id}/submit").status_code == 302
    return attempt_id


def certificate_of(app: Flask, attempt_id: int) -> Certificate | None:
    with Session(engine_of(app)) as s:
        return s.exec(select(Certificate).where(Certificate.attempt_id == attempt_id)).first()


def demo_code(app: Flask, email: str) -> str:
    out = app.test_cli_runner().invoke(args=["certificates", "list", "--json"]).output
    return next(row["code"] for row in json.loads(out) if row["email"] == email)


def test_a_pass_issues_a_certificate_at_once(app: Flask, learner: FlaskClient) -> None:
    attempt_id = pass_exam(app, learner)
    cert = certificate_of(app, attempt_id)
    assert cert is not None and re.fullmatch(
        r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", cert.code
    )
    assert cert.form_fingerprint and cert.valid_until is None  # the shipped exam does not expire
    assert cert.pdf is not None and cert.pdf.startswith(b"%PDF")  # made with the certificate
    page = learner.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "See your certificate" in page
    mine = learner.get("/me/certificates").get_data(as_text=True)
    assert cert.code in mine and f"/verify/{cert.code}" in mine
    with Session(engine_of(app)) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "certificate.issued")).all()


def test_a_failed_attempt_issues_nothing(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    post(learner, f"/attempts/{attempt_id}/submit")
    assert certificate_of(app, attempt_id) is None


def test_sign_off_waits_for_the_certifier(app: Flask, learner: FlaskClient, as_role: Any) -> None:
    with Session(engine_of(app)) as s:
        version = s.exec(select(ExamVersion).where(ExamVersion.exam_id == EXAM)).one()
        version.spec = {**version.spec, "sign_off": True}
        s.commit()
    attempt_id = pass_exam(app, learner)
    assert certificate_of(app, attempt_id) is None
    assert "A certifier reviews your attempt" in learner.get(
        f"/attempts/{attempt_id}/result"
    ).get_data(as_text=True)
    certifier = as_role("certifier")
    assert "Lena Læring" in certifier.get("/certify/reviews").get_data(as_text=True)
    assert (
        post(certifier, f"/certify/reviews/{attempt_id}", {"decision": "maybe"}).status_code == 400
    )
    assert (
        post(learner, f"/certify/reviews/{attempt_id}", {"decision": "approve"}).status_code == 403
    )
    done = post(
        certifier, f"/certify/reviews/{attempt_id}", {"decision": "approve", "comment": "OK"}
    )
    assert done.status_code == 302
    assert certificate_of(app, attempt_id) is not None
    again = post(certifier, f"/certify/reviews/{attempt_id}", {"decision": "reject"})
    assert again.status_code == 409


def test_a_pass_that_needs_no_sign_off_cannot_be_rejected(
    app: Flask, learner: FlaskClient, as_role: Any
) -> None:
    attempt_id = pass_exam(app, learner)  # the exam issues at once: no sign-off
    cert = certificate_of(app, attempt_id)
    assert cert is not None
    certifier = as_role("certifier")
    for decision in ("reject", "approve"):
        refused = post(certifier, f"/certify/reviews/{attempt_id}", {"decision": decision})
        assert refused.status_code == 409
        assert "need no sign-off" in refused.get_data(as_text=True)
    with Session(engine_of(app)) as s:
        attempt = s.get(ExamAttempt, attempt_id)
        assert attempt is not None and attempt.review_decision is None
        assert attempt.reviewed_by_id is None
        certs = s.exec(select(Certificate).where(Certificate.attempt_id == attempt_id)).all()
        assert [c.code for c in certs] == [cert.code] and certs[0].revoked_at is None
        decided = select(AuditEntry).where(
            AuditEntry.subject == f"attempt:{attempt_id}",
            col(AuditEntry.action).in_(["attempt.rejected", "attempt.approved"]),
        )
        assert s.exec(decided).all() == []


def test_verify_page_api_and_jwks(app: Flask, client: FlaskClient) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    page = client.get(f"/verify/{code.lower().replace('-', ' ')}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Valid" in text and "Kari Gyldig" in text
    token = client.get(f"/api/v1/credentials/{code}")
    assert token.mimetype == "application/vc+jwt"
    key_set = client.get("/.well-known/jwks.json").json
    assert all("d" not in k and "alg" not in k for k in key_set["keys"])
    payload = vc.verify_credential(token.get_data(as_text=True), key_set)
    assert payload["credentialSubject"]["name"] == "Kari Gyldig"
    assert "OpenBadgeCredential" in payload["type"]


def test_an_independent_jose_library_verifies_with_the_published_key_alone(
    app: Flask, client: FlaskClient
) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    token = client.get(f"/api/v1/credentials/{code}").get_data(as_text=True)
    key_set = KeySet.import_key_set(client.get("/.well-known/jwks.json").json)
    result = jws.deserialize_compact(token, key_set, algorithms=["RS256"])
    assert json.loads(result.payload)["credentialSubject"]["name"] == "Kari Gyldig"


def test_the_kid_dereferences_to_that_one_jwk_which_verifies_the_rs256_jwt(
    app: Flask, client: FlaskClient
) -> None:
    """OB 3.0 8.2: header {alg, kid, typ: JWT}; the kid is a URI that returns a JWK (not a set)."""
    code = demo_code(app, "kari.gyldig@example.org")
    token = client.get(f"/api/v1/credentials/{code}").get_data(as_text=True)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "kid": header["kid"], "typ": "JWT"}
    response = client.get(urlsplit(header["kid"]).path)
    assert response.status_code == 200 and response.mimetype == "application/jwk+json"
    jwk = response.json
    assert "keys" not in jwk and jwk["kid"] == header["kid"] and jwk["kty"] == "RSA"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)
    from joserfc.jwk import RSAKey

    result = jws.deserialize_compact(token, RSAKey.import_key(jwk), algorithms=["RS256"])
    claims = json.loads(result.payload)
    assert claims["iss"] == claims["issuer"]["id"] and claims["jti"] == claims["id"]
    assert claims["sub"] == claims["credentialSubject"]["id"] and "iat" not in claims
    assert client.get("/keys/k-nonexistent").status_code == 404
    assert client.get("/keys/..%2Fconfig").status_code == 404


def test_revoked_and_expired_demo_certificates(app: Flask, client: FlaskClient) -> None:
    revoked = client.get(f"/verify/{demo_code(app, 'rune.tilbakekalt@example.org')}").get_data(
        as_text=True
    )
    assert "Revoked" in revoked and "revoked on" in revoked
    expired = client.get(f"/verify/{demo_code(app, 'eva.utlopt@example.org')}").get_data(
        as_text=True
    )
    assert "Expired" in expired and "it was valid until" in expired


def test_unknown_code_gives_no_hint_and_guessing_is_rate_limited(
    app: Flask, client: FlaskClient
) -> None:
    malformed = client.get("/verify/not-a-code")
    well_formed = client.get("/verify/AAAA-BBBB-CCCC")
    assert malformed.status_code == well_formed.status_code == 404
    assert "No certificate has this code." in malformed.get_data(as_text=True)
    # The same page either way, but for the code shown and the form's CSRF token (which carries
    # a timestamp, so two requests a second apart differ there).
    token = re.compile(r'name="csrf_token" type="hidden" value="[^"]+"')

    def page(response: Any, code: str) -> str:
        return token.sub("", response.get_data(as_text=True).replace(code, ""))

    assert page(malformed, "not-a-code") == page(well_formed, "AAAA-BBBB-CCCC")
    for _ in range(28):
        client.get("/verify/AAAA-BBBB-CCCC")
    refused = client.get("/verify/AAAA-BBBB-CCCC")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # A real code is always answered, even from the address that guessed: the page, the PDF and
    # the credential alike.
    real = demo_code(app, "kari.gyldig@example.org")
    assert client.get(f"/verify/{real}").status_code == 200
    assert client.get(f"/verify/{real}/pdf").status_code == 200
    assert client.get(f"/api/v1/credentials/{real}").status_code == 200
    other = client.get("/verify/AAAA-BBBB-CCCC", environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 404  # other addresses have their own budget


def test_the_three_lookup_endpoints_share_one_budget(app: Flask, client: FlaskClient) -> None:
    for path in ("/verify/AAAA-BBBB-CCC{}", "/verify/AAAA-BBBB-CCC{}/pdf"):
        for n in range(10):
            assert client.get(path.format("ABCDEFGHJK"[n])).status_code == 404
    for n in range(10):
        assert client.get(f"/api/v1/credentials/AAAA-BBBB-DDD{'ABCDEFGHJK'[n]}").status_code == 404
    # 30 failed look-ups spread over the three endpoints: the 31st is refused on any of them.
    for path in ("/verify/XXXX-XXXX-XXXX", "/verify/XXXX-XXXX-XXXX/pdf"):
        refused = client.get(path)
        assert refused.status_code == 429 and refused.headers["Retry-After"]
    api = client.get("/api/v1/credentials/XXXX-XXXX-XXXX")
    assert api.status_code == 429 and api.json == {"error": "too many failed look-ups"}
    assert int(api.headers["Retry-After"]) >= 1
    with app.test_request_context():
        from elearn.limits import LOOKUP_SCOPE

        limiter = app.extensions["elearn.limiter"]
        if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
            # Counted in the shared store (Redis), where every worker and server sees it.
            keys = limiter.storage.storage.keys(
                f"{app.config['RATELIMIT_STORAGE_OPTIONS']['key_prefix']}*"
            )
            assert any(LOOKUP_SCOPE.encode() in key for key in keys), keys


def test_revocation_flips_the_bit_at_once_and_is_audited(
    app: Flask, client: FlaskClient, as_role: Any
) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    with Session(engine_of(app)) as s:
        index = s.exec(select(Certificate.status_index).where(Certificate.code == code)).one()
    key_set = client.get("/.well-known/jwks.json").json

    def bit() -> bool:
        listing = vc.verify_credential(client.get("/status/1").get_data(as_text=True), key_set)
        return vc.status_bit(listing["credentialSubject"]["encodedList"], index)

    assert bit() is False
    certifier = as_role("certifier")
    assert post(certifier, f"/certify/certificates/{code}", {"reason": ""}).status_code == 200
    assert bit() is False
    assert (
        post(certifier, f"/certify/certificates/{code}", {"reason": "Cheating found"}).status_code
        == 302
    )
    assert bit() is True
    assert "Revoked" in client.get(f"/verify/{code}").get_data(as_text=True)
    with Session(engine_of(app)) as s:
        entry = s.exec(
            select(AuditEntry).where(
                AuditEntry.action == "certificate.revoked",
                AuditEntry.subject == f"certificate:{code}",
            )
        ).one()
    assert entry.data == {"reason": "Cheating found"}
    assert (
        post(as_role("learner"), f"/certify/certificates/{code}", {"reason": "x"}).status_code
        == 403
    )


def test_status_list_is_at_least_131072_bits(app: Flask, client: FlaskClient) -> None:
    token = client.get("/status/1").get_data(as_text=True)
    payload = vc.verify_credential(token, client.get("/.well-known/jwks.json").json)
    assert payload["credentialSubject"]["statusPurpose"] == "revocation"
    with pytest.raises(ValueError):
        vc.status_bit(payload["credentialSubject"]["encodedList"], 131_072)
    vc.status_bit(payload["credentialSubject"]["encodedList"], 131_071)


def test_tampered_credential_and_wrong_key_are_refused(app: Flask, client: FlaskClient) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    token = client.get(f"/api/v1/credentials/{code}").get_data(as_text=True)
    key_set = client.get("/.well-known/jwks.json").json
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["credentialSubject"]["name"] = "Mallory"
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    with pytest.raises(vc.CredentialInvalid) as bad:
        vc.verify_credential(f"{header}.{forged_payload}.{signature}", key_set)
    assert bad.value.reason == "bad signature"
    other = vc.generate_key(jwt.get_unverified_header(token)["kid"])
    with pytest.raises(vc.CredentialInvalid):
        vc.verify_credential(token, vc.jwks([other]))


def test_rotated_keys_keep_old_certificates_valid(
    app: Flask, client: FlaskClient, learner: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = demo_code(app, "kari.gyldig@example.org")
    old_kid = jwt.get_unverified_header(
        client.get(f"/api/v1/credentials/{old}").get_data(as_text=True)
    )["kid"]
    before = [k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]]
    out = app.test_cli_runner().invoke(args=["keys", "rotate"]).output
    # "keys rotate" makes one key of each kind, each published now and signing later.
    made = re.findall(r"new signing key (\S+) \((EdDSA|RS256)\)", out)
    assert [alg for _kid, alg in made] == ["EdDSA", "RS256"] and out.count("signs from") == 2
    new_kid = dict((alg, kid) for kid, alg in made)["RS256"]  # the JWT's (CREDENTIAL_JWT_ALG)
    # Published at once ...
    key_set = client.get("/.well-known/jwks.json").json
    assert [k["kid"] for k in key_set["keys"]] == [*before, *(kid for kid, _alg in made)]
    assert sorted(k["kty"] for k in key_set["keys"]) == ["OKP", "OKP", "RSA", "RSA"]
    assert old_kid in before
    # ... but a certificate issued now is still signed with the old key: a verifier may hold
    # the key set it fetched up to JWKS_MAX_AGE ago, without the new key in it.
    attempt_id = pass_exam(app, learner)
    new = certificate_of(app, attempt_id)
    assert new is not None
    assert jwt.get_unverified_header(new.credential)["kid"] == old_kid
    # Once the cache time has passed, the new key signs (the status list is signed again).
    import elearn.web.certificates as pages

    later = utcnow() + timedelta(seconds=app.config["JWKS_MAX_AGE"] + 1)
    monkeypatch.setattr(pages, "utcnow", lambda: later)
    listing = client.get("/status/1").get_data(as_text=True)
    assert jwt.get_unverified_header(listing)["kid"] == new_kid
    for code in (old, new.code):
        assert "Valid" in client.get(f"/verify/{code}").get_data(as_text=True)


def test_keys_are_private_files(app: Flask) -> None:
    keys = list((Path(app.instance_path) / "keys").glob("*.pem"))
    assert keys and all((k.stat().st_mode & 0o777) == 0o600 for k in keys)


def test_cli_verifies_offline(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(client.get("/.well-known/jwks.json").json))
    for email, state, code_rc in (
        ("kari.gyldig@example.org", "valid", 0),
        ("eva.utlopt@example.org", "expired", 1),
    ):
        cred = tmp_path / f"{email}.jwt"
        cred.write_text(
            client.get(f"/api/v1/credentials/{demo_code(app, email)}").get_data(as_text=True)
        )
        result = runner.invoke(
            args=["credentials", "verify", str(cred), "--jwks", str(jwks_file), "--no-status"]
        )
        assert result.exit_code == code_rc, result.output
        assert f"status: {state}" in result.output and "signature: valid" in result.output
    tampered = tmp_path / "tampered.jwt"
    text = (tmp_path / "kari.gyldig@example.org.jwt").read_text()
    tampered.write_text(text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB"))
    result = runner.invoke(args=["credentials", "verify", str(tampered), "--jwks", str(jwks_file)])
    assert result.exit_code == 1 and "NOT VALID" in result.output


def test_pdf_is_signed_and_the_same_on_every_download(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    first = client.get(f"/verify/{code}/pdf")
    assert first.mimetype == "application/pdf" and first.data.startswith(b"%PDF")
    assert client.get(f"/verify/{code}/pdf").data == first.data
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(first.data)
    if Path("/usr/bin/pdfsig").exists():
        out = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
        assert "Signature is Valid." in out
    if Path("/usr/bin/pdftotext").exists():
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "Kari Gyldig" in text and code in text


def test_certificates_list_json(app: Flask) -> None:
    rows = json.loads(app.test_cli_runner().invoke(args=["certificates", "list", "--json"]).output)
    assert {r["status"] for r in rows} == {"valid", "revoked", "expired"}
    assert all(
        set(r) >= {"code", "holder", "exam", "status", "issued", "valid_until"} for r in rows
    )


def test_expiring_certificate_is_shown_to_the_learner(app: Flask, as_role: Any) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    with Session(engine_of(app)) as s:
        cert = s.exec(select(Certificate).where(Certificate.code == code)).one()
        cert.valid_until = utcnow() + timedelta(days=30, hours=1)
        s.commit()
    client = english_client(app)
    login(client, "kari.gyldig@example.org")
    page = client.get("/me/certificates").get_data(as_text=True)
    assert "Expires in 30 days. To renew it, take the exam again." in page


def test_tampered_stored_credential_shows_not_valid(app: Flask, client: FlaskClient) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    with Session(engine_of(app)) as s:
        cert = s.exec(select(Certificate).where(Certificate.code == code)).one()
        header, _, signature = cert.credential.split(".")
        claims = jwt.decode(cert.credential, options={"verify_signature": False})
        claims["credentialSubject"]["name"] = "Mallory"
        cert.credential = ".".join(
            [header, jwt.utils.base64url_encode(json.dumps(claims).encode()).decode(), signature]
        )
        s.commit()
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "Not valid" in page and "Mallory" not in page


def test_cli_sees_a_revocation_offline(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    code = demo_code(app, "rune.tilbakekalt@example.org")
    (tmp_path / "c.jwt").write_text(
        client.get(f"/api/v1/credentials/{code}").get_data(as_text=True)
    )
    (tmp_path / "jwks.json").write_text(json.dumps(client.get("/.well-known/jwks.json").json))
    (tmp_path / "status.jwt").write_text(client.get("/status/1").get_data(as_text=True))
    result = app.test_cli_runner().invoke(
        args=[
            "credentials",
            "verify",
            str(tmp_path / "c.jwt"),
            "--jwks",
            str(tmp_path / "jwks.json"),
            "--status-list",
            str(tmp_path / "status.jwt"),
        ]
    )
    assert result.exit_code == 1 and "status: revoked" in result.output, result.output
    # A list signed by someone else is not believed.
    (tmp_path / "other.json").write_text(
        json.dumps(vc.jwks([vc.generate_key("https://x.example/k#1")]))
    )
    result = app.test_cli_runner().invoke(
        args=[
            "credentials",
            "verify",
            str(tmp_path / "c.jwt"),
            "--jwks",
            str(tmp_path / "other.json"),
        ]
    )
    assert result.exit_code == 1 and "NOT VALID: unknown key" in result.output


def test_recertification_opens_when_the_certificate_nears_its_end(
    app: Flask, learner: FlaskClient
) -> None:
    attempt_id = pass_exam(app, learner)
    page = learner.get(f"/exams/{EXAM}").get_data(as_text=True)
    assert "You have passed this exam already." in page
    with Session(engine_of(app)) as s:
        cert = s.exec(select(Certificate).where(Certificate.attempt_id == attempt_id)).one()
        cert.valid_until = utcnow() + timedelta(days=10)
        attempt = s.get(ExamAttempt, attempt_id)
        assert attempt is not None and attempt.submitted_at is not None
        attempt.submitted_at -= timedelta(days=2)  # past the one-day cooldown
        s.commit()
    page = learner.get(f"/exams/{EXAM}").get_data(as_text=True)
    assert "Start the exam" in page
    assert start(learner) != attempt_id


def answer_all_right(app: Flask, client: FlaskClient, attempt_id: int) -> None:
    for slot, spec in slots(app, attempt_id):
        post(client, f"/attempts/{attempt_id}/{slot.number}", right_answer(slot, spec))


def test_a_pass_closed_at_its_deadline_is_certified_by_the_request_that_closes_it(
    app: Flask, learner: FlaskClient
) -> None:
    attempt_id = start(learner)
    answer_all_right(app, learner, attempt_id)
    set_deadline(app, attempt_id, timedelta(seconds=-1))
    assert learner.get(f"/exams/{EXAM}").status_code == 200  # notices the deadline: closes it
    cert = certificate_of(app, attempt_id)
    assert cert is not None and cert.pdf is not None
    with Session(engine_of(app)) as s:
        attempt = s.get(ExamAttempt, attempt_id)
        assert attempt is not None and attempt.closed_by == "deadline" and attempt.passed


def test_a_pass_closed_by_cron_is_certified_at_once(app: Flask, learner: FlaskClient) -> None:
    attempt_id = start(learner)
    answer_all_right(app, learner, attempt_id)
    set_deadline(app, attempt_id, timedelta(minutes=-1))
    out = app.test_cli_runner().invoke(args=["exams", "close-overdue"]).output
    assert "closed 1 overdue attempt(s); issued 0 certificate(s)" in out  # issued when closed
    cert = certificate_of(app, attempt_id)
    assert cert is not None and cert.pdf is not None


def test_the_certifiers_approval_issues_the_certificate_with_its_pdf(
    app: Flask, learner: FlaskClient, as_role: Any
) -> None:
    with Session(engine_of(app)) as s:
        version = s.exec(select(ExamVersion).where(ExamVersion.exam_id == EXAM)).one()
        version.spec = {**version.spec, "sign_off": True}
        s.commit()
    attempt_id = pass_exam(app, learner)
    learner.get("/me/certificates")
    learner.get(f"/attempts/{attempt_id}/result")
    assert certificate_of(app, attempt_id) is None  # viewing issues nothing while it waits
    post(as_role("certifier"), f"/certify/reviews/{attempt_id}", {"decision": "approve"})
    cert = certificate_of(app, attempt_id)
    assert cert is not None and cert.pdf is not None


def test_viewing_pages_issues_nothing_and_cron_backfills_an_old_pass(
    app: Flask, learner: FlaskClient
) -> None:
    attempt_id = pass_exam(app, learner)
    with Session(engine_of(app)) as s:  # a pass from before certificates came with the decision
        s.delete(s.exec(select(Certificate).where(Certificate.attempt_id == attempt_id)).one())
        s.commit()
    assert "See your certificate" not in learner.get(f"/attempts/{attempt_id}/result").get_data(
        as_text=True
    )
    assert learner.get("/me/certificates").status_code == 200
    assert certificate_of(app, attempt_id) is None
    out = app.test_cli_runner().invoke(args=["exams", "close-overdue"]).output
    assert "closed 0 overdue attempt(s); issued 1 certificate(s)" in out
    cert = certificate_of(app, attempt_id)
    assert cert is not None and cert.pdf is not None


def test_a_certificate_without_a_stored_pdf_is_served_read_only_and_backfilled(
    app: Flask, client: FlaskClient
) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    with Session(engine_of(app)) as s:
        for cert in s.exec(select(Certificate)).all():
            cert.pdf = None  # as rows issued before PDFs were made at issuance
        s.commit()
    served = client.get(f"/verify/{code}/pdf")
    assert served.status_code == 200 and served.data.startswith(b"%PDF")
    with Session(engine_of(app)) as s:
        assert all(c.pdf is None for c in s.exec(select(Certificate)).all())  # nothing written
    out = app.test_cli_runner().invoke(args=["certificates", "make-pdfs", "--batch", "2"]).output
    assert out.strip() == "made 2 PDF(s)"  # of 3: the revoked one gets no fresh signature
    with Session(engine_of(app)) as s:
        stored = s.exec(select(Certificate).where(Certificate.code == code)).one().pdf
    assert stored is not None and client.get(f"/verify/{code}/pdf").data == stored
    again = app.test_cli_runner().invoke(args=["certificates", "make-pdfs"]).output
    assert again.strip() == "made 0 PDF(s)"


def test_the_first_signing_key_is_named_by_the_clock_it_is_given(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from elearn.services.certificates import authority_of, init_app

    app = SimpleNamespace(
        instance_path=str(tmp_path),
        config={"PUBLIC_URL": "https://elearn.example.org", "ISSUER_NAME": "elearn"},
        extensions={},
    )
    init_app(app, now=datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC))
    keys = sorted(p.name for p in (tmp_path / "keys").glob("*.pem"))
    # Ed25519 for the Data Integrity proof, RSA for the RS256 JWT (the default)
    assert keys == ["k-20310203T040506000000.pem", "r-20310203T040506000000.pem"]
    init_app(app, now=datetime(2032, 1, 1, tzinfo=UTC))  # keys exist: no new one
    assert len(list((tmp_path / "keys").glob("*.pem"))) == 2
    (tmp_path / "keys" / keys[1]).unlink()
    key = authority_of(app=app).current_key(now=datetime(2033, 3, 3, tzinfo=UTC))
    assert key.kid == "https://elearn.example.org/keys/r-20330303T000000000000"
    assert key.algorithm == "RS256"
