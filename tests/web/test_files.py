"""The file store's checks that need no database: what a file is, and the name it is served as."""

from __future__ import annotations

from elearn.services import files


def test_kinds_are_read_from_the_content_not_the_name() -> None:
    assert files.sniff(data=b"%PDF-1.7 ...") == "application/pdf"
    assert files.sniff(data=b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert files.sniff(data=b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert files.sniff(data=b"<svg onload=alert(1)>") is None
    assert files.sniff(data=b"<html>%PDF-") is None


def test_served_names_lose_paths_quotes_and_control_characters() -> None:
    assert (
        files.safe_filename(name="../../etc/passwd", content_type="application/pdf") == "passwd.pdf"
    )
    assert files.safe_filename(name='a"b;\r\nc.exe', content_type="image/png") == "abc.png"
    assert files.safe_filename(name="C:\\Users\\x\\slides.PDF", content_type="application/pdf") == (
        "slides.pdf"
    )
    assert files.safe_filename(name="", content_type="image/jpeg") == "file.jpg"
