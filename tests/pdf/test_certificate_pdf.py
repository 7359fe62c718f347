"""Certificate PDFs: text in three languages, a scannable QR code, and signatures pdfsig accepts."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import stat
import struct
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import segno
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from elearn.pdf import (
    PAGE_HEIGHT,
    QR_SIDE,
    QR_X,
    QR_Y,
    CertificateText,
    PdfSigner,
    format_date,
    render_certificate,
)
from tests.conftest import off_loop

URL = "https://elearn.example.org/verify/K7QM-3XPA-9TRD"
TEXT = CertificateText(
    language="nb",
    holder="Åse Øvrebø Ærlig",
    achievement="Knowledge test: sustainability in the public sector",
    issued=dt.date(2026, 11, 20),
    valid_until=dt.date(2028, 11, 20),
    issuer="elearn – Eksempel kommune",
    code="K7QM-3XPA-9TRD",
    verify_url=URL,
)
# Fixed words expected on the page: title, "certifies that", issued, valid until, no-expiry.
WORDS = {
    "nb": ("Sertifikat", "Dette bekrefter at", "Utstedt", "Gyldig til", "utløper ikke"),
    "da": ("Certifikat", "Hermed bekræftes det, at", "Udstedt", "Gyldig til", "udløber ikke"),
    "en": ("Certificate", "This certifies that", "Issued", "Valid until", "does not expire"),
}
DATES = {
    "nb": ("20. november 2026", "20. november 2028"),
    "da": ("20. november 2026", "20. november 2028"),
    "en": ("20 November 2026", "20 November 2028"),
}

NOW = dt.datetime.now(dt.UTC)  # the signing certificate is dated when it is made


def tool(name: str) -> str:
    """Path of a poppler/NSS binary; skip when absent locally, fail when absent under CI."""
    path = shutil.which(name)
    if path is None:
        package = "libnss3-tools" if name == "certutil" else "poppler-utils"
        if "CI" in os.environ:
            raise RuntimeError(f"{name} is required when CI is set: install Debian {package}")
        pytest.skip(f"{name} not installed (Debian {package}); with CI set this fails instead")
    return path


def run(*args: str | Path) -> str:
    """Run a command, returning stdout; stderr is included in the failure message."""
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{args[0]} failed: {done.stderr}"
    return done.stdout


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The page text as poppler extracts it, whitespace collapsed."""
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    return " ".join(run(tool("pdftotext"), source, "-").split())


def pdfsig(pdf: bytes, path: Path, *options: str) -> str:
    """pdfsig's report; it exits 0 even for a broken signature, so callers read the text."""
    path.write_bytes(pdf)
    done = subprocess.run(
        [tool("pdfsig"), *options, str(path)], capture_output=True, text=True, check=False
    )
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> PdfSigner:
    return PdfSigner.from_directory(tmp_path_factory.mktemp("keys") / "signing", now=NOW)


@pytest.fixture(scope="module")
def signed(signer: PdfSigner) -> bytes:
    return signer.sign(render_certificate(TEXT))


# --- Rendering ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["nb", "da", "en"])
def test_page_shows_everything_in_the_language(language: str, tmp_path: Path) -> None:
    text = pdf_text(render_certificate(replace(TEXT, language=language)), tmp_path)
    title, certifies, issued, valid_until, _ = WORDS[language]
    for expected in (
        TEXT.holder,
        TEXT.achievement,
        TEXT.code,
        URL,
        TEXT.issuer,
        title,
        certifies,
        issued,
        valid_until,
        *DATES[language],
    ):
        assert expected in text, f"{expected!r} missing from {text!r}"


@pytest.mark.parametrize("language", ["nb", "da", "en"])
def test_no_end_date_says_it_does_not_expire(language: str, tmp_path: Path) -> None:
    text = pdf_text(
        render_certificate(replace(TEXT, language=language, valid_until=None)), tmp_path
    )
    assert WORDS[language][4] in text.lower()
    assert WORDS[language][3] not in text
    assert DATES[language][1] not in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nb", ["1. januar 2027", "17. mai 2027", "31. desember 2027"]),
        ("da", ["1. januar 2027", "17. maj 2027", "31. december 2027"]),
        ("en", ["1 January 2027", "17 May 2027", "31 December 2027"]),
    ],
)
def test_dates_are_written_out_without_locales(language: str, expected: list[str]) -> None:
    days = [dt.date(2027, 1, 1), dt.date(2027, 5, 17), dt.date(2027, 12, 31)]
    assert [format_date(day, language) for day in days] == expected


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported certificate language"):
        replace(TEXT, language="sv")


