"""Programmes on the web: the adviser's pages, the dashboard and its CSV, the contact's
approval; bad input refused with a clear message and nothing changed."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from sqlmodel import select

from elearn.db import open_session
from elearn.models import (
    CaseStudy,
    CaseText,
    OrgUnit,
    Participation,
    Programme,
    ProgrammeActivity,
)
from elearn.services import programmes as service
from elearn.services.demo import DEMO_PASSWORD
from tests.conftest import csrf_token, english_client, login, post

PDF = b"%PDF-1.4\n% test\n"


def _ids(app: Flask, org: str = "Nordby kommune") -> tuple[int, int]:
    with open_session(app) as s:
        programme = s.exec(select(Programme).where(Programme.kind == "advisory")).one()
        unit = s.exec(select(OrgUnit).where(OrgUnit.name == org)).one()
        part = s.exec(
            select(Participation).where(
                Participation.programme_id == programme.id, Participation.unit_id == unit.id
            )
        ).one()
        assert programme.id and part.id
        return programme.id, part.id


def _as(app: Flask, email: str) -> Any:
    client = english_client(app)
    assert login(client, email, DEMO_PASSWORD).status_code == 302
    return client


def _versions(app: Flask, part_id: int) -> list[tuple[int, bool]]:
    with open_session(app) as s:
        rows = service.agreement_versions(session=s, participation_id=part_id)
        return [(r.version, r.approved_at is not None) for r in rows]


def test_dashboard_shows_each_organisations_phase_overdue_and_missing(
    app: Flask, as_role: Any
) -> None:
    programme_id, _part = _ids(app)
    page = as_role("adviser").get(f"/programmes/{programme_id}/dashboard")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Nordby kommune" in text and "Awaiting approval" in text
    assert "Head of procurement" in text  # Nordby's head was not at the start meeting
    assert "Miljøkrav til møbler" in text  # Sydby's overdue activity
    assert "Every phase is complete." in text  # Region Vest


def test_dashboard_csv_is_formula_safe(app: Flask, as_role: Any) -> None:
    programme_id, part_id = _ids(app)
    adviser = as_role("adviser")
    response = post(
        adviser,
        f"/programmes/{programme_id}/organisations/{part_id}/activities",
        {"title": '=HYPERLINK("http://evil")', "owner": "x", "due_on": "2020-01-01"},
    )
    assert response.status_code == 302
    csv = adviser.get(f"/programmes/{programme_id}/dashboard.csv")
    assert csv.mimetype == "text/csv"
    body = csv.get_data(as_text=True)
    assert "'=HYPERLINK" in body and "Nordby kommune" in body


def test_contact_approves_and_a_changed_agreement_needs_approval_again(
    app: Flask, as_role: Any
) -> None:
    programme_id, part_id = _ids(app)
    contact = _as(app, "indkobschef@nordby.example.org")
    page = contact.get(f"/me/programmes/{part_id}")
    assert "Approve version 1 of the agreement" in page.get_data(as_text=True)
    response = post(contact, f"/me/programmes/{part_id}/approve", {"version": "1"})
    assert response.status_code == 302
    assert _versions(app, part_id) == [(1, True)]
    # The adviser changes it, with a PDF: a new version, awaiting approval.
    adviser = as_role("adviser")
    response = adviser.post(
        f"/programmes/{programme_id}/organisations/{part_id}/agreement",
        data={
            "csrf_token": csrf_token(adviser),
            "text": "Changed text.",
            "file": (io.BytesIO(PDF), "aftale.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert _versions(app, part_id) == [(1, True), (2, False)]
    pdf = contact.get(f"/programmes/{programme_id}/organisations/{part_id}/agreement/2")
    assert pdf.data == PDF and pdf.headers["X-Content-Type-Options"] == "nosniff"
    # Approving the old number again is refused: the text changed since.
    response = post(contact, f"/me/programmes/{part_id}/approve", {"version": "1"})
    assert response.status_code == 409
    assert "changed after you opened it" in response.get_data(as_text=True)
    assert _versions(app, part_id) == [(1, True), (2, False)]


def test_approval_by_someone_outside_the_organisation_is_refused(app: Flask, as_role: Any) -> None:
    _programme, part_id = _ids(app)
    # The contact of another organisation in the same programme.
    outsider = _as(app, "indkobschef@sydby.example.org")
    response = post(outsider, f"/me/programmes/{part_id}/approve", {"version": "1"})
    assert response.status_code == 403
    assert "Only a contact person of the organisation" in response.get_data(as_text=True)
    # The adviser, too, and an admin: they draft, the organisation approves.
    for role in ("adviser", "admin"):
        response = post(as_role(role), f"/me/programmes/{part_id}/approve", {"version": "1"})
        assert response.status_code == 403
    assert _versions(app, part_id) == [(1, False)]
    # Nor may an outsider read the organisation's page or its agreement.
    assert outsider.get(f"/me/programmes/{part_id}").status_code == 404


def test_forged_ids_wrong_role_and_missing_csrf_change_nothing(app: Flask, as_role: Any) -> None:
    programme_id, nordby = _ids(app)
    _p, sydby = _ids(app, "Sydby kommune")
    with open_session(app) as s:
        sydby_activity = s.exec(
            select(ProgrammeActivity).where(ProgrammeActivity.participation_id == sydby)
        ).first()
        assert sydby_activity is not None
        before = (sydby_activity.id, sydby_activity.status)
    adviser = as_role("adviser")
    # Another organisation's activity under this organisation's address.
    url = f"/programmes/{programme_id}/organisations/{nordby}/activities/{before[0]}"
    assert post(adviser, url, {"status": "done", "notes": ""}).status_code == 404
    # An organisation under another programme's address.
    assert adviser.get(f"/programmes/999999/organisations/{nordby}").status_code == 404
    # An unknown status.
    url = f"/programmes/{programme_id}/organisations/{sydby}/activities/{before[0]}"
    response = post(adviser, url, {"status": "finished", "notes": ""})
    assert response.status_code == 400 and "Status" in response.get_data(as_text=True)
    # Without the CSRF token.
    assert adviser.post(url, data={"status": "done", "notes": ""}).status_code == 400
    # The organiser has no part in programmes.
    assert post(as_role("organiser"), url, {"status": "done"}).status_code == 403
    with open_session(app) as s:
        row = s.get(ProgrammeActivity, before[0])
        assert row is not None and row.status == before[1]


def test_oversized_or_non_pdf_agreement_is_refused(app: Flask, as_role: Any) -> None:
    app.config["AGREEMENT_MAX_BYTES"] = 100
    programme_id, part_id = _ids(app)
    adviser = as_role("adviser")
    url = f"/programmes/{programme_id}/organisations/{part_id}/agreement"
    for payload, message in (
        (PDF + b"x" * 200, "too large"),
        (b"\x89PNG\r\n\x1a\n....", "Only PDF"),
    ):
        response = adviser.post(
            url,
            data={
                "csrf_token": csrf_token(adviser),
                "text": "New text.",
                "file": (io.BytesIO(payload), "a.pdf"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 400, response.status_code
        assert message in response.get_data(as_text=True)
    assert _versions(app, part_id) == [(1, False)]


def test_a_phase_with_unmet_participation_or_agreement_does_not_complete(
    app: Flask, as_role: Any
) -> None:
    programme_id, part_id = _ids(app)
    url = f"/programmes/{programme_id}/organisations/{part_id}/phase"
    response = post(as_role("adviser"), url)
    assert response.status_code == 409
    with open_session(app) as s:
        part = s.get(Participation, part_id)
        assert part is not None and part.phases_done == 1


def test_admin_accepts_an_application_the_adviser_cannot(app: Flask, as_role: Any) -> None:
    programme_id, _part = _ids(app)
    with open_session(app) as s:
        root = s.exec(select(OrgUnit).where(OrgUnit.name == "Eksempel kommune")).one()
    # A learner cannot apply for an organisation; its manager can.
    form = {"unit": str(root.id)}
    assert post(as_role("learner"), f"/me/programmes/{programme_id}/apply", form).status_code == 403
    manager = as_role("manager")
    assert post(manager, f"/me/programmes/{programme_id}/apply", form).status_code == 302
    assert post(manager, f"/me/programmes/{programme_id}/apply", form).status_code == 409
    with open_session(app) as s:
        part = s.exec(select(Participation).where(Participation.unit_id == root.id)).one()
    decide = f"/programmes/{programme_id}/organisations/{part.id}/decision"
    assert post(as_role("adviser"), decide, {"decision": "accept"}).status_code == 403
    assert post(as_role("admin"), decide, {"decision": "accept"}).status_code == 302
    assert post(as_role("admin"), decide, {"decision": "decline"}).status_code == 409
    with open_session(app) as s:
        row = s.get(Participation, part.id)
        assert row is not None and row.status == "accepted"


def test_adviser_builds_a_programme_with_phases(app: Flask, as_role: Any) -> None:
    adviser = as_role("adviser")
    response = post(adviser, "/programmes/new", {"title": "Green buying", "kind": "competence"})
    assert response.status_code == 302
    url = response.headers["Location"]
    programme_id = int(url.rstrip("/").rsplit("/", 1)[1])
    response = post(
        adviser,
        f"/programmes/{programme_id}/phases",
        {
            "title": "Start",
            "tasks": "Read the guide",
            "roles": "Head of procurement",
            "targets": "course:sustainability-intro",
        },
    )
    assert response.status_code == 302
    response = post(adviser, f"/programmes/{programme_id}/phases", {"title": "", "tasks": ""})
    assert response.status_code == 400 and "Title" in response.get_data(as_text=True)
    page = adviser.get(url).get_data(as_text=True)
    assert "Read the guide" in page and "Head of procurement" in page
    with open_session(app) as s:
        assert len(service.phases(session=s, programme_id=programme_id)) == 1
    # An admin sees every programme.
    assert as_role("admin").get(url).status_code == 200


def test_closing_evaluation_opens_at_the_end_and_is_summarised(app: Flask, as_role: Any) -> None:
    programme_id, nordby = _ids(app)
    # Nordby is at its start meeting: not yet.
    early = _as(app, "indkobschef@nordby.example.org")
    response = post(
        early, f"/me/programmes/{nordby}/evaluation", {"useful": "5", "advice": "5", "use": "5"}
    )
    assert response.status_code == 409
    # Region Vest answered already: once only.
    _p, vest = _ids(app, "Region Vest (demo)")
    done = _as(app, "indkobschef@regionvest.example.org")
    assert "already answered" in done.get(f"/me/programmes/{vest}/evaluation").get_data(
        as_text=True
    )
    response = post(
        done, f"/me/programmes/{vest}/evaluation", {"useful": "1", "advice": "1", "use": "1"}
    )
    assert response.status_code == 409
    adviser = as_role("adviser")
    page = adviser.get(f"/programmes/{programme_id}/evaluations").get_data(as_text=True)
    assert "Region Vest (demo)" in page and "5.0" in page
    csv = adviser.get(f"/programmes/{programme_id}/evaluations.csv").get_data(as_text=True)
    assert "TCO" in csv and "Region Vest (demo)" in csv


def test_network_members_see_meetings_archive_and_members(app: Flask, as_role: Any) -> None:
    with open_session(app) as s:
        network = s.exec(select(Programme).where(Programme.kind == "network")).one()
    member = _as(app, "indkobschef@nordby.example.org")
    page = member.get(f"/me/programmes/networks/{network.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "totalomkostninger" in text and "Sofie Sydby" in text  # a meeting; another member
    link = re.search(r'href="(/me/programmes/networks/\d+/materials/\d+)"', text)
    assert link, "the past meetings' presentations and minutes are listed"
    pdf = member.get(link.group(1))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    # Not a member: the region's contact, a learner, and any material not of the network.
    outsider = _as(app, "indkobschef@regionvest.example.org")
    assert outsider.get(f"/me/programmes/networks/{network.id}").status_code == 404
    assert outsider.get(link.group(1)).status_code == 404
    assert as_role("learner").get(f"/me/programmes/networks/{network.id}").status_code == 404
    assert member.get(f"/me/programmes/networks/{network.id}/materials/999999").status_code == 404


def test_a_phase_links_to_an_exam_and_refuses_an_unknown_event(app: Flask, as_role: Any) -> None:
    programme_id, _part = _ids(app)
    adviser = as_role("adviser")
    url = f"/programmes/{programme_id}/phases"
    response = post(adviser, url, {"title": "Test", "targets": "exam:sdg-basics"})
    assert response.status_code == 302
    assert 'href="/exams/sdg-basics"' in adviser.get(f"/programmes/{programme_id}").get_data(
        as_text=True
    )
    with open_session(app) as s:
        before = len(service.phases(session=s, programme_id=programme_id))
    # A forged event id (not among the choices) and a forged link kind.
    for data in ({"title": "X", "events": "999999"}, {"title": "X", "targets": "quiz:1"}):
        assert post(adviser, url, data).status_code == 400
    with open_session(app) as s:
        assert len(service.phases(session=s, programme_id=programme_id)) == before


def test_the_programme_page_lists_the_published_cases_that_name_it(
    app: Flask, as_role: Any
) -> None:
    programme_id, _part = _ids(app)
    adviser = as_role("adviser")
    page = adviser.get(f"/programmes/{programme_id}").get_data(as_text=True)
    assert "No published case names this programme yet" in page
    with open_session(app) as s:
        programme = s.get(Programme, programme_id)
        assert programme is not None
        case = s.exec(select(CaseStudy).where(CaseStudy.state == "published")).first()
        assert case is not None
        draft = s.exec(select(CaseStudy).where(CaseStudy.state != "published")).first()
        case.programme = programme.title
        if draft is not None:
            draft.programme = programme.title  # not published: not listed
        s.commit()
        titles = dict(
            s.exec(select(CaseText.lang, CaseText.title).where(CaseText.case_id == case.id)).all()
        )
        title = titles.get("en") or next(iter(titles.values()), None)
    page = adviser.get(f"/programmes/{programme_id}").get_data(as_text=True)
    assert title is not None and title in page
    assert f'href="/cases/{case.id}"' in page
