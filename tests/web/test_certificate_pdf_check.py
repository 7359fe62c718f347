"""/verify checks an uploaded PDF; the signing certificate is published; revoked and expired
certificates get no signed PDF."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.models import Certificate, User
from elearn.pdf import PdfSigner, SigningSetupError, render_certificate
from elearn.services import certificates
from tests.conftest import csrf_token, login, make_app, release_app
from tests.pdf.test_certificate_pdf import TEXT, flip_byte
from tests.pdf.test_pdf_authorship import append_drawing, make_chain, p12
from tests.web.test_certificates import demo_code


@pytest.fixture(autouse=True)
def _quiet_pyhanko() -> None:
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.ERROR)


def stored(app: Flask, email: str) -> Certificate:
    """The certificate of a demo holder, with the PDF made at issuance."""
    with Session(engine_of(app)) as s:
        user = s.exec(select(User).where(User.email == email)).one()
        found = s.exec(select(Certificate).where(Certificate.user_id == user.id)).first()
        assert found is not None and found.pdf is not None
        s.expunge(found)
        return found


def upload(client: FlaskClient, data: bytes, name: str = "certificate.pdf") -> Any:
    return client.post(
        "/verify",
        data={"csrf_token": csrf_token(client, "/verify"), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def outcome(response: Any) -> str:
    match = re.search(r'data-outcome="([^"]+)"', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1)


KARI = "kari.gyldig@example.org"


def test_a_genuine_pdf_is_valid_and_matches_the_record(app: Flask, client: FlaskClient) -> None:
    certificate = stored(app, KARI)
    response = upload(client, certificate.pdf or b"")
    assert response.status_code == 200
    assert outcome(response) == "valid"
    text = response.get_data(as_text=True)
    assert "Genuine and valid" in text and "Kari Gyldig" in text and certificate.code in text


def test_an_appended_revision_is_named(app: Flask, client: FlaskClient) -> None:
    response = upload(client, append_drawing(stored(app, KARI).pdf or b""))
    assert outcome(response) == "revision added"
    assert "something was added to the file afterwards" in response.get_data(as_text=True)


def test_a_copy_re_signed_with_another_key_is_named(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    """The forger uses the issuer's own name in a certificate of their own."""
    forger = PdfSigner.from_directory(tmp_path, now=utcnow(), common_name=app.config["ISSUER_NAME"])
    code = demo_code(app, KARI)
    forged = forger.sign(render_certificate(replace(TEXT, code=code, holder="Mallory")))
    response = upload(client, forged)
    assert outcome(response) == "other key"
    text = response.get_data(as_text=True)
    assert "not with the key of" in text
    assert forger.fingerprint.upper() in text  # the forger's fingerprint, beside ours


def test_an_edited_byte_is_named(app: Flask, client: FlaskClient) -> None:
    response = upload(client, flip_byte(stored(app, KARI).pdf or b""))
    assert outcome(response) == "edited"
    assert "bytes of this PDF were changed after it was signed" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "name", "expected", "message"),
    [
        (b"name,email\nKari,kari@example.org\n", "staff.csv", "not a pdf", "is not a PDF"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "scan.png", "not a pdf", "is not a PDF"),
        (render_certificate(TEXT), "unsigned.pdf", "unsigned", "carries no signature"),
        (b"%PDF-1.7\n" + bytes(100), "broken.pdf", "damaged", "cannot be read"),
    ],
)
def test_files_that_are_not_certificates_are_named(
    client: FlaskClient, data: bytes, name: str, expected: str, message: str
) -> None:
    response = upload(client, data, name)
    assert response.status_code == 200
    assert outcome(response) == expected
    assert message in response.get_data(as_text=True)


def test_revoked_and_expired_pdfs_say_so_with_the_date(app: Flask, client: FlaskClient) -> None:
    revoked = stored(app, "rune.tilbakekalt@example.org")
    response = upload(client, revoked.pdf or b"")
    assert outcome(response) == "revoked"
    assert revoked.revoked_at is not None
    text = response.get_data(as_text=True)
    assert "was revoked on" in text and str(revoked.revoked_at.year) in text
    expired = stored(app, "eva.utlopt@example.org")
    response = upload(client, expired.pdf or b"")
    assert outcome(response) == "expired"
    assert expired.valid_until is not None
    assert "it was valid until" in response.get_data(as_text=True)


def test_a_record_changed_since_is_a_mismatch(app: Flask, client: FlaskClient) -> None:
    certificate = stored(app, KARI)
    with Session(engine_of(app)) as s:
        row = s.exec(select(Certificate).where(Certificate.code == certificate.code)).one()
        row.holder_name = "Kari Gyldig-Endret"
        s.add(row)
        s.commit()
    response = upload(client, certificate.pdf or b"")
    assert outcome(response) == "differs"
    assert "the holder" in response.get_data(as_text=True)


