"""Certificate PDFs: render a one-page A4 certificate, certify it (PAdES, DocMDP: no changes)
so that forgeries and later revisions show, and check an uploaded one (``elearn.pdf.signing``)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from elearn.pdf import text as pdftext
from elearn.pdf.signing import PdfCheck as PdfCheck
from elearn.pdf.signing import PdfSigner as PdfSigner
from elearn.pdf.signing import SigningSetupError as SigningSetupError
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


def document_title(language: str, holder: str) -> str:
    """The PDF's title (document information): the certificate's title and the holder's name."""
    return f"{_LABELS[language].title} – {holder}"


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
    canvas.setTitle(document_title(text.language, text.holder))
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
