"""Certificate PDFs: render a one-page A4 certificate and sign it (PAdES) so forgeries show."""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import io
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import segno
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from elearn.pdf import text as pdftext
from elearn.pdf.text import Line

# --- Labels ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Labels:
    """Every fixed word on the certificate in one language, so no string is left untranslated."""

    title: str
    certifies: str
    completed: str
    issued: str
    valid_until: str
    validity: str
    no_expiry: str
    issued_by: str
    code: str
    verify_at: str
    scan: str
    name: str
    transliterated: str
    months: tuple[str, ...]
    day_dot: bool  # "20. november 2026" (nb, da) or "20 November 2026" (en)


_LABELS: dict[str, _Labels] = {
    "nb": _Labels(
        title="Sertifikat",
        certifies="Dette bekrefter at",
        completed="har gjennomført",
        issued="Utstedt",
        valid_until="Gyldig til",
        validity="Gyldighet",
        no_expiry="Utløper ikke",
        issued_by="Utstedt av",
        code="Verifiseringskode",
        verify_at="Verifiser på",
        scan="Skann for å verifisere",
        name="Navn",
        transliterated=(
            "med latinske bokstaver; navnet slik det er registrert, står på verifiseringssiden"
        ),
        months=(
            "januar",
            "februar",
            "mars",
            "april",
            "mai",
            "juni",
            "juli",
            "august",
            "september",
            "oktober",
            "november",
            "desember",
        ),
        day_dot=True,
    ),
    "da": _Labels(
        title="Certifikat",
        certifies="Hermed bekræftes det, at",
        completed="har gennemført",
        issued="Udstedt",
        valid_until="Gyldig til",
        validity="Gyldighed",
        no_expiry="Udløber ikke",
        issued_by="Udstedt af",
        code="Verifikationskode",
        verify_at="Verificér på",
        scan="Scan for at verificere",
        name="Navn",
        transliterated="med latinske bogstaver; navnet som registreret står på verifikationssiden",
        months=(
            "januar",
            "februar",
            "marts",
            "april",
            "maj",
            "juni",
            "juli",
            "august",
            "september",
            "oktober",
            "november",
            "december",
        ),
        day_dot=True,
    ),
    "en": _Labels(
        title="Certificate",
        certifies="This certifies that",
        completed="has completed",
        issued="Issued",
        valid_until="Valid until",
        validity="Validity",
        no_expiry="Does not expire",
        issued_by="Issued by",
        code="Verification code",
        verify_at="Verify at",
        scan="Scan to verify",
        name="Name",
        transliterated="in Latin letters; the name as registered is on the verification page",
        months=(
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        day_dot=False,
    ),
}

LANGUAGES: frozenset[str] = frozenset(_LABELS)


def format_date(day: dt.date, language: str) -> str:
    """A date written out for the language ("20. november 2026"), without depending on locales."""
    labels = _LABELS[language]
    month = labels.months[day.month - 1]
    return f"{day.day}{'.' if labels.day_dot else ''} {month} {day.year}"


@dataclass(frozen=True)
class CertificateText:
    """Everything printed on one certificate; the language picks every fixed label."""

    language: str
    holder: str
    achievement: str
    issued: dt.date
    valid_until: dt.date | None
    issuer: str
    code: str
    verify_url: str

    def __post_init__(self) -> None:
        """Reject an unknown language here rather than half-way through drawing."""
        if self.language not in _LABELS:
            raise ValueError(f"unsupported certificate language {self.language!r}")


# --- Rendering ------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
_MARGIN = 28.0
_INSET = _MARGIN + 6  # the inner frame line: nothing is drawn beyond it
_INK = Color(0.12, 0.16, 0.22)
_MUTED = Color(0.36, 0.40, 0.46)
_ACCENT = Color(0.11, 0.33, 0.40)
_RULE = Color(0.78, 0.82, 0.84)

# The QR code's square (points, PDF coordinates): public so tests can find it on a render.
QR_SIDE = 118.0
QR_X = PAGE_WIDTH - _MARGIN - 40.0 - QR_SIDE
QR_Y = _MARGIN + 62.0
_QUIET = 24.0  # clear space around the QR code: at least the 4 modules scanners need

# The holder's name: one line from 32 down to 22 points, then two lines from 22 down to 12, then
# smaller still rather than cut (a 120-character name fits two lines at about 17 points).
_NAME_ONE_LINE = (32.0, 30.0, 28.0, 26.0, 24.0, 22.0)
_NAME_TWO_LINES = (22.0, 21.0, 20.0, 19.0, 18.0, 17.0, 16.0, 15.0, 14.0, 13.0, 12.0)
_NAME_LAST_RESORT = (11.0, 10.0, 9.0, 8.0, 7.0, 6.0)
_NAME_BAND_MIDDLE = 238.0  # below the top: between "certifies that" and "has completed"


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, side: float) -> None:
    """Draw the QR code of `url` as filled vector rectangles, one per horizontal run of modules."""
    matrix = segno.make(url, error="m", boost_error=False).matrix
    size = len(matrix)
    # In module units with the origin at the top left, every coordinate is a small integer, so
    # the operators are written directly instead of through reportlab's float formatting.
    runs: list[str] = []
    for row_index, row in enumerate(matrix):
        start = -1
        for col, dark in enumerate((*row, 0)):
            if dark and start < 0:
                start = col
            elif not dark and start >= 0:
                runs.append(f"{start} {row_index} {col - start} 1 re")
                start = -1
    canvas.saveState()
    canvas.setFillColor(_INK)
    canvas.translate(x, y + side)
    canvas.scale(side / size, -side / size)
    canvas.addLiteral("\n".join(runs) + "\nf")
    canvas.restoreState()


