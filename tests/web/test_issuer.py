"""The URLs signed into a credential resolve, in public, and both proof formats hold up against
tools that are not ours: the official OB 3.0 JSON Schema, pyld + cryptography, joserfc, jwcrypto."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jws
from joserfc.jwk import KeySet
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from sqlmodel import Session, select

from elearn.db import engine_of
from elearn.domain import credentials as vc
from elearn.domain import dataintegrity as di
from elearn.domain.content import BankSpec, ExamSpec
from elearn.models import Bank, Certificate, Exam, ExamVersion, User
from elearn.services import certificates
from elearn.services.certificates import authority_of, criteria_text
from tests.conftest import english_client, make_app
from tests.domain.test_dataintegrity import independent_verify
from tests.web.test_certificates import certificate_of, demo_code, pass_exam
from tests.web.test_exams import EXAM

SCHEMAS = Path(__file__).parents[1] / "vendor" / "ob3-schemas"
CLAIMS = ("iss", "sub", "jti", "nbf", "exp", "iat")
LD = {"Accept": "application/ld+json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _schema(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def _payload(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- the JWT proof -----------------------------------------------------------------------------


def test_the_jwt_payload_is_valid_against_the_official_ob3_schema(
    app: Flask, client: FlaskClient
) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    token = client.get(f"/api/v1/credentials/{code}").get_data(as_text=True)
    payload = _payload(token)
    validator = _schema("ob_v3p0_achievementcredential.json")
    errors = [e.message for e in validator.iter_errors(payload)]
    assert errors == []
    credential = {k: v for k, v in payload.items() if k not in CLAIMS}
    assert [e.message for e in validator.iter_errors(credential)] == []


def test_the_schema_check_catches_a_credential_that_breaks_it(
    app: Flask, client: FlaskClient
) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    payload = _payload(client.get(f"/api/v1/credentials/{code}").get_data(as_text=True))
    del payload["credentialSubject"]["achievement"]["criteria"]
    payload["issuer"] = {"name": "no id"}
    assert list(_schema("ob_v3p0_achievementcredential.json").iter_errors(payload))


def test_joserfc_and_jwcrypto_verify_the_issued_jwt_from_its_kid(
    app: Flask, client: FlaskClient, learner: FlaskClient
) -> None:
    attempt_id = pass_exam(app, learner)
    certificate = certificate_of(app, attempt_id)
    assert certificate is not None
    token = client.get(f"/api/v1/credentials/{certificate.code}").get_data(as_text=True)
    header = jwt.get_unverified_header(token)
    assert set(header) == {"alg", "kid", "typ"} and header["typ"] == "JWT"
    assert header["alg"] == "RS256"
    jwk = client.get(_path(header["kid"])).json
    by_joserfc = jws.deserialize_compact(
        token, KeySet.import_key_set({"keys": [jwk]}), algorithms=["RS256"]
    )
    verifier = jwcrypto_jws.JWS()
    verifier.deserialize(token)
    verifier.verify(jwcrypto_jwk.JWK(**jwk), alg="RS256")
    assert json.loads(by_joserfc.payload) == json.loads(verifier.payload)
    claims = json.loads(verifier.payload)
    # OB 3.0 8.2's mapping, exactly
    assert claims["iss"] == claims["issuer"]["id"]
    assert claims["sub"] == claims["credentialSubject"]["id"]
    assert claims["jti"] == claims["id"]
    assert datetime.fromtimestamp(claims["nbf"], UTC) == datetime.fromisoformat(claims["validFrom"])
    assert "exp" not in claims and "validUntil" not in claims  # this exam's never expire
    assert "iat" not in claims and "vc" not in claims


def test_the_jwt_algorithm_is_a_setting(template_db: Any, tmp_path: Path) -> None:
    from tests.conftest import copy_instance, release_app

    eddsa = make_app(tmp_path, CREDENTIAL_JWT_ALG="EdDSA", **copy_instance(template_db, tmp_path))
    try:
        with eddsa.app_context(), Session(engine_of(eddsa)) as session:
            authority = authority_of(app=eddsa)
            key = authority.current_key(now=datetime.now(UTC))
            assert key.algorithm == "EdDSA"
            certificate = session.exec(select(Certificate)).first()
            assert certificate is not None
            assert certificates.verify(
                certificate=certificate, authority=authority, now=datetime.now(UTC)
            ).state in {"valid", "revoked", "expired"}
        with pytest.raises(ValueError, match="CREDENTIAL_JWT_ALG"):
            make_app(tmp_path / "bad", CREDENTIAL_JWT_ALG="HS256")
    finally:
        release_app(eddsa)


def test_a_certificate_issued_before_as_vc_jwt_with_eddsa_still_verifies(
    app: Flask, client: FlaskClient
) -> None:
    """Tokens already issued: typ vc+jwt, iat, EdDSA, kid a fragment of the JWK Set."""
    code = demo_code(app, "kari.gyldig@example.org")
    with Session(engine_of(app)) as session:
        certificate = session.exec(select(Certificate).where(Certificate.code == code)).one()
        payload = {k: v for k, v in _payload(certificate.credential).items() if k != "proof"}
        payload["iat"] = payload["nbf"]
        authority = authority_of(app=app)
        # A key as the earlier version made it: a .pem without a record beside it, published
        # under a fragment of the JWK Set.
        name = "k-20250101T000000000000"
        ed25519 = vc.generate_key(f"{authority.url('/.well-known/jwks.json')}#{name}")
        path = Path(app.instance_path) / "keys" / f"{name}.pem"
        path.write_bytes(vc.key_to_pem(ed25519))
        path.chmod(0o600)
        legacy_kid = ed25519.kid
        certificate.credential = jwt.encode(
            payload,
            ed25519.private_key,
            algorithm="EdDSA",
            headers={"kid": legacy_kid, "typ": "vc+jwt"},
        )
        session.add(certificate)
        session.commit()
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "Valid" in page and "Not valid" not in page
    # The JWK Set still answers the old kid, for outside verifiers too.
    key_set = client.get("/.well-known/jwks.json").json
    assert legacy_kid in {k["kid"] for k in key_set["keys"]}
    # Its JSON-LD form gets a proof now (no "created"), which an outside verifier accepts.
    document = client.get(f"/certificates/{code}/credential.jsonld").json
    assert "created" not in document["proof"][0] and independent_verify(document)


# --- the JSON-LD credential with a Data Integrity proof ------------------------------------------


def test_the_jsonld_credential_verifies_with_pyld_and_cryptography_and_fits_the_schema(
    app: Flask, learner: FlaskClient
) -> None:
    anonymous = english_client(app)
    attempt_id = pass_exam(app, learner)
    certificate = certificate_of(app, attempt_id)
    assert certificate is not None
    response = anonymous.get(f"/certificates/{certificate.code}/credential.jsonld")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "attachment" in response.headers["Content-Disposition"]
    document = response.json
    assert not set(CLAIMS) & set(document)
    assert isinstance(document["proof"], list) and len(document["proof"]) == 1
    proof = document["proof"][0]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["created"] == document["validFrom"]
    assert independent_verify(document)
    # The did:key is one of the issuer's published Ed25519 keys.
    multibase = proof["verificationMethod"].split("#")[0].removeprefix("did:key:")
    key_set = anonymous.get("/.well-known/jwks.json").json
    published = {
        di.multikey(
            di.Ed25519PublicKey.from_public_bytes(
                base64.urlsafe_b64decode(k["x"] + "=" * (-len(k["x"]) % 4))
            )
        )
        for k in key_set["keys"]
        if k["kty"] == "OKP"
    }
    assert multibase in published
    assert di.undefined_terms(document) == []
    validator = _schema("ob_v3p0_achievementcredential.json")
    assert [e.message for e in validator.iter_errors(document)] == []
    # The JWT carries the same credential, proof and all (OB 3.0 8.2.2: embedded proof first).
    token = anonymous.get(f"/api/v1/credentials/{certificate.code}").get_data(as_text=True)
    assert {k: v for k, v in _payload(token).items() if k not in CLAIMS} == document


def test_a_changed_jsonld_credential_fails_the_outside_check(
    app: Flask, client: FlaskClient
) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    document = client.get(f"/certificates/{code}/credential.jsonld").json
    assert independent_verify(document)
    document["credentialSubject"]["name"] = "Someone Else"
    assert not independent_verify(document)


def test_an_unknown_or_malformed_code_has_no_jsonld(client: FlaskClient) -> None:
    for code in ("AAAA-AAAA-AAAA", "not-a-code", "x" * 200):
        response = client.get(f"/certificates/{code}/credential.jsonld")
        assert response.status_code == 404 and response.json == {"error": "not found"}


def test_a_stored_credential_that_does_not_verify_gets_no_fresh_proof(
    app: Flask, client: FlaskClient
) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    with Session(engine_of(app)) as session:
        certificate = session.exec(select(Certificate).where(Certificate.code == code)).one()
        head, _body, sig = certificate.credential.split(".")
        payload = _payload(certificate.credential)
        payload["credentialSubject"]["name"] = "Forged"
        forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
        certificate.credential = f"{head}.{forged}.{sig}"
        session.add(certificate)
        session.commit()
    response = client.get(f"/certificates/{code}/credential.jsonld")
    assert response.status_code == 409 and "bad signature" in response.json["error"]


# --- the issuer profile and the achievement ----------------------------------------------------


def test_the_issuer_id_returns_the_profile_as_jsonld_and_as_a_page(
    app: Flask, client: FlaskClient
) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    payload = _payload(client.get(f"/api/v1/credentials/{code}").get_data(as_text=True))
    issuer_path = _path(payload["iss"])
    for accept, mimetype in (
        (LD, "application/ld+json"),
        ({"Accept": "application/json"}, "application/json"),
        ({}, "application/ld+json"),
    ):
        response = client.get(issuer_path, headers=accept)
        assert response.status_code == 200 and response.mimetype == mimetype, accept
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Accept" in response.headers["Vary"]
    profile = client.get(issuer_path, headers=LD).json
    assert profile["id"] == payload["iss"] == payload["issuer"]["id"]
    assert profile["type"] == ["Profile"] and profile["name"] == payload["issuer"]["name"]
    assert [e.message for e in _schema("ob_v3p0_profile.json").iter_errors(profile)] == []
    assert di.undefined_terms(profile) == []
    page = client.get(issuer_path, headers=BROWSER)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert profile["name"] in page.get_data(as_text=True)


def test_the_profile_lists_the_pdf_signing_certificate(app: Flask, client: FlaskClient) -> None:
    profile = client.get("/issuer", headers=LD).json
    entries = {e["identifierType"]: e["identifier"] for e in profile["otherIdentifier"]}
    pem = client.get(_path(entries["ext:PdfSigningCertificateUrl"]))
    assert pem.status_code == 200 and pem.headers["Access-Control-Allow-Origin"] == "*"
    certificate = x509.load_pem_x509_certificate(pem.data)
    der = certificate.public_bytes(serialization.Encoding.DER)
    fingerprint = hashlib.sha256(der).hexdigest()
    assert entries["ext:PdfSigningCertificateSha256"] == f"sha256:{fingerprint}"
    page = client.get("/issuer", headers=BROWSER).get_data(as_text=True)
    assert fingerprint in page
    # ... and it is the certificate that signs the PDFs.
    code = demo_code(app, "kari.gyldig@example.org")
    pdf = client.get(f"/verify/{code}/pdf").data
    assert der.hex().encode() in pdf.lower()  # inside the hex-encoded CMS signature


def test_the_achievement_id_and_its_alignments_are_public_pages(
    app: Flask, learner: FlaskClient
) -> None:
    anonymous = english_client(app)
    attempt_id = pass_exam(app, learner)
    certificate = certificate_of(app, attempt_id)
    assert certificate is not None
    payload = _payload(certificate.credential)
    achievement = payload["credentialSubject"]["achievement"]
    response = anonymous.get(_path(achievement["id"]), headers=LD)
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    served = response.json
    assert served["id"] == achievement["id"] and served["type"] == ["Achievement"]
    assert di.undefined_terms(served) == []
    # Valid as an Achievement by the official schema's own definition of one.
    schema = json.loads((SCHEMAS / "ob_v3p0_achievementcredential.json").read_text())
    sub = {**schema["$defs"]["Achievement"], "$defs": schema["$defs"]}
    validator = jsonschema.Draft201909Validator(sub)
    assert [e.message for e in validator.iter_errors(served)] == []
    page = anonymous.get(_path(achievement["id"]), headers=BROWSER)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert achievement["alignment"]
    for alignment in achievement["alignment"]:
        target = urlsplit(alignment["targetUrl"])
        assert target.path == urlsplit(achievement["id"]).path  # the public page, not /exams
        assert f'id="{target.fragment}"' in html
        followed = anonymous.get(target.path, headers=BROWSER)
        assert followed.status_code == 200 and "/login" not in followed.headers.get("Location", "")


@pytest.mark.parametrize("exam_id", ["no-such-exam", "sdg-basics", "x" * 300])
def test_no_achievement_for_an_unknown_or_practice_exam(client: FlaskClient, exam_id: str) -> None:
    assert client.get(f"/achievements/{exam_id}", headers=LD).status_code == 404
    assert client.get(f"/achievements/{exam_id}", headers=BROWSER).status_code == 404


# --- CORS ------------------------------------------------------------------------------------


def _public_read_only_paths(app: Flask, client: FlaskClient) -> list[str]:
    code = demo_code(app, "kari.gyldig@example.org")
    token = client.get(f"/api/v1/credentials/{code}").get_data(as_text=True)
    return [
        f"/api/v1/credentials/{code}",
        f"/certificates/{code}/credential.jsonld",
        "/.well-known/jwks.json",
        _path(jwt.get_unverified_header(token)["kid"]),
        _path(_payload(token)["credentialStatus"]["statusListCredential"]),
        "/issuer",
        "/pdf-signing-certificate.pem",
        "/pdf-signing-certificate.cer",
        f"/achievements/{EXAM}",
    ]


def test_every_public_read_only_endpoint_allows_any_origin(app: Flask, client: FlaskClient) -> None:
    for path in _public_read_only_paths(app, client):
        response = client.get(path, headers={"Origin": "https://wallet.example"})
        assert response.status_code == 200, path
        assert response.headers.get("Access-Control-Allow-Origin") == "*", path
        assert "Access-Control-Allow-Credentials" not in response.headers
        preflight = client.options(
            path,
            headers={
                "Origin": "https://wallet.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "accept",
            },
        )
        assert preflight.status_code == 200, path
        assert preflight.headers["Access-Control-Allow-Origin"] == "*"
        assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
        assert "Accept" in preflight.headers["Access-Control-Allow-Headers"]


def test_pages_that_are_not_public_data_get_no_cors(client: FlaskClient) -> None:
    for path in ("/login", "/me/certificates", "/verify"):
        assert "Access-Control-Allow-Origin" not in client.get(path).headers


# --- smaller points ------------------------------------------------------------------------------


def test_the_subject_id_is_random_and_kept_per_holder(app: Flask, learner: FlaskClient) -> None:
    first = certificate_of(app, pass_exam(app, learner))
    assert first is not None
    with Session(engine_of(app)) as session:
        user = session.get(User, first.user_id)
        assert user is not None and user.credential_subject_id is not None
        subject = _payload(first.credential)["credentialSubject"]["id"]
        assert subject == user.credential_subject_id
        parsed = uuid.UUID(subject.removeprefix("urn:uuid:"))
        assert parsed.version == 4
        old_style = uuid.uuid5(uuid.NAMESPACE_URL, authority_of(app=app).url(f"/users/{user.id}"))
        assert parsed != old_style
        # A second certificate of the same person names the same subject.
        other = session.exec(select(User).where(User.id != user.id)).first()
        assert other is not None
        again = certificates.subject_id(session=session, user=user)
        assert again == subject
        assert certificates.subject_id(session=session, user=other) != subject


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("nb", ["Bestått eksamen", "spørsmål trukket tilfeldig", "minutter", "samlet"]),
        ("da", ["Bestået eksamen", "spørgsmål trukket tilfældigt", "minutter", "samlet"]),
        ("en", ["Passed the exam", "questions drawn at random", "minutes", "overall"]),
    ],
)
def test_criteria_are_in_the_certificates_language_with_the_right_counts(
    app: Flask, lang: str, words: list[str]
) -> None:
    with Session(engine_of(app)) as session:
        exam = session.get(Exam, "soa-baerekraft-sertifisering")
        assert exam is not None
        spec = ExamSpec.model_validate(session.get(ExamVersion, exam.current_version_id).spec)
        bank = BankSpec.model_validate(session.get(Bank, exam.bank_id).spec)
    text = criteria_text(spec=spec, bank=bank, lang=lang)
    assert all(word in text for word in words), text
    total = sum(entry.items for entry in spec.blueprint)
    assert f"{total} " in text
    assert "per topic" not in text and "per emne" not in text
    per_topic: dict[str, int] = {}
    for entry in spec.blueprint:
        per_topic[entry.topic] = per_topic.get(entry.topic, 0) + entry.items
    assert len(per_topic) > 1  # the certification exam draws from several topics
    for topic, count in per_topic.items():
        title = next(t.title for t in bank.topics if t.id == topic)
        name = title.get(lang) or title.get(bank.languages[0]) if isinstance(title, dict) else None
        if name:
            assert f"{name}: {count}" in text, (name, count, text)


def test_verify_shows_the_dates_signed_into_the_credential_not_the_database(
    app: Flask, client: FlaskClient
) -> None:
    code = demo_code(app, "kari.gyldig@example.org")
    with Session(engine_of(app)) as session:
        certificate = session.exec(select(Certificate).where(Certificate.code == code)).one()
        signed = _payload(certificate.credential)
        certificate.issued_at = datetime(2001, 1, 1, tzinfo=UTC)
        certificate.valid_until = datetime(2099, 12, 31, tzinfo=UTC)
        session.add(certificate)
        session.commit()
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "2001" not in page and "2099" not in page
    assert str(datetime.fromisoformat(signed["validFrom"]).year) in page
    if "validUntil" in signed:
        assert str(datetime.fromisoformat(signed["validUntil"]).year) in page


def test_an_expired_certificate_says_until_when_by_its_signed_date(
    app: Flask, client: FlaskClient
) -> None:
    code = demo_code(app, "eva.utlopt@example.org")
    with Session(engine_of(app)) as session:
        certificate = session.exec(select(Certificate).where(Certificate.code == code)).one()
        until = datetime.fromisoformat(_payload(certificate.credential)["validUntil"])
        certificate.valid_until = until + timedelta(days=4000)
        session.add(certificate)
        session.commit()
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert (
        "Expired" in page
        and str(until.year) in page
        and str((until + timedelta(days=4000)).year) not in page
    )