def test_a_genuine_pdf_without_a_record_is_named(app: Flask, client: FlaskClient) -> None:
    authority = certificates.authority_of(app=app)
    orphan = authority.pdf_signer(now=utcnow()).sign(render_certificate(TEXT))
    response = upload(client, orphan)
    assert outcome(response) == "unknown code"


def test_a_50_mb_upload_gets_a_clear_413_page(client: FlaskClient) -> None:
    response = upload(client, b"%PDF-1.7\n" + bytes(50 * 1024 * 1024), "huge.pdf")
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "Too large" in text and "larger than 8 MB" in text


def test_the_upload_needs_csrf_and_a_file(client: FlaskClient) -> None:
    no_token = client.post(
        "/verify",
        data={"file": (io.BytesIO(b"%PDF-1.7"), "c.pdf")},
        content_type="multipart/form-data",
    )
    assert no_token.status_code == 400 and "The form had expired" in no_token.get_data(as_text=True)
    no_file = client.post("/verify", data={"csrf_token": csrf_token(client, "/verify")})
    assert no_file.status_code == 400
    assert "Choose a PDF file to check." in no_file.get_data(as_text=True)


def test_uploads_are_rate_limited_per_address(app: Flask, client: FlaskClient) -> None:
    app.config["VERIFY_UPLOAD_LIMIT_PER_ADDRESS"] = "3 per minute"
    for _ in range(3):
        assert upload(client, b"not a pdf").status_code == 200
    assert upload(client, b"not a pdf").status_code == 429


# --- the published signing certificate -------------------------------------------------------


def test_the_signing_certificate_and_fingerprint_are_published(
    app: Flask, client: FlaskClient
) -> None:
    pem = client.get("/pdf-signing-certificate.pem")
    der = client.get("/pdf-signing-certificate.cer")
    assert pem.status_code == der.status_code == 200
    assert der.mimetype == "application/pkix-cert"
    assert pem.headers["Access-Control-Allow-Origin"] == der.headers["Access-Control-Allow-Origin"]
    assert pem.headers["Access-Control-Allow-Origin"] == "*"
    certificate = x509.load_der_x509_certificate(der.data)
    assert x509.load_pem_x509_certificates(pem.data)[0] == certificate
    digest = certificate.fingerprint(hashes.SHA256()).hex()
    assert digest == hashlib.sha256(der.data).hexdigest()
    colons = ":".join(digest[i : i + 2] for i in range(0, 64, 2)).upper()
    assert colons in client.get("/verify").get_data(as_text=True)
    page = client.get(f"/verify/{demo_code(app, KARI)}").get_data(as_text=True)
    assert colons in page
    # Issued to the issuer, not to a generic name.
    name = app.config["ISSUER_NAME"]
    assert certificate.subject.rfc4514_string() == f"O={name},CN={name}"
    # The very certificate that signed the PDFs.
    signed = (
        certificates.authority_of(app=app)
        .pdf_signer(now=utcnow())
        .check(stored(app, KARI).pdf or b"")
    )
    assert signed.signer_fingerprint == digest


def test_the_service_gives_the_certificate_for_the_issuer_profile(app: Flask) -> None:
    published = certificates.authority_of(app=app).pdf_signing_certificate(now=utcnow())
    certificate = x509.load_pem_x509_certificate(published.pem.encode())
    assert certificate == x509.load_der_x509_certificate(published.der)
    assert published.sha256 == certificate.fingerprint(hashes.SHA256()).hex()
    assert published.sha256_colons.replace(":", "").lower() == published.sha256


# --- revoked and expired certificates get no PDF ---------------------------------------------


def test_a_revoked_certificate_has_no_pdf_but_a_page_with_the_date(
    app: Flask, client: FlaskClient
) -> None:
    code = demo_code(app, "rune.tilbakekalt@example.org")
    response = client.get(f"/verify/{code}/pdf")
    assert response.status_code == 410 and response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "Revoked" in text and "was revoked on" in text and "No PDF of it is issued" in text
    assert b"%PDF" not in response.data
    assert f"/verify/{code}/pdf" not in client.get(f"/verify/{code}").get_data(as_text=True)


def test_an_expired_certificate_has_no_pdf_but_a_page_that_says_expired(
    app: Flask, client: FlaskClient
) -> None:
    code = demo_code(app, "eva.utlopt@example.org")
    response = client.get(f"/verify/{code}/pdf")
    assert response.status_code == 410
    text = response.get_data(as_text=True)
    assert "Expired" in text and "it was valid until" in text
    assert b"%PDF" not in response.data