def _holder_lines(holder: str, bold: pdftext.Style, width: float) -> tuple[float, list[Line]]:
    """The name whole on at most two lines, as large as it goes (see the sizes above)."""
    found = (
        pdftext.fit(holder, bold, width, _NAME_ONE_LINE, 1)
        or pdftext.fit(holder, bold, width, _NAME_TWO_LINES, 2)
        or pdftext.fit(holder, bold, width, _NAME_LAST_RESORT, 2)
        or pdftext.fit(holder, bold, width, _NAME_LAST_RESORT[-1:], len(holder))
    )
    assert found is not None  # the last try allows a line per character
    return found


def render_certificate(text: CertificateText, *, extra_fonts: Sequence[Path] = ()) -> bytes:
    """Render the certificate as a one-page A4 landscape PDF; same text gives the same bytes.
    `extra_fonts` are TrueType files asked after the bundled ones (CERTIFICATE_FONTS)."""
    labels = _LABELS[text.language]
    regular = pdftext.style(extra=extra_fonts)
    bold = pdftext.style(bold=True, extra=extra_fonts)
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        invariant=True,
        lang=text.language,
        pageCompression=1,
        initialFontName=pdftext.load(pdftext.DEJAVU).fontName,
    )
    issued = text.issued
    canvas.setDateFormatter(lambda *_: f"D:{issued:%Y%m%d}000000+00'00'")
    canvas.setTitle(f"{labels.title} – {text.holder}")
    canvas.setAuthor(text.issuer)
    canvas.setSubject(text.achievement)
    canvas.setKeywords(f"{text.code} {text.verify_url}")
    canvas.setCreator("elearn")

    width, height, centre = PAGE_WIDTH, PAGE_HEIGHT, PAGE_WIDTH / 2
    text_width = width - 2 * _MARGIN - 120

    def line(
        value: str,
        style: pdftext.Style,
        size: float,
        x: float,
        y: float,
        ink: Color,
        centred: bool = True,
    ) -> None:
        shown = pdftext.printable(value, style).text
        pdftext.draw(
            canvas, pdftext.layout(shown, style), x=x, y=y, size=size, ink=ink, centred=centred
        )

    # Frame: a firm outer line and a hairline inside it.
    canvas.setStrokeColor(_ACCENT)
    canvas.setLineWidth(2.0)
    canvas.rect(_MARGIN, _MARGIN, width - 2 * _MARGIN, height - 2 * _MARGIN, stroke=1, fill=0)
    canvas.setLineWidth(0.5)
    canvas.rect(_INSET, _INSET, width - 2 * _INSET, height - 2 * _INSET, stroke=1, fill=0)

    # Issuer above the title, title, accent rule.
    issuer = pdftext.printable(text.issuer, regular).text
    size = pdftext.single(issuer, regular, 12, text_width, 8)
    line(issuer, regular, size, centre, height - 92, _MUTED)
    line(labels.title, bold, 36, centre, height - 142, _ACCENT)
    canvas.setStrokeColor(_ACCENT)
    canvas.setLineWidth(1.2)
    canvas.line(centre - 40, height - 160, centre + 40, height - 160)

    # "This certifies that" / holder / "has completed" / achievement.
    line(labels.certifies, regular, 14, centre, height - 200, _MUTED)
    holder = pdftext.printable(text.holder, bold)
    size, lines = _holder_lines(holder.text, bold, text_width)
    leading = size * 1.2
    if len(lines) == 1:
        first = height - 246  # where a one-line name has always stood
    else:  # centred on the name's band; letters stand about 0.3 of the size over the baseline
        first = height - _NAME_BAND_MIDDLE + (len(lines) - 1) * leading / 2 - 0.3 * size
    for index, name_line in enumerate(lines):
        pdftext.draw(
            canvas,
            name_line,
            x=centre,
            y=first - index * leading,
            size=size,
            ink=_INK,
            centred=True,
        )
    line(labels.completed, regular, 14, centre, height - 280, _MUTED)
    # Long achievements step down in size to stay within three lines; nothing is ever cut off.
    achievement = pdftext.printable(text.achievement, regular).text
    for size, most in ((19.0, 2), (16.0, 3), (13.0, 3), (11.0, 3)):
        wrapped = pdftext.wrap(achievement, regular, size, text_width)
        if len(wrapped) <= most:
            break
    for index, part in enumerate(wrapped):
        line(part, regular, size, centre, height - 312 - index * size * 1.25, _INK)

    # Details, bottom left: label column and value column.
    if text.valid_until is None:
        validity = (labels.validity, labels.no_expiry)
    else:
        validity = (labels.valid_until, format_date(text.valid_until, text.language))
    rows = [
        (labels.issued, format_date(text.issued, text.language)),
        validity,
        (labels.issued_by, text.issuer),
        (labels.code, text.code),
        (labels.verify_at, text.verify_url),
    ]
    if holder.transliterated:
        rows.append((labels.name, labels.transliterated))
    label_x = _MARGIN + 40
    value_x = label_x + 118
    value_width = QR_X - _QUIET - value_x
    canvas.setStrokeColor(_RULE)
    canvas.setLineWidth(0.5)
    rule_y = QR_Y + QR_SIDE + _QUIET
    canvas.line(label_x, rule_y, QR_X + QR_SIDE, rule_y)
    row_y = QR_Y + QR_SIDE - 10
    for label, value in rows:
        line(label, regular, 10, label_x, row_y, _MUTED, centred=False)
        style = bold if label == labels.code else regular
        shown = pdftext.printable(value, style).text
        size = pdftext.single(shown, style, 11, value_width, 6)
        line(shown, style, size, value_x, row_y, _INK, centred=False)
        row_y -= 21

    # QR code, bottom right, with its caption.
    _draw_qr(canvas, text.verify_url, QR_X, QR_Y, QR_SIDE)
    line(labels.scan, regular, 9, QR_X + QR_SIDE / 2, QR_Y - _QUIET - 7, _MUTED)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# --- Signing --------------------------------------------------------------------------------

