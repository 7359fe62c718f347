"""Certify certificate PDFs and check uploaded ones against this issuer's key (pyHanko).

A certificate PDF carries one certification signature (PAdES, DocMDP "no changes allowed"): any
later revision, even one that only adds an annotation, fails pyHanko's DocMDP check, where
poppler's pdfsig still says "Signature is Valid." With a timestamp authority configured, the
signature carries an RFC 3161 timestamp. ``PdfSigner.check`` gives the verdict on an uploaded
file: the signer's public key is pinned, so a copy re-signed with any other key is told apart
from a genuine one even when its signature is intact (docs/decisions/0015).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import hashlib
import io
import logging
import os
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

log = logging.getLogger(__name__)

_KEY_FILE = "key.pem"
_CERT_FILE = "cert.pem"
_PREVIOUS = "previous-*.pem"  # earlier certificates of the same key (a renamed issuer)
FIELD_NAME = "ElearnCertificateSignature"
_BYTES_RESERVED = 8192
_BYTES_RESERVED_LARGE = 16384  # room for a timestamp token and a certificate chain
_NAME_MAX = 64  # X.509 upper bound of a common name and an organisation name
_TIMESTAMP_TIMEOUT_SECONDS = 10

T = TypeVar("T")


class SigningSetupError(ValueError):
    """The signing key, certificate chain or timestamp settings cannot be used (names which)."""


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a pyHanko coroutine to its end from synchronous code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # Where this thread already runs a loop (an async server worker, a browser-test driver),
    # run in a thread of its own instead of failing.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable by the owner only, from the first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def _subject(name: str) -> x509.Name:
    """The issuer's name as common name and organisation, within X.509's 64 characters."""
    name = (name.strip() or "elearn")[:_NAME_MAX]
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        ]
    )


def _self_signed_certificate(
    key: ec.EllipticCurvePrivateKey, common_name: str, now: dt.datetime
) -> x509.Certificate:
    """A 10-year self-signed CA certificate for `key`: a CA so pdfsig can be told to trust it."""
    name = _subject(common_name)
    now = now.astimezone(dt.UTC).replace(microsecond=0)
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3653))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the directory so parallel workers never create two key pairs."""
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _pem_certificates(data: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise SigningSetupError(f"not a PEM certificate: {error}") from error


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def fingerprint(certificate_der: bytes) -> str:
    """SHA-256 of a certificate's DER bytes, in lowercase hex (what pdfsig and browsers show
    as pairs separated by colons)."""
    return hashlib.sha256(certificate_der).hexdigest()


@dataclass(frozen=True)
class PdfCheck:
    """pyHanko's verdict on one uploaded file, from the first test that fails:

    ``not a pdf`` (no PDF header), ``damaged`` (a PDF header, but unreadable), ``unsigned``
    (no signature: not a certificate), ``other key`` (signed, but not with this issuer's key),
    ``edited`` (a signed byte was changed: the signature is not intact), ``revision added``
    (signed by this issuer, then changed by an incremental update: DocMDP fails or the
    signature no longer covers the whole file), ``untrusted`` (this issuer's key, intact and
    unchanged, but pyHanko's bottom line is false: an expired signing certificate, a timestamp
    from an authority not trusted here) or ``genuine``.
    """

    verdict: str
    info: dict[str, str] = field(default_factory=dict)  # the signed document information
    signer: str | None = None  # the signing certificate's subject
    signer_fingerprint: str | None = None
    signed_at: dt.datetime | None = None  # the time the signer claims
    timestamp: dt.datetime | None = None  # the RFC 3161 time, when the token is valid
    summary: str = ""  # pyHanko's own summary, for the log

    @property
    def genuine(self) -> bool:
        return self.verdict == "genuine"


class PdfSigner:
    """Certifies PDFs with one key (ECDSA or RSA) and its certificate chain; the pyHanko
    signers are built once and reused. ``check`` tells whether a PDF is one of ours, unchanged."""

    def __init__(
        self,
        key_pem: bytes,
        certificate_pem: bytes,
        *,
        chain: Sequence[bytes] = (),
        previous: Sequence[bytes] = (),
        timestamp_url: str | None = None,
        timestamp_roots: Sequence[bytes] = (),
    ) -> None:
        """Parse the key pair once, checking the certificate belongs to the key. `chain` (PEM)
        is embedded after the signing certificate; `previous` are earlier certificates (of this
        key, or of the key used before PDF_SIGNING_PKCS12) whose PDFs still verify;
        `timestamp_roots` (PEM) are the trust anchors of the authority at `timestamp_url`."""
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise SigningSetupError(
                "the PDF signing key must be ECDSA or RSA (poppler's pdfsig cannot check others)"
            )
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        public_der = serialization.PublicFormat.SubjectPublicKeyInfo
        spki = key.public_key().public_bytes(serialization.Encoding.DER, public_der)
        if spki != certificate.public_key().public_bytes(serialization.Encoding.DER, public_der):
            raise SigningSetupError("the certificate does not belong to the private key")
        if timestamp_url and not timestamp_roots:
            raise SigningSetupError(
                "PDF_TIMESTAMP_URL is set without PDF_TIMESTAMP_ROOTS: give the timestamp "
                "authority's root certificate (PEM), so that its timestamps can be verified"
            )
        self._certificate = certificate
        self._certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
        self._certificate_der = certificate.public_bytes(serialization.Encoding.DER)
        self._chain = [c for data in chain for c in _pem_certificates(data)]
        earlier = [c for data in previous for c in _pem_certificates(data)]
        self._spki = {spki} | {
            c.public_key().public_bytes(serialization.Encoding.DER, public_der) for c in earlier
        }
        leaf = _asn1(certificate)
        chain_asn1 = [_asn1(c) for c in self._chain]
        # Trusted when verifying: our own certificates only. The public key is pinned besides,
        # so a certificate for another key under the same root is not taken for ours.
        self._trust_roots = [leaf, *chain_asn1, *(_asn1(c) for c in earlier)]
        self._timestamp_roots = [
            _asn1(c) for data in timestamp_roots for c in _pem_certificates(data)
        ]
        key_der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        signer = signers.SimpleSigner(
            signing_cert=leaf,
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            cert_registry=SimpleCertificateStore.from_certs([leaf, *chain_asn1]),
        )
        metadata = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            certify=True,
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        )
        self.timestamp_url = timestamp_url or None
        self._plain = signers.PdfSigner(metadata, signer=signer)
        self._stamped = (
            signers.PdfSigner(
                metadata,
                signer=signer,
                timestamper=HTTPTimeStamper(self.timestamp_url, timeout=_TIMESTAMP_TIMEOUT_SECONDS),
            )
            if self.timestamp_url
            else None
        )
        large = bool(self._chain) or self._stamped is not None or isinstance(key, rsa.RSAPrivateKey)
        self._bytes_reserved = _BYTES_RESERVED_LARGE if large else _BYTES_RESERVED

    @classmethod
    def from_directory(
        cls,
        directory: Path,
        *,
        now: dt.datetime,
        common_name: str = "elearn certificate signing",
        timestamp_url: str | None = None,
        timestamp_roots: Sequence[bytes] = (),
    ) -> PdfSigner:
        """Load key.pem and cert.pem from `directory`, creating a fresh pair when none exists.
        A certificate under another name than `common_name` (the issuer was renamed) is kept
        as previous-*.pem, so earlier PDFs still verify, and a new one is made for the key."""
        directory = Path(directory)
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            directory.chmod(0o700)
        key_path, cert_path = directory / _KEY_FILE, directory / _CERT_FILE
        with _locked(directory):
            if not key_path.exists():
                if cert_path.exists():
                    raise SigningSetupError(f"{cert_path} exists without its {_KEY_FILE}")
                key = ec.generate_private_key(ec.SECP256R1())
                _write_private(
                    key_path,
                    key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    ),
                )
            key_pem = key_path.read_bytes()
            if cert_path.exists():
                existing = x509.load_pem_x509_certificate(cert_path.read_bytes())
                if existing.subject != _subject(common_name):
                    der = existing.public_bytes(serialization.Encoding.DER)
                    cert_path.rename(directory / f"previous-{fingerprint(der)[:16]}.pem")
            if not cert_path.exists():
                loaded = serialization.load_pem_private_key(key_pem, password=None)
                if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                    raise SigningSetupError(f"{key_path} is not an ECDSA key")
                certificate = _self_signed_certificate(loaded, common_name, now)
                _write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
            cert_pem = cert_path.read_bytes()
            previous = [path.read_bytes() for path in sorted(directory.glob(_PREVIOUS))]
        return cls(
            key_pem,
            cert_pem,
            previous=previous,
            timestamp_url=timestamp_url,
            timestamp_roots=timestamp_roots,
        )

    @classmethod
    def from_pkcs12(
        cls,
        data: bytes,
        passphrase: str | None,
        *,
        previous: Sequence[bytes] = (),
        timestamp_url: str | None = None,
        timestamp_roots: Sequence[bytes] = (),
    ) -> PdfSigner:
        """The organisation's own key and certificate chain from a PKCS#12 file; `previous`
        certificates (PEM, of other keys) still verify the PDFs they signed."""
        try:
            key, certificate, chain = pkcs12.load_key_and_certificates(
                data, passphrase.encode() if passphrase else None
            )
        except ValueError as error:
            raise SigningSetupError(
                "PDF_SIGNING_PKCS12 cannot be opened: a wrong passphrase "
                "(PDF_SIGNING_PKCS12_PASSPHRASE) or not a PKCS#12 file"
            ) from error
        if key is None or certificate is None:
            raise SigningSetupError("PDF_SIGNING_PKCS12 holds no private key and certificate")
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(
            key_pem,
            certificate.public_bytes(serialization.Encoding.PEM),
            chain=[c.public_bytes(serialization.Encoding.PEM) for c in chain],
            previous=previous,
            timestamp_url=timestamp_url,
            timestamp_roots=timestamp_roots,
        )

    @property
    def certificate_pem(self) -> bytes:
        """The signing certificate (PEM), for verifiers that want to pin or import it."""
        return self._certificate_pem

    @property
    def certificate_der(self) -> bytes:
        return self._certificate_der

    @property
    def chain_pem(self) -> bytes:
        """The signing certificate followed by the rest of its chain (PEM)."""
        return self._certificate_pem + b"".join(
            c.public_bytes(serialization.Encoding.PEM) for c in self._chain
        )

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the signing certificate (DER), lowercase hex."""
        return fingerprint(self._certificate_der)

    @property
    def subject(self) -> str:
        return self._certificate.subject.rfc4514_string()

    # --- signing ----------------------------------------------------------------------------

    def sign(self, pdf: bytes) -> bytes:
        """Certify the document (DocMDP: no changes allowed) in an incremental update, with a
        timestamp when a timestamp authority is set. When that authority does not answer, the
        PDF is signed without a timestamp and the failure is logged: issuing a certificate does
        not wait on a third party."""
        if self._stamped is not None:
            try:
                return _run(self._sign(pdf, self._stamped))
            except Exception as error:  # any failure of the network or of the authority
                log.warning(
                    "timestamp authority %s failed (%s); signing without a timestamp",
                    self.timestamp_url,
                    error,
                )
        return _run(self._sign(pdf, self._plain))

    async def _sign(self, pdf: bytes, signer: signers.PdfSigner) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        output = await signer.async_sign_pdf(writer, bytes_reserved=self._bytes_reserved)
        return bytes(output.getvalue())

    # --- checking ---------------------------------------------------------------------------

    def check(self, pdf: bytes) -> PdfCheck:
        """pyHanko's verdict on `pdf`: is it a certificate signed with this issuer's key and
        unchanged since? Never raises on bad input (see ``PdfCheck`` for the verdicts)."""
        if b"%PDF-" not in pdf[:1024]:
            return PdfCheck("not a pdf")
        try:
            reader = PdfFileReader(io.BytesIO(pdf), strict=False)
            embedded = list(reader.embedded_signatures)
        except Exception:  # untrusted input: any parser failure means an unreadable file
            return PdfCheck("damaged")
        if not embedded:
            return PdfCheck("unsigned")
        ours = [s for s in embedded if s.field_name == FIELD_NAME]
        signature = ours[0] if ours else embedded[0]
        context = ValidationContext(trust_roots=self._trust_roots, allow_fetching=False)
        stamps = ValidationContext(trust_roots=self._timestamp_roots, allow_fetching=False)
        try:
            status = _run(
                async_validate_pdf_signature(
                    signature, signer_validation_context=context, ts_validation_context=stamps
                )
            )
        except Exception:  # a malformed signature value or CMS structure
            log.info("an uploaded PDF's signature could not be validated", exc_info=True)
            return PdfCheck("edited")
        cert = status.signing_cert
        facts: dict[str, Any] = {
            "signer": cert.subject.human_friendly,
            "signer_fingerprint": cert.sha256.hex(),
            "signed_at": status.signer_reported_dt,
            "summary": status.summary(),
        }
        if cert.public_key.dump() not in self._spki:
            return PdfCheck("other key", **facts)
        if not (status.intact and status.valid):
            return PdfCheck("edited", **facts)
        if (
            len(embedded) > 1
            or status.coverage is not SignatureCoverageLevel.ENTIRE_FILE
            or not status.docmdp_ok
        ):
            return PdfCheck("revision added", **facts)
        stamp = status.timestamp_validity
        if stamp is not None and stamp.intact and stamp.valid and stamp.trusted:
            facts["timestamp"] = stamp.timestamp
        if not status.bottom_line:
            return PdfCheck("untrusted", **facts)
        return PdfCheck("genuine", info=_document_info(reader), **facts)


def _document_info(reader: PdfFileReader) -> dict[str, str]:
    """The document information dictionary as text (title, author, subject, keywords, dates)."""
    try:
        info = reader.trailer_view["/Info"]
        return {str(key).lstrip("/"): str(value) for key, value in info.items()}
    except (KeyError, TypeError, AttributeError):
        return {}
