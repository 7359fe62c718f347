"""Certificate PDFs prove who signed them: certified (DocMDP, no changes), the signer's key pinned,
an RFC 3161 timestamp from a loopback TSA, the organisation's own chain from PKCS#12."""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from elearn.pdf import PdfSigner, SigningSetupError, render_certificate
from tests.conftest import off_loop
from tests.pdf.test_certificate_pdf import TEXT, flip_byte, forge_code, pdfsig, run, tool

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(autouse=True)
def _quiet_pyhanko() -> None:
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.ERROR)


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> PdfSigner:
    return PdfSigner.from_directory(
        tmp_path_factory.mktemp("ours"), now=NOW, common_name="Eksempel kommune"
    )


@pytest.fixture(scope="module")
def signed(ours: PdfSigner) -> bytes:
    return ours.sign(render_certificate(TEXT))


def append_drawing(pdf: bytes) -> bytes:
    """An incremental update that paints a red box over the page, as a forger would."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    ref = writer.add_object(generic.StreamObject(stream_data=b"1 0 0 rg 72 300 400 60 re f"))
    writer.add_stream_to_page(0, ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def append_nothing_but_info(pdf: bytes) -> bytes:
    """An incremental update that only rewrites the document information (a new title)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    info = writer.trailer["/Info"]
    info["/Title"] = generic.TextStringObject("Sertifikat – Someone Else")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- certification --------------------------------------------------------------------------