_KEY_FILE = "key.pem"
_CERT_FILE = "cert.pem"
_FIELD_NAME = "ElearnCertificateSignature"
_BYTES_RESERVED = 8192


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable by the owner only, from the first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def _self_signed_certificate(
    key: ec.EllipticCurvePrivateKey, common_name: str, now: dt.datetime
) -> x509.Certificate:
    """A 10-year self-signed CA certificate for `key`: a CA so pdfsig can be told to trust it."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
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


class PdfSigner:
    """Signs PDFs with one ECDSA P-256 key; the pyHanko signer is built once and reused."""

    def __init__(self, key_pem: bytes, certificate_pem: bytes) -> None:
        """Parse the key pair once, checking the certificate belongs to the key."""
        key = serialization.load_pem_private_key(key_pem, password=None)
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        public_der = serialization.PublicFormat.SubjectPublicKeyInfo
        if key.public_key().public_bytes(
            serialization.Encoding.DER, public_der
        ) != certificate.public_key().public_bytes(serialization.Encoding.DER, public_der):
            raise ValueError("the certificate does not belong to the private key")
        self._certificate_pem = certificate_pem
        cert = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
        key_der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        signer = signers.SimpleSigner(
            signing_cert=cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            cert_registry=SimpleCertificateStore.from_certs([cert]),
        )
        metadata = signers.PdfSignatureMetadata(
            field_name=_FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
        )
        self._pdf_signer = signers.PdfSigner(metadata, signer=signer)

    @classmethod
    def from_directory(
        cls, directory: Path, *, now: dt.datetime, common_name: str = "elearn certificate signing"
    ) -> PdfSigner:
        """Load key.pem and cert.pem from `directory`, creating a fresh pair when none exists."""
        directory = Path(directory)
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            directory.chmod(0o700)
        key_path, cert_path = directory / _KEY_FILE, directory / _CERT_FILE
        with _locked(directory):
            if not key_path.exists():
                if cert_path.exists():
                    raise ValueError(f"{cert_path} exists without its {_KEY_FILE}")
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
            if not cert_path.exists():
                loaded = serialization.load_pem_private_key(key_pem, password=None)
                if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                    raise ValueError(f"{key_path} is not an ECDSA key")
                certificate = _self_signed_certificate(loaded, common_name, now)
                _write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
            cert_pem = cert_path.read_bytes()
        return cls(key_pem, cert_pem)

    @property
    def certificate_pem(self) -> bytes:
        """The signing certificate (PEM), for verifiers that want to pin or import it."""
        return self._certificate_pem

    def sign(self, pdf: bytes) -> bytes:
        """Add a PAdES signature over the whole document as an incremental update."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._sign(pdf))
        # pyHanko signs with asyncio; where this thread already runs a loop (an async server
        # worker, a browser-test driver), sign in a thread of its own instead of failing.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self._sign(pdf)).result()

    async def _sign(self, pdf: bytes) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        output = await self._pdf_signer.async_sign_pdf(writer, bytes_reserved=_BYTES_RESERVED)
        return bytes(output.getvalue())