def test_long_names_and_achievements_are_printed_whole(tmp_path: Path) -> None:
    long = replace(
        TEXT,
        holder="Maja Kristine Østergaard-Lindqvist Aasheim Bjørnstad-Hægeland",
        achievement=" ".join(["Sustainable procurement in municipalities and counties"] * 4),
    )
    text = pdf_text(render_certificate(long), tmp_path)
    assert long.holder in text
    assert text.count("Sustainable procurement in municipalities and counties") == 4


def test_metadata_names_the_document_and_its_language() -> None:
    pdf = render_certificate(replace(TEXT, language="da"))
    reader = PdfFileReader(io.BytesIO(pdf))
    info = reader.trailer_view["/Info"]
    assert info["/Title"] == "Certifikat – Åse Øvrebø Ærlig"
    assert info["/Author"] == TEXT.issuer
    assert info["/Subject"] == TEXT.achievement
    assert reader.root["/Lang"] == "da"


def test_same_text_renders_the_same_bytes() -> None:
    assert render_certificate(TEXT) == render_certificate(TEXT)
    assert render_certificate(TEXT) != render_certificate(replace(TEXT, holder="Ola Nordmann"))


def test_first_page_renders_to_an_a4_landscape_png(tmp_path: Path) -> None:
    source = tmp_path / "certificate.pdf"
    source.write_bytes(render_certificate(TEXT))
    pdftoppm = tool("pdftoppm")
    run(pdftoppm, "-png", "-r", "72", "-f", "1", "-l", "1", "-singlefile", source, tmp_path / "p")
    png = (tmp_path / "p.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width > height
    assert abs(width / height - 297 / 210) < 0.01


def test_qr_code_holds_the_verify_url(tmp_path: Path) -> None:
    """Sample every module of the rendered QR code against segno's matrix; decode if zbar exists."""
    source = tmp_path / "certificate.pdf"
    source.write_bytes(render_certificate(TEXT))
    dpi = 200
    run(tool("pdftoppm"), "-png", "-gray", "-r", str(dpi), "-singlefile", source, tmp_path / "page")
    image = Image.open(tmp_path / "page.png").convert("L")
    matrix = segno.make(URL, error="m", boost_error=False).matrix
    module, scale = QR_SIDE / len(matrix), dpi / 72
    top = PAGE_HEIGHT - QR_Y - QR_SIDE

    def dark(row: float, col: float) -> bool:
        x = (QR_X + (col + 0.5) * module) * scale
        y = (top + (row + 0.5) * module) * scale
        return image.getpixel((round(x), round(y))) in range(128)

    seen = [[dark(r, c) for c in range(len(matrix))] for r in range(len(matrix))]
    assert seen == [[bool(v) for v in row] for row in matrix]
    quiet = range(-4, len(matrix) + 4)
    ring = [
        (r, c) for r in quiet for c in quiet if not (0 <= r < len(matrix) and 0 <= c < len(matrix))
    ]
    assert not any(dark(r, c) for r, c in ring), "the quiet zone around the QR code is not clear"

    zbarimg = shutil.which("zbarimg")
    if zbarimg is not None:
        decoded = run(zbarimg, "--quiet", "--raw", tmp_path / "page.png").strip()
        assert decoded == URL


# --- Signing --------------------------------------------------------------------------------


def test_pdfsig_accepts_the_signature(signed: bytes, tmp_path: Path) -> None:
    report = pdfsig(signed, tmp_path / "signed.pdf")
    assert "Signature is Valid." in report, report
    assert "Total document signed" in report, report
    assert "ETSI.CAdES.detached" in report, report
    assert "elearn certificate signing" in report, report


def test_pdfsig_trusts_the_certificate_once_imported(
    signer: PdfSigner, signed: bytes, tmp_path: Path
) -> None:
    certutil = tool("certutil")
    nss = tmp_path / "nss"
    nss.mkdir()
    (tmp_path / "root.pem").write_bytes(signer.certificate_pem)
    run(certutil, "-N", "-d", f"sql:{nss}", "--empty-password")
    root = tmp_path / "root.pem"
    run(certutil, "-A", "-d", f"sql:{nss}", "-n", "elearn", "-t", "C,C,C", "-a", "-i", root)
    report = pdfsig(signed, tmp_path / "signed.pdf", "-nssdir", f"sql:{nss}")
    assert "Signature is Valid." in report, report
    assert "Certificate is Trusted." in report, report


def test_signed_pdf_keeps_its_text(signed: bytes, tmp_path: Path) -> None:
    text = pdf_text(signed, tmp_path)
    assert TEXT.holder in text
    assert TEXT.code in text


def signed_range_end(pdf: bytes) -> int:
    """Where the first signed byte range ends (the signature's /Contents starts)."""
    match = re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)", pdf)
    assert match is not None
    return int(match.group(1))