def test_the_pdf_is_certified_with_no_changes_allowed(ours: PdfSigner, signed: bytes) -> None:
    (signature,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    assert signature.docmdp_level is MDPPerm.NO_CHANGES
    check = ours.check(signed)
    assert check.verdict == "genuine"
    assert check.signer_fingerprint == ours.fingerprint
    assert check.info["Keywords"].split()[0] == TEXT.code
    assert check.timestamp is None  # no TSA configured


def test_the_signing_certificate_is_issued_to_the_issuer(ours: PdfSigner) -> None:
    certificate = x509.load_pem_x509_certificate(ours.certificate_pem)
    assert certificate.subject.rfc4514_string() == "O=Eksempel kommune,CN=Eksempel kommune"
    assert ours.fingerprint == certificate.fingerprint(hashes.SHA256()).hex()


def our_root(signer: PdfSigner) -> asn1_x509.Certificate:
    certificate = x509.load_pem_x509_certificate(signer.certificate_pem)
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def test_a_revision_that_draws_on_the_page_fails_docmdp(ours: PdfSigner, signed: bytes) -> None:
    changed = append_drawing(signed)
    assert changed.startswith(signed)  # the signed bytes are all still there, untouched
    signature = PdfFileReader(io.BytesIO(changed)).embedded_signatures[0]
    context = ValidationContext(trust_roots=[our_root(ours)])
    status = off_loop(validate_pdf_signature, signature, context)
    assert status.intact and status.trusted  # what a careless check would stop at
    assert not status.docmdp_ok and not status.bottom_line
    assert ours.check(changed).verdict == "revision added"


def test_a_revision_that_only_rewrites_the_title_is_caught_too(
    ours: PdfSigner, signed: bytes
) -> None:
    """pyHanko lets a metadata-only update pass DocMDP (it counts as an archival update), yet
    the title is where the holder's name is read from: any revision after ours is refused."""
    changed = append_nothing_but_info(signed)
    signature = PdfFileReader(io.BytesIO(changed)).embedded_signatures[0]
    context = ValidationContext(trust_roots=[our_root(ours)])
    status = off_loop(validate_pdf_signature, signature, context)
    assert status.intact and status.docmdp_ok  # pyHanko's bottom line alone would pass it
    check = ours.check(changed)
    assert check.verdict == "revision added" and check.info == {}


def test_pdfsig_alone_misses_the_appended_revision(signed: bytes, tmp_path: Path) -> None:
    """Why the verdict comes from pyHanko: pdfsig passes the forged copy as valid."""
    report = pdfsig(append_drawing(signed), tmp_path / "appended.pdf", "-no-ocsp")
    assert "Signature is Valid." in report, report
    assert "Not total document signed" in report, report


def test_a_copy_re_signed_with_another_key_of_the_same_name_is_told_apart(
    ours: PdfSigner, tmp_path: Path
) -> None:
    forger = PdfSigner.from_directory(tmp_path, now=NOW, common_name="Eksempel kommune")
    forged = forger.sign(render_certificate(replace(TEXT, holder="Mallory")))
    assert forger.check(forged).verdict == "genuine"  # intact and certified: for its own key
    check = ours.check(forged)
    assert check.verdict == "other key"
    assert check.signer_fingerprint == forger.fingerprint != ours.fingerprint


@pytest.mark.parametrize("tamper", [flip_byte, forge_code])
def test_an_edited_byte_is_caught(ours: PdfSigner, signed: bytes, tamper: object) -> None:
    assert ours.check(tamper(signed)).verdict == "edited"  # type: ignore[operator]


@pytest.mark.parametrize(
    ("data", "verdict"),
    [
        (b"", "not a pdf"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "not a pdf"),
        (b"name,email\nKari,kari@example.org\n", "not a pdf"),
        (b"%PDF-1.7\n" + bytes(64), "damaged"),
        (render_certificate(TEXT), "unsigned"),
    ],
)
def test_files_that_are_not_certificates(ours: PdfSigner, data: bytes, verdict: str) -> None:
    assert ours.check(data).verdict == verdict


def test_a_renamed_issuer_gets_a_new_certificate_and_old_pdfs_still_verify(
    tmp_path: Path,
) -> None:
    before = PdfSigner.from_directory(tmp_path, now=NOW, common_name="Old name")
    old_pdf = before.sign(render_certificate(TEXT))
    after = PdfSigner.from_directory(tmp_path, now=NOW, common_name="New name")
    assert "CN=New name" in after.subject and after.fingerprint != before.fingerprint
    assert len(list(tmp_path.glob("previous-*.pem"))) == 1
    assert after.check(old_pdf).verdict == "genuine"
    assert after.check(after.sign(render_certificate(TEXT))).verdict == "genuine"


# --- the organisation's own chain (PKCS#12) --------------------------------------------------


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_root(
    name: str = "Eksempel Root CA",
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    start = NOW - dt.timedelta(days=1)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    return root_key, root


def make_leaf(
    root_key: ec.EllipticCurvePrivateKey,
    root: x509.Certificate,
    name: str = "Eksempel kommune",
    eku: list[x509.ObjectIdentifier] | None = None,
    rsa_key: bool = False,
) -> tuple[ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, x509.Certificate]:
    """A leaf the root issued: digital signature and non-repudiation."""
    start = NOW - dt.timedelta(days=1)
    leaf_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
        rsa.generate_private_key(65537, 2048)
        if rsa_key
        else ec.generate_private_key(ec.SECP256R1())
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(root.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    return leaf_key, builder.sign(root_key, hashes.SHA256())


def make_chain(
    leaf_name: str = "Eksempel kommune",
    eku: list[x509.ObjectIdentifier] | None = None,
    rsa_key: bool = False,
) -> tuple[ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, x509.Certificate, x509.Certificate]:
    """A root CA and a leaf it issued."""
    root_key, root = make_root()
    key, leaf = make_leaf(root_key, root, leaf_name, eku, rsa_key)
    return key, leaf, root


def p12(key: object, leaf: x509.Certificate, chain: list[x509.Certificate], word: bytes) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"signing",
        key,  # type: ignore[arg-type]
        leaf,
        chain,
        serialization.BestAvailableEncryption(word),
    )


def test_an_organisations_own_chain_signs_and_verifies(tmp_path: Path) -> None:
    key, leaf, root = make_chain()
    signer = PdfSigner.from_pkcs12(p12(key, leaf, [root], b"hemmelig"), "hemmelig")
    pdf = signer.sign(render_certificate(TEXT))
    check = signer.check(pdf)
    assert check.verdict == "genuine"
    assert check.signer_fingerprint == leaf.fingerprint(hashes.SHA256()).hex()
    assert signer.chain_pem.count(b"BEGIN CERTIFICATE") == 2
    # The chain travels in the signature: a verifier who trusts the root alone gets there.
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    anchor = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    status = off_loop(validate_pdf_signature, signature, ValidationContext(trust_roots=[anchor]))
    assert status.bottom_line


def test_another_leaf_of_the_same_root_is_not_ours() -> None:
    """Trusting the organisation's root is not enough: the key is pinned. A second leaf of the
    same root, under the same name (as a CA that issues to anyone would make), is refused."""
    root_key, root = make_root()
    ours = PdfSigner.from_pkcs12(p12(*make_leaf(root_key, root), [root], b"x"), "x")
    other = PdfSigner.from_pkcs12(p12(*make_leaf(root_key, root), [root], b"y"), "y")
    assert ours.check(other.sign(render_certificate(TEXT))).verdict == "other key"


def test_a_wrong_passphrase_or_a_bad_file_names_the_setting() -> None:
    key, leaf, root = make_chain()
    with pytest.raises(SigningSetupError, match="PDF_SIGNING_PKCS12_PASSPHRASE"):
        PdfSigner.from_pkcs12(p12(key, leaf, [root], b"right"), "wrong")
    with pytest.raises(SigningSetupError, match="PDF_SIGNING_PKCS12"):
        PdfSigner.from_pkcs12(b"not a pkcs12 file", "x")


def test_an_ed25519_key_is_refused_because_pdfsig_cannot_check_it() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("x"))
        .issuer_name(_name("x"))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
        .sign(key, None)
    )
    with pytest.raises(SigningSetupError, match="ECDSA or RSA"):
        PdfSigner.from_pkcs12(p12(key, certificate, [], b"x"), "x")


# --- an RFC 3161 timestamp from a TSA on loopback -------------------------------------------