def test_no_fresh_signature_for_a_revoked_or_expired_download(
    app: Flask, client: FlaskClient
) -> None:
    """Rows without a stored PDF (issued before PDFs were stored): a revoked or expired one is
    not signed on download, and make-pdfs never signs a revoked one."""
    revoked = demo_code(app, "rune.tilbakekalt@example.org")
    expired = demo_code(app, "eva.utlopt@example.org")
    with Session(engine_of(app)) as s:
        for row in s.exec(select(Certificate)).all():
            row.pdf = None
            s.add(row)
        s.commit()
    signer = certificates.authority_of(app=app).pdf_signer(now=utcnow())
    signed: list[bytes] = []
    original = signer.sign
    signer.sign = lambda pdf: signed.append(pdf) or original(pdf)  # type: ignore[method-assign]
    try:
        assert client.get(f"/verify/{revoked}/pdf").status_code == 410
        assert client.get(f"/verify/{expired}/pdf").status_code == 410
        assert signed == []
        made = app.test_cli_runner().invoke(args=["certificates", "make-pdfs"])
        assert made.exit_code == 0 and made.output.strip() == "made 2 PDF(s)", made.output
    finally:
        del signer.sign
    assert len(signed) == 2 and not any(revoked.encode() in pdf for pdf in signed)
    with Session(engine_of(app)) as s:
        assert s.exec(select(Certificate).where(Certificate.code == revoked)).one().pdf is None


def test_a_valid_certificate_still_downloads_its_signed_pdf(
    app: Flask, client: FlaskClient
) -> None:
    certificate = stored(app, KARI)
    response = client.get(f"/verify/{certificate.code}/pdf")
    assert response.status_code == 200 and response.data == certificate.pdf


# --- settings: the organisation's own chain, a timestamp authority ----------------------------


def test_the_app_signs_with_the_organisations_pkcs12(tmp_path: Path) -> None:
    """Switching to the organisation's chain: PDFs signed before with the key elearn made
    keep verifying."""
    before = PdfSigner.from_directory(tmp_path / "pdf-signing", now=utcnow(), common_name="x")
    earlier_pdf = before.sign(render_certificate(TEXT))
    key, leaf, root = make_chain("Eksempel kommune")
    (tmp_path / "signing.p12").write_bytes(p12(key, leaf, [root], b"s3cret"))
    (tmp_path / "p12-passphrase").write_text("s3cret\n")
    app = make_app(
        tmp_path,
        PDF_SIGNING_PKCS12="signing.p12",  # relative: in the instance folder
        PDF_SIGNING_PKCS12_PASSPHRASE_FILE="p12-passphrase",
    )
    try:
        authority = certificates.authority_of(app=app)
        published = authority.pdf_signing_certificate(now=utcnow())
        assert published.sha256 == leaf.fingerprint(hashes.SHA256()).hex()
        assert published.chain_pem.count("BEGIN CERTIFICATE") == 2
        pdf = authority.pdf_signer(now=utcnow()).sign(render_certificate(TEXT))
        assert authority.pdf_signer(now=utcnow()).check(pdf).verdict == "genuine"
        assert authority.pdf_signer(now=utcnow()).check(earlier_pdf).verdict == "genuine"
    finally:
        release_app(app)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"PDF_SIGNING_PKCS12_PASSPHRASE": "wrong"}, "PDF_SIGNING_PKCS12_PASSPHRASE"),
        ({"PDF_SIGNING_PKCS12": "missing.p12"}, "PDF_SIGNING_PKCS12"),
        (
            {"PDF_SIGNING_PKCS12": None, "PDF_TIMESTAMP_URL": "http://127.0.0.1:9/"},
            "PDF_TIMESTAMP_ROOTS",
        ),
    ],
)
def test_a_signing_setting_that_cannot_work_stops_the_start(
    tmp_path: Path, settings: dict[str, Any], named: str
) -> None:
    key, leaf, root = make_chain()
    (tmp_path / "signing.p12").write_bytes(p12(key, leaf, [root], b"right"))
    config = {"PDF_SIGNING_PKCS12": "signing.p12", "PDF_SIGNING_PKCS12_PASSPHRASE": "right"}
    with pytest.raises(SigningSetupError, match=named):  # before any database is touched
        make_app(
            tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'e.sqlite'}", **{**config, **settings}
        )


@pytest.mark.parametrize(
    ("email", "offered"),
    [(KARI, True), ("rune.tilbakekalt@example.org", False), ("eva.utlopt@example.org", False)],
)
def test_the_holder_is_offered_a_pdf_only_while_it_is_valid(
    app: Flask, client: FlaskClient, email: str, offered: bool
) -> None:
    assert login(client, email).status_code == 302
    page = client.get("/me/certificates").get_data(as_text=True)
    code = demo_code(app, email)
    assert code in page
    assert (f"/verify/{code}/pdf" in page) is offered