def forge_code(pdf: bytes) -> bytes:
    """Change one character of the verification code in the signed document information."""
    at = pdf.index(b"K7QM-3XPA-9TRD")
    assert at < signed_range_end(pdf)
    return pdf[:at] + b"K7QM-3XPA-9TRX" + pdf[at + 14 :]


def flip_byte(pdf: bytes) -> bytes:
    """Flip the bits of one byte half-way through the signed first revision."""
    at = signed_range_end(pdf) // 2
    return pdf[:at] + bytes([pdf[at] ^ 0xFF]) + pdf[at + 1 :]


@pytest.mark.parametrize("tamper", [forge_code, flip_byte])
def test_pdfsig_rejects_a_changed_byte(
    signed: bytes, tamper: Callable[[bytes], bytes], tmp_path: Path
) -> None:
    report = pdfsig(tamper(signed), tmp_path / "tampered.pdf")
    assert "Signature is Valid." not in report, report
    assert "Digest Mismatch." in report, report


def validation_context(signer: PdfSigner) -> ValidationContext:
    """Trust exactly the signer's own certificate, offline."""
    certificate = x509.load_pem_x509_certificate(signer.certificate_pem)
    root = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    return ValidationContext(trust_roots=[root], allow_fetching=False)


def test_pyhanko_finds_the_signature_intact_and_trusted(signer: PdfSigner, signed: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(signed))
    (signature,) = reader.embedded_signatures
    status = off_loop(validate_pdf_signature, signature, validation_context(signer))
    assert status.intact
    assert status.valid
    assert status.bottom_line
    assert status.coverage is SignatureCoverageLevel.ENTIRE_FILE


def test_pyhanko_sees_the_forged_code(signer: PdfSigner, signed: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(forge_code(signed)))
    (signature,) = reader.embedded_signatures
    status = off_loop(validate_pdf_signature, signature, validation_context(signer))
    assert not status.intact
    assert not status.bottom_line


# --- Keys -----------------------------------------------------------------------------------


def test_key_files_are_private_and_reused(tmp_path: Path) -> None:
    directory = tmp_path / "instance" / "pdf-signing"
    first = PdfSigner.from_directory(directory, now=NOW)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for name in ("key.pem", "cert.pem"):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600, name
    key_before = (directory / "key.pem").read_bytes()
    second = PdfSigner.from_directory(directory, now=NOW)
    assert second.certificate_pem == first.certificate_pem
    assert (directory / "key.pem").read_bytes() == key_before


def test_certificate_is_a_ten_year_p256_ca(tmp_path: Path) -> None:
    signer = PdfSigner.from_directory(
        tmp_path / "keys", common_name="Eksempel kommune kursbevis", now=NOW
    )
    certificate = x509.load_pem_x509_certificate(signer.certificate_pem)
    key = certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == "secp256r1"
    assert certificate.subject == certificate.issuer
    assert "CN=Eksempel kommune kursbevis" in certificate.subject.rfc4514_string()
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and usage.key_cert_sign
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert dt.timedelta(days=365 * 10) <= lifetime <= dt.timedelta(days=365 * 10 + 5)


def test_a_missing_certificate_is_remade_for_the_existing_key(tmp_path: Path) -> None:
    first = PdfSigner.from_directory(tmp_path, now=NOW)
    (tmp_path / "cert.pem").unlink()
    second = PdfSigner.from_directory(tmp_path, now=NOW)
    assert second.certificate_pem != first.certificate_pem
    assert (
        x509.load_pem_x509_certificate(second.certificate_pem).public_key()
        == x509.load_pem_x509_certificate(first.certificate_pem).public_key()
    )


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    PdfSigner.from_directory(tmp_path, now=NOW)
    (tmp_path / "key.pem").unlink()
    with pytest.raises(ValueError, match=r"without its key\.pem"):
        PdfSigner.from_directory(tmp_path, now=NOW)


def test_a_certificate_for_another_key_is_refused(tmp_path: Path) -> None:
    PdfSigner.from_directory(tmp_path / "a", now=NOW)
    PdfSigner.from_directory(tmp_path / "b", now=NOW)
    with pytest.raises(ValueError, match="does not belong"):
        PdfSigner(
            (tmp_path / "a" / "key.pem").read_bytes(), (tmp_path / "b" / "cert.pem").read_bytes()
        )