class LoopbackTsa:
    """pyHanko's DummyTimeStamper answering RFC 3161 requests over HTTP on 127.0.0.1."""

    def __init__(self) -> None:
        key, certificate, root = make_chain(
            "Loopback TSA",
            [ExtendedKeyUsageOID.TIME_STAMPING],
            rsa_key=True,  # pyHanko's dummy
        )
        self.root_pem = root.public_bytes(serialization.Encoding.PEM)
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.stamper = DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(
                certificate.public_bytes(serialization.Encoding.DER)
            ),
            tsa_key=asn1_keys.PrivateKeyInfo.load(der),
        )
        self.requests = 0
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/tsa"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wsgi(self, environ: dict[str, object], start_response: object) -> object:
        request = Request(environ)  # type: ignore[arg-type]
        if request.content_type != "application/timestamp-query":
            return Response("expected a timestamp query", 415)(environ, start_response)  # type: ignore[arg-type]
        self.requests += 1
        answer = self.stamper.request_tsa_response(tsp.TimeStampReq.load(request.get_data()))
        response = Response(answer.dump(), mimetype="application/timestamp-reply")
        return response(environ, start_response)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tsa() -> Iterator[LoopbackTsa]:
    server = LoopbackTsa()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def test_a_configured_tsa_timestamps_the_signature(tsa: LoopbackTsa, tmp_path: Path) -> None:
    signer = PdfSigner.from_directory(
        tmp_path, now=NOW, timestamp_url=tsa.url, timestamp_roots=[tsa.root_pem]
    )
    before = tsa.requests
    pdf = signer.sign(render_certificate(TEXT))
    assert tsa.requests > before
    check = signer.check(pdf)
    assert check.verdict == "genuine"
    assert check.timestamp is not None
    assert abs(check.timestamp - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    # Independently of our check: pyHanko finds a valid, trusted timestamp token.
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    roots = [
        asn1_x509.Certificate.load(
            x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
        )
        for pem in (signer.certificate_pem, tsa.root_pem)
    ]
    status = off_loop(validate_pdf_signature, signature, ValidationContext(trust_roots=roots))
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.trusted
    assert status.bottom_line


def test_a_timestamp_from_an_untrusted_tsa_is_not_confirmed(
    tsa: LoopbackTsa, tmp_path: Path
) -> None:
    signer = PdfSigner.from_directory(
        tmp_path, now=NOW, timestamp_url=tsa.url, timestamp_roots=[tsa.root_pem]
    )
    pdf = signer.sign(render_certificate(TEXT))
    _, _, stranger = make_chain("Some other TSA root")
    verifier = PdfSigner.from_directory(
        tmp_path,
        now=NOW,
        timestamp_url=tsa.url,
        timestamp_roots=[stranger.public_bytes(serialization.Encoding.PEM)],
    )
    assert verifier.check(pdf).verdict == "untrusted"


def test_a_tsa_without_its_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SigningSetupError, match="PDF_TIMESTAMP_ROOTS"):
        PdfSigner.from_directory(tmp_path, now=NOW, timestamp_url="http://127.0.0.1:9/tsa")


def test_a_tsa_that_does_not_answer_leaves_the_pdf_signed_without_a_timestamp(
    tsa: LoopbackTsa, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed = make_server("127.0.0.1", 0, lambda e, s: [])
    port = closed.server_port
    closed.server_close()  # nothing listens there now
    signer = PdfSigner.from_directory(
        tmp_path,
        now=NOW,
        timestamp_url=f"http://127.0.0.1:{port}/tsa",
        timestamp_roots=[tsa.root_pem],
    )
    with caplog.at_level(logging.WARNING, logger="elearn.pdf.signing"):
        pdf = signer.sign(render_certificate(TEXT))
    assert "signing without a timestamp" in caplog.text
    check = signer.check(pdf)
    assert check.verdict == "genuine" and check.timestamp is None


def test_pdfsig_with_our_certificate_imported_refuses_a_forgery_of_the_same_name(
    ours: PdfSigner, signed: bytes, tmp_path: Path
) -> None:
    """The README's pdfsig recipe: import the published certificate, then a genuine copy reads
    "Total document signed", "Signature is Valid." and "Certificate is Trusted."; a copy
    re-signed under the same name is not trusted, an appended revision is not total."""
    certutil = tool("certutil")
    nss = tmp_path / "nss"
    nss.mkdir()
    (tmp_path / "ours.pem").write_bytes(ours.certificate_pem)
    run(certutil, "-N", "-d", f"sql:{nss}", "--empty-password")
    run(
        certutil,
        "-A",
        "-d",
        f"sql:{nss}",
        "-n",
        "ours",
        "-t",
        "C,C,C",
        "-a",
        "-i",
        tmp_path / "ours.pem",
    )
    forger = PdfSigner.from_directory(tmp_path / "forger", now=NOW, common_name="Eksempel kommune")
    forged = forger.sign(render_certificate(replace(TEXT, holder="Mallory")))

    def report(pdf: bytes, name: str) -> str:
        return pdfsig(pdf, tmp_path / name, "-nssdir", f"sql:{nss}")

    genuine = report(signed, "genuine.pdf")
    assert "Total document signed" in genuine and "Certificate is Trusted." in genuine, genuine
    other = report(forged, "forged.pdf")
    assert "Signature is Valid." in other and "Certificate is Trusted." not in other, other
    appended = report(append_drawing(signed), "appended.pdf")
    assert "Not total document signed" in appended, appended
