"""The case bank's rules without an app: the review steps, files by their bytes, search words."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from elearn.domain import cases as rules

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("state", "action", "owner", "editor", "target"),
    [
        ("draft", "submit", True, False, "submitted"),
        ("changes_requested", "submit", True, False, "submitted"),
        ("submitted", "request_changes", False, True, "changes_requested"),
        ("submitted", "publish", False, True, "published"),
        ("submitted", "archive", False, True, "archived"),
        ("published", "archive", False, True, "archived"),
        ("published", "archive", True, True, "archived"),  # an editor may archive their own
    ],
)
def test_allowed_steps(state: str, action: str, owner: bool, editor: bool, target: str) -> None:
    made = rules.step(state=state, action=action, is_owner=owner, is_editor=editor)
    assert (made.source, made.target) == (state, target)


@pytest.mark.parametrize(
    ("state", "action", "owner", "editor", "refusal"),
    [
        ("draft", "publish", False, True, rules.WrongState),  # published without review
        ("changes_requested", "publish", False, True, rules.WrongState),
        ("archived", "publish", False, True, rules.WrongState),
        ("published", "submit", True, False, rules.WrongState),
        ("submitted", "submit", True, False, rules.WrongState),  # a second click
        ("draft", "submit", False, True, rules.Refused),  # an editor cannot submit for someone
        ("submitted", "publish", True, False, rules.Refused),  # the writer is no editor
        ("submitted", "publish", True, True, rules.Refused),  # nobody publishes their own
        ("submitted", "request_changes", True, False, rules.Refused),
        ("draft", "delete-everything", True, True, rules.DomainError),
    ],
)
def test_refused_steps(
    state: str, action: str, owner: bool, editor: bool, refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        rules.step(state=state, action=action, is_owner=owner, is_editor=editor)


def test_drafts_are_read_by_their_writer_and_editors_only() -> None:
    for state in rules.STATES:
        assert rules.readable(state=state, is_owner=True, is_editor=False)
        assert rules.readable(state=state, is_owner=False, is_editor=True)
        assert rules.readable(state=state, is_owner=False, is_editor=False) == (
            state == "published"
        )


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"GIF89a\x01\x00", "gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
        (b'<svg xmlns="http://www.w3.org/2000/svg">', None),
        (b"<?xml version='1.0'?><svg/>", None),
        (b"<!doctype html><script>", None),
        (b" %PDF-1.4", None),  # not at the start
        (b"RIFF\x10\x00\x00\x00WAVE", None),
        (b"", None),
    ],
)
def test_files_are_known_by_their_bytes(head: bytes, kind: str | None) -> None:
    assert rules.sniff(head) == kind


def test_check_attachment_reasons() -> None:
    assert rules.check_attachment(head=b"%PDF-1.4", size=10, limit=10) == "pdf"
    with pytest.raises(rules.AttachmentRefused, match="too large"):
        rules.check_attachment(head=b"%PDF-1.4", size=11, limit=10)
    with pytest.raises(rules.AttachmentRefused, match="empty"):
        rules.check_attachment(head=b"", size=0, limit=10)
    with pytest.raises(rules.AttachmentRefused, match="Only PDF"):
        rules.check_attachment(head=b"<svg", size=4, limit=10)


@pytest.mark.parametrize(
    ("original", "kind", "shown"),
    [
        ("report.pdf", "pdf", "report.pdf"),
        ("photo.JPEG", "jpeg", "photo.jpg"),
        ("evil.html", "pdf", "evil.pdf"),  # the suffix of what the file is
        ("../../etc/passwd", "png", "passwd.png"),
        ("C:\\Users\\x\\Plan 2025.pdf", "pdf", "Plan 2025.pdf"),
        ('a"b<c>.pdf', "pdf", "a_b_c.pdf"),
        ("...", "gif", "attachment.gif"),
        ("Innkjøpsplan.pdf", "pdf", "Innkjøpsplan.pdf"),
    ],
)
def test_attachment_names_are_safe(original: str, kind: str, shown: str) -> None:
    assert rules.attachment_name(original, kind) == shown


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("heat pump", '"heat" "pump"'),
        ('NEAR("a" b) OR title:x*', '"NEAR" "a" "b" "OR" "title" "x"'),
        ("Sutursakse og økonomi", '"Sutursakse" "og" "økonomi"'),
        ("-- ; \"'", ""),
    ],
)
def test_fts5_query_quotes_every_word(text: str, query: str) -> None:
    assert rules.fts5_query(text) == query


def test_search_takes_at_most_a_dozen_words() -> None:
    assert len(rules.search_words("w " * 100)) == rules.MAX_SEARCH_WORDS


def test_parse_tags() -> None:
    assert rules.parse_tags(" LCC-TCO, lcc-tco  climate ") == ["lcc-tco", "climate"]
    with pytest.raises(ValueError, match="a_b"):
        rules.parse_tags("ok, a_b")


def test_every_shipped_case_file_is_valid_and_real_cases_name_a_source() -> None:
    files = sorted((ROOT / "cases").glob("*.yaml"))
    assert len(files) >= 8
    keys = set()
    for path in files:
        case = rules.CaseFile.model_validate(yaml.safe_load(path.read_text("utf-8")))
        keys.add(case.key)
        assert path.stem == case.key
        if not case.illustrative:
            assert case.source, f"{path.name}: a case from a real organisation names its source"
        else:
            assert "(demo)" in case.organisation, (
                f"{path.name}: an illustrative case's organisation"
            )
    assert len(keys) == len(files)


def test_a_case_file_with_an_unknown_country_or_goal_is_refused() -> None:
    good = {
        "key": "k",
        "organisation": "O",
        "country": "NO",
        "year": 2024,
        "category": "energy",
        "illustrative": True,
        "texts": {"en": {"title": "T"}},
    }
    rules.CaseFile.model_validate(good)
    for bad in (
        {"country": "XX"},
        {"sdgs": [18]},
        {"category": "weapons"},
        {"texts": {"sv": {"title": "T"}}},
        {"texts": {}},
        {"tags": ["Not A Tag"]},
        {"year": 1800},
        {"surprise": 1},
    ):
        with pytest.raises(ValidationError):
            rules.CaseFile.model_validate({**good, **bad})
