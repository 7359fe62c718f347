"""CERTIFICATE_FONTS: an operator's TrueType font prints a script elearn ships none for; a font
that cannot be embedded stops the start and names the file (docs/decisions/0009)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from elearn.db import engine_of
from elearn.models import Certificate
from elearn.pdf.text import FontError
from tests.conftest import Template, copy_instance, english_client, make_app
from tests.pdf.reading import boxes, pdffonts, text_lines, tool
from tests.pdf.testfont import FAMILY, build_devanagari_font

HOLDER = "कखग"


def pdf_of_renamed_certificate(app: Flask, client: FlaskClient) -> bytes:
    """The first demo certificate's PDF made afresh with the holder renamed to HOLDER."""
    with Session(engine_of(app)) as s:
        certificate = s.exec(select(Certificate).order_by(Certificate.id)).first()
        assert certificate is not None
        certificate.holder_name = HOLDER
        certificate.pdf = None  # made afresh on download, with the app's fonts
        code = certificate.code
        s.add(certificate)
        s.commit()
    response = client.get(f"/verify/{code}/pdf")
    assert response.status_code == 200
    return response.data


def test_an_operators_font_prints_the_name_exactly(template_db: Template, tmp_path: Path) -> None:
    font = build_devanagari_font(tmp_path / "deva.ttf")
    app = make_app(tmp_path, CERTIFICATE_FONTS=[str(font)], **copy_instance(template_db, tmp_path))
    try:
        pdf = pdf_of_renamed_certificate(app, english_client(app))
    finally:
        engine_of(app).dispose()
    assert HOLDER in text_lines(pdf, tmp_path)
    assert any(FAMILY in f.name and f.embedded for f in pdffonts(pdf, tmp_path))
    assert boxes(pdf) == []
    tool("pdfsig")
    (tmp_path / "signed.pdf").write_bytes(pdf)
    report = subprocess.run(
        ["pdfsig", str(tmp_path / "signed.pdf")], capture_output=True, text=True, check=False
    ).stdout
    assert "Signature is Valid." in report


def test_without_it_the_name_is_printed_in_latin_letters(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    pdf = pdf_of_renamed_certificate(app, client)
    lines = text_lines(pdf, tmp_path)
    assert "kkhg" in lines and HOLDER not in " ".join(lines)
    assert boxes(pdf) == []


def test_a_font_that_cannot_be_embedded_stops_the_start(tmp_path: Path) -> None:
    bad = tmp_path / "postscript.otf"
    bad.write_bytes(b"OTTO" + bytes(200))
    with pytest.raises(FontError, match=r"^CERTIFICATE_FONTS: .*postscript\.otf: cannot embed it"):
        make_app(tmp_path, CERTIFICATE_FONTS=[str(bad)])
