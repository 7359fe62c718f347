"""The case bank: from a participant's draft through an editor's review to the public pages,
and every way to get around the review refused with nothing changed."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, func, select

from elearn.db import engine_of
from elearn.models import AuditEntry, CaseAttachment, CaseStep, CaseStudy, CaseText, StoredFile
from tests.conftest import COURSE, english_client, post

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"


def case_form(**over: Any) -> dict[str, Any]:
    form = {
        "lang": "en",
        "title": "Electric buses for the school run",
        "organisation": "Testby municipality",
        "country": "NO",
        "year": "2025",
        "category": "transport",
        "sdgs": ["11", "13"],
        "tags": "climate-environment-procurement, lcc-tco",
        "programme": "Test programme",
        "summary": "Quietbuses replaced the diesel fleet on every school route.",
        "co2e": "About 30 tonnes a year",
        "co2e_basis": "Estimated from mileage",
        "lessons": "Start the market dialogue early.",
    }
    form.update(over)
    return form


def db(app: Flask) -> Session:
    return Session(engine_of(app))


def new_case(client: FlaskClient, **over: Any) -> int:
    response = post(client, "/cases/new", case_form(**over))
    assert response.status_code == 302, response.get_data(as_text=True)
    found = re.search(r"/cases/(\d+)$", response.headers["Location"])
    assert found
    return int(found.group(1))


def state(app: Flask, case_id: int) -> str:
    with db(app) as s:
        case = s.get(CaseStudy, case_id)
        assert case is not None
        return case.state


def steps(app: Flask, case_id: int) -> list[tuple[str, str]]:
    with db(app) as s:
        rows = s.exec(
            select(CaseStep).where(CaseStep.case_id == case_id).order_by(col(CaseStep.id))
        )
        return [(r.source, r.target) for r in rows]


def count(app: Flask, model: Any) -> int:
    with db(app) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


# --- the public pages --------------------------------------------------------------------------


def test_demo_cases_are_public_with_open_graph_and_an_illustrative_label(
    client: FlaskClient, app: Flask
) -> None:
    page = client.get("/cases").get_data(as_text=True)
    assert "Cases found: 8" in page
    assert "Illustrative example" in page
    with db(app) as s:
        scissors = s.exec(
            select(CaseStudy).where(CaseStudy.demo_key == "rejsehold-suture-scissors")
        ).one()
        floor = s.exec(
            select(CaseStudy).where(CaseStudy.demo_key == "illustrative-floor-scrubber-lcc")
        ).one()
    real = client.get(f"/cases/{scissors.id}").get_data(as_text=True)
    base = app.config["PUBLIC_URL"]
    assert f'<link rel="canonical" href="{base}/cases/{scissors.id}">' in real
    assert f'<meta property="og:url" content="{base}/cases/{scissors.id}">' in real
    assert '<meta property="og:title" content="Reusable or single-use suture scissors?' in real
    assert "Illustrative example." not in real  # a real, published case
    shown = client.get(f"/cases/{floor.id}").get_data(as_text=True)
    assert "Illustrative example." in shown and "not any organisation" in shown
    danish = client.get(f"/cases/{scissors.id}?lang=da").get_data(as_text=True)
    assert "Genbrugelige eller engangs sutursakse?" in danish


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=sutursakse", 1),  # Danish text
        ("q=suture+scissors", 1),
        ("q=SCISSORS", 1),
        ("q=floor+scrubbers+lcc", 1),
        ("q=nothing+like+this", 0),
        ("category=ict", 1),
        ("country=DK", 3),
        ("sdg=3", 1),
        ("programme=Rejsehold+for+gr%C3%B8nne+indk%C3%B8b", 1),
        ("lang=da", 3),
        ("country=DK&q=computere", 1),
        ("tag=lcc-tco", 2),
    ],
)
def test_search_and_filters(client: FlaskClient, query: str, expected: int) -> None:
    response = client.get(f"/cases?{query}")
    assert response.status_code == 200
    assert f"Cases found: {expected}" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        'q="',
        "q=NEAR(a+b)",
        "q=*",
        "q=title:x",
        "q=a+OR+b+AND+NOT",
        "q=-x",
        "q=%25_%5C",
        "sdg=99",
        "sdg=-1",
        "sdg=%C2%B2",
        "page=%C2%B2",
        "country=XX",
        "page=999999999999",
        "lang=xx",
        "tag=%22%25",
    ],
)
def test_odd_searches_are_answered_not_errors(client: FlaskClient, query: str) -> None:
    assert client.get(f"/cases?{query}").status_code == 200


def test_module_page_shows_the_cases_of_its_topic(learner: FlaskClient) -> None:
    page = learner.get("/courses/life-cycle-costs/modules/01-what-counts").get_data(as_text=True)
    assert "Cases on this topic" in page and "Floor scrubbers chosen by life-cycle cost" in page
    other = learner.get(f"/courses/{COURSE}/modules/01-what-is-sustainability")
    assert "Cases on this topic" not in other.get_data(as_text=True)
    course = learner.get("/courses/life-cycle-costs").get_data(as_text=True)
    assert 'href="/cases?tag=life-cycle-costs"' in course
    assert "/cases?tag=" not in learner.get(f"/courses/{COURSE}").get_data(as_text=True)


# --- from draft to publication -------------------------------------------------------------------


def test_a_case_goes_from_draft_through_review_to_the_public(
    app: Flask, as_role: Any, client: FlaskClient
) -> None:
    writer, editor = as_role("learner"), as_role("editor")
    case_id = new_case(writer)
    assert state(app, case_id) == "draft"
    # Not public, not for another participant; the owner and editors see it.
    assert client.get(f"/cases/{case_id}").status_code == 404
    assert as_role("new-learner").get(f"/cases/{case_id}").status_code == 404
    assert editor.get(f"/cases/{case_id}").status_code == 200
    assert "Electric buses" not in client.get("/cases?q=electric+buses").get_data(as_text=True)

    assert post(writer, f"/cases/{case_id}/submit").status_code == 302
    assert "Electric buses" in editor.get("/cases/review").get_data(as_text=True)
    # Asking for changes needs a comment for the writer.
    refused = post(editor, f"/cases/{case_id}/review", {"action": "request_changes"})
    assert refused.status_code == 400 and "Say what should be changed" in refused.get_data(
        as_text=True
    )
    assert state(app, case_id) == "submitted"
    post(editor, f"/cases/{case_id}/review", {"action": "request_changes", "comment": "Basis?"})
    assert state(app, case_id) == "changes_requested"
    assert "Basis?" in writer.get(f"/cases/{case_id}").get_data(as_text=True)

    # The writer adds a Norwegian version and submits again; the editor publishes.
    changed = post(
        writer,
        f"/cases/{case_id}/edit",
        case_form(lang="nb", title="Elbusser til skoleskyss", co2e_basis="Målt av operatøren"),
    )
    assert changed.status_code == 302
    post(writer, f"/cases/{case_id}/submit")
    assert post(editor, f"/cases/{case_id}/review", {"action": "publish"}).status_code == 302
    assert state(app, case_id) == "published"

    page = client.get(f"/cases/{case_id}?lang=nb").get_data(as_text=True)
    assert "Elbusser til skoleskyss" in page and "Målt av operatøren" in page
    assert "Basis?" not in page  # the review's history is for the writer and editors
    assert "Cases found: 1" in client.get("/cases?q=elbusser").get_data(as_text=True)
    assert "Cases found: 1" in client.get("/cases?q=quietbuses").get_data(as_text=True)
    assert steps(app, case_id) == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "changes_requested"),
        ("changes_requested", "submitted"),
        ("submitted", "published"),
    ]
    with db(app) as s:
        logged = s.exec(
            select(AuditEntry.action).where(AuditEntry.subject == f"case:{case_id}")
        ).all()
    assert sorted(logged) == sorted(
        [
            "case.draft",
            "case.submitted",
            "case.changes_requested",
            "case.submitted",
            "case.published",
        ]
    )
    # Once published the writer can no longer change it.
    late = post(writer, f"/cases/{case_id}/edit", case_form(title="Changed after review"))
    assert late.status_code == 409
    post(editor, f"/cases/{case_id}/review", {"action": "archive"})
    assert state(app, case_id) == "archived"
    assert client.get(f"/cases/{case_id}").status_code == 404


# --- refused, nothing changed ------------------------------------------------------------------


def test_forged_steps_are_refused_and_change_nothing(app: Flask, as_role: Any) -> None:
    writer, editor, other = as_role("learner"), as_role("editor"), as_role("new-learner")
    case_id = new_case(writer)
    before = steps(app, case_id)
    # Published without review: an editor's "publish" on a draft, a writer's own "publish".
    forged = post(editor, f"/cases/{case_id}/review", {"action": "publish"})
    assert forged.status_code == 409
    assert "not in a state that allows this step" in forged.get_data(as_text=True)
    assert post(writer, f"/cases/{case_id}/review", {"action": "publish"}).status_code == 403
    assert post(editor, f"/cases/{case_id}/review", {"action": "teleport"}).status_code == 400
    # Someone else's draft: not found, to submit, edit or attach to.
    assert post(other, f"/cases/{case_id}/submit").status_code == 404
    assert post(other, f"/cases/{case_id}/edit", case_form(title="Mine now")).status_code == 404
    assert other.get(f"/cases/{case_id}/edit").status_code == 404
    assert (
        post(
            other,
            f"/cases/{case_id}/attachments",
            {"file": (io.BytesIO(PDF), "x.pdf")},
            content_type="multipart/form-data",
        ).status_code
        == 404
    )
    # Forged ids.
    assert post(editor, "/cases/999999/review", {"action": "publish"}).status_code == 404
    assert post(writer, "/cases/99999999999999999999/submit").status_code == 404
    assert state(app, case_id) == "draft" and steps(app, case_id) == before
    # Submitted twice (a double click): the second is refused.
    assert post(writer, f"/cases/{case_id}/submit").status_code == 302
    assert post(writer, f"/cases/{case_id}/submit").status_code == 409
    assert steps(app, case_id) == [*before, ("draft", "submitted")]


def test_no_editor_publishes_their_own_case(app: Flask, as_role: Any) -> None:
    editor = as_role("editor")
    case_id = new_case(editor)
    post(editor, f"/cases/{case_id}/submit")
    refused = post(editor, f"/cases/{case_id}/review", {"action": "publish"})
    assert refused.status_code == 403 and "another editor" in refused.get_data(as_text=True)
    assert state(app, case_id) == "submitted"


def test_a_post_without_csrf_token_changes_nothing(app: Flask, as_role: Any) -> None:
    writer = as_role("learner")
    case_id = new_case(writer)
    cases_before = count(app, CaseStudy)
    assert writer.post("/cases/new", data=case_form()).status_code == 400
    assert writer.post(f"/cases/{case_id}/submit").status_code == 400
    editor = as_role("editor")
    assert editor.post(f"/cases/{case_id}/review", data={"action": "publish"}).status_code == 400
    assert count(app, CaseStudy) == cases_before and state(app, case_id) == "draft"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("year", "1850", "Number must be between 1990 and 2100"),
        ("year", "9" * 40, "Not a valid integer value"),
        ("country", "XX", "Not a valid choice"),
        ("category", "weapons", "Not a valid choice"),
        ("lang", "sv", "Not a valid choice"),
        ("sdgs", ["18"], "not a valid choice"),
        ("title", "", "This field is required"),
        ("title", "Evil \u202eelif", "reverses the direction of text"),
        ("summary", "x" * 10_001, "Field cannot be longer than 10000 characters"),
        ("tags", "Not A Tag!", "is not a tag"),
    ],
)
def test_bad_case_input_is_refused_with_a_clear_message(
    app: Flask, learner: FlaskClient, field: str, value: Any, message: str
) -> None:
    before = count(app, CaseStudy)
    response = post(learner, "/cases/new", case_form(**{field: value}))
    assert response.status_code == 400
    assert message.lower() in response.get_data(as_text=True).lower()
    assert count(app, CaseStudy) == before


# --- attachments ---------------------------------------------------------------------------------


def attach(client: FlaskClient, case_id: int, data: bytes, name: str) -> Any:
    return post(
        client,
        f"/cases/{case_id}/attachments",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_a_pdf_is_kept_and_served_as_a_safe_download(
    app: Flask, learner: FlaskClient, tmp_path: Path, client: FlaskClient
) -> None:
    case_id = new_case(learner)
    assert attach(learner, case_id, PDF, "../../Innkjøpsplan <2025>.pdf").status_code == 302
    assert attach(learner, case_id, PNG, "photo.PNG").status_code == 302
    with db(app) as s:
        rows = s.exec(select(CaseAttachment).where(CaseAttachment.case_id == case_id)).all()
    assert [(r.kind, r.name) for r in rows] == [
        ("pdf", "Innkjøpsplan _2025.pdf"),
        ("png", "photo.png"),
    ]
    with db(app) as s:  # the bytes are in the one file store
        stored_file = s.get(StoredFile, rows[0].file_id)
        assert stored_file is not None and stored_file.content_type == "application/pdf"
    stored = tmp_path / "files" / stored_file.key
    assert stored.read_bytes() == PDF and (stored.stat().st_mode & 0o077) == 0
    url = f"/cases/{case_id}/attachments/{rows[0].id}"
    assert client.get(url).status_code == 404  # the draft's files are not public
    response = learner.get(url)
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    # Removed: the row and the file go.
    assert post(learner, f"/cases/{case_id}/attachments/{rows[0].id}/delete").status_code == 302
    assert not stored.exists() and learner.get(url).status_code == 404


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (SVG, "drawing.svg", "Only PDF files and images"),
        (HTML, "report.pdf", "Only PDF files and images"),  # HTML renamed .pdf
        (b"", "empty.pdf", "The file is empty"),
        (PDF + b"0" * 2048, "big.pdf", "at most 0 MB"),  # over the (lowered) limit
    ],
)
def test_wrong_or_oversized_files_are_refused_and_nothing_is_kept(
    app: Flask, learner: FlaskClient, tmp_path: Path, data: bytes, name: str, message: str
) -> None:
    app.config["CASE_ATTACHMENT_MAX_BYTES"] = 1024
    case_id = new_case(learner)
    files_before = (count(app, StoredFile), len(list((tmp_path / "files").glob("*"))))
    response = attach(learner, case_id, data, name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(app, CaseAttachment) == 0
    files_after = (count(app, StoredFile), len(list((tmp_path / "files").glob("*"))))
    assert files_after == files_before


def test_a_file_over_the_request_limit_is_refused_before_the_view(
    app: Flask, learner: FlaskClient
) -> None:
    case_id = new_case(learner)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = attach(learner, case_id, PDF + b"0" * (128 * 1024), "huge.pdf")
    assert response.status_code == 413 and count(app, CaseAttachment) == 0


def test_attachments_only_to_a_draft(app: Flask, as_role: Any) -> None:
    writer = as_role("learner")
    case_id = new_case(writer)
    post(writer, f"/cases/{case_id}/submit")
    assert attach(writer, case_id, PDF, "late.pdf").status_code == 409
    assert count(app, CaseAttachment) == 0


# --- export --------------------------------------------------------------------------------------


def test_json_and_csv_export_hold_published_cases_only_and_no_formulas(
    app: Flask, as_role: Any, client: FlaskClient
) -> None:
    writer, editor = as_role("learner"), as_role("editor")
    evil = new_case(writer, title='=HYPERLINK("http://evil.example","x")', lessons="+1;-2@3")
    post(writer, f"/cases/{evil}/submit")
    post(editor, f"/cases/{evil}/review", {"action": "publish"})
    new_case(writer, title="Still a draft")

    data = json.loads(client.get("/cases/export.json").get_data(as_text=True))["cases"]
    assert len(data) == 9
    assert all("Still a draft" not in json.dumps(case) for case in data)
    published = next(case for case in data if case["id"] == evil)
    assert published["texts"]["en"]["title"].startswith("=HYPERLINK")  # JSON keeps the text
    assert published["url"] == f"{app.config['PUBLIC_URL']}/cases/{evil}"

    response = client.get("/cases/export.csv?country=NO")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    titles = [row[header.index("title")] for row in body]
    assert '\'=HYPERLINK("http://evil.example","x")' in titles
    lessons = next(row for row in body if row[0] == str(evil))[header.index("lessons")]
    assert lessons == "'+1;'-2@3"
    assert all(row[header.index("country")] == "NO" for row in body)


def test_case_pages_speak_norwegian_and_danish(app: Flask) -> None:
    for lang, words in (("nb", "Eksempelbank"), ("da", "Casebank")):
        c = english_client(app)
        c.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        assert words in c.get("/cases").get_data(as_text=True)


def test_case_text_rows_keep_their_search_body(app: Flask, learner: FlaskClient) -> None:
    case_id = new_case(learner)
    with db(app) as s:
        text = s.exec(select(CaseText).where(CaseText.case_id == case_id)).one()
    assert "Quietbuses" in text.body and "Start the market dialogue" in text.body


def test_demo_runs_again_without_bringing_back_or_doubling_cases(app: Flask, as_role: Any) -> None:
    with db(app) as s:
        first = s.exec(select(CaseStudy).where(col(CaseStudy.demo_key).is_not(None))).first()
        assert first is not None
    post(as_role("editor"), f"/cases/{first.id}/review", {"action": "archive"})
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with db(app) as s:
        demo = s.exec(select(CaseStudy).where(col(CaseStudy.demo_key).is_not(None))).all()
    assert len(demo) == 8
    assert state(app, first.id or 0) == "archived"
