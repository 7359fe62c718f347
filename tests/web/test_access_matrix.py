"""Every route, every role: who gets the page, who is sent to sign in, who gets 403."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from elearn.db import engine_of
from elearn.models import User
from tests.conftest import COURSE, csrf_token, english_client, login

ROLES = (
    "anonymous",
    "learner",
    "manager",
    "certifier",
    "panellist",
    "organiser",
    "editor",
    "adviser",
    "admin",
)
# What each role reaches; the manager also holds the learner role in the demo data.
HOLDS = {
    "anonymous": set(),
    "learner": {"learner"},
    "manager": {"manager", "learner"},
    "certifier": {"certifier"},
    "panellist": {"panellist"},
    "organiser": {"organiser"},
    "adviser": {"adviser"},
    "admin": {"admin"},
    "editor": {"editor"},
}
# An example URL for every route with parameters; a new route without one fails the test.
EXAMPLES = {
    "learn.course": f"/courses/{COURSE}",
    "learn.resume": f"/courses/{COURSE}/continue",
    "learn.module": f"/courses/{COURSE}/modules/01-what-is-sustainability",
    "learn.evaluation": f"/courses/{COURSE}/evaluation",
    "learn.check": f"/courses/{COURSE}/modules/01-what-is-sustainability/check",
    # A check question's image: the shipped items have none, so "not found" for a learner.
    "learn.check_image": f"/courses/{COURSE}/modules/01-what-is-sustainability/check/1/images/0",
    "auth.reset": "/reset/not-a-token",
    "auth.confirm_signup": "/signup/confirm/not-a-token",
    "admin.mailbox_message": "/admin/mailbox/999999",
    "admin.mailbox_html": "/admin/mailbox/999999/html",
    "admin.mailbox_file": "/admin/mailbox/999999/files/0",
    "admin.edit_user": "/admin/users/{learner_id}",
    "admin.reset_link": "/admin/users/{learner_id}/reset-link",
    "static": "/static/elearn.css",
    "itemtype_asset": "/itemtypes/ordering.js",
    "exam.start_page": "/exams/sdg-basics",
    "exam.start": "/exams/sdg-basics/start",
    # Made-up attempt: the role check answers first, then "not found" for anyone's learner.
    "exam.item": "/attempts/999999/1",
    "exam.save": "/attempts/999999/1/save",
    "exam.summary": "/attempts/999999/summary",
    "exam.submit": "/attempts/999999/submit",
    "exam.result": "/attempts/999999/result",
    "exam.item_image": "/attempts/999999/1/images/0",
    "certificates.verify": "/verify/AAAA-AAAA-AAAA",
    "certificates.pdf": "/verify/AAAA-AAAA-AAAA/pdf",
    "certificates.credential": "/api/v1/credentials/AAAA-AAAA-AAAA",
    "certificates.status": "/status/1",
    "issuer.achievement": "/achievements/quick-certificate",
    "issuer.key": "/keys/k-none",
    "issuer.credential_jsonld": "/certificates/AAAA-AAAA-AAAA/credential.jsonld",
    "certify.review": "/certify/reviews/999999",
    "certify.certificate_detail": "/certify/certificates/AAAA-AAAA-AAAA",
    "certify.attempt_detail": "/certify/attempts/999999",
    "certify.attempt_image": "/certify/attempts/999999/1/images/0",
    "certify.statistics": "/certify/exams/sdg-basics/statistics",
    "certify.exposure": "/certify/exams/soa-baerekraft-sertifisering/exposure",
    "certify.retire": "/certify/items/999999/retire",
    # Made-up study: certifiers get "not found"; a panellist gets it for any study they were
    # not invited to, so that nobody learns which studies exist.
    "studies.detail": "/certify/studies/999999",
    "studies.round_two": "/certify/studies/999999/round-2",
    "studies.close": "/certify/studies/999999/close",
    "studies.results": "/certify/studies/999999/results",
    "studies.results_csv": "/certify/studies/999999/results.csv",
    "studies.ratings_file": "/certify/studies/999999/ratings.yaml",
    "panel.study": "/panel/studies/999999",
    "panel.topic": "/panel/studies/999999/topics/sdgs",
    "manage.unit": "/manage/units/1",
    "manage.target": "/manage/units/1/course/sustainability-intro",
    "manage.person": "/manage/units/1/people/1",
    "manage.assign": "/manage/units/1/assignments",
    "manage.add_next_step": "/manage/units/1/next-steps",
    "manage.next_step_done": "/manage/units/1/next-steps/999999/done",
    # Made-up sitting: certifiers get "not found"; a learner too, booked or not.
    "sittings.detail": "/certify/sittings/999999",
    "sittings.add": "/certify/sittings/999999/candidates",
    "room.waiting_room": "/sittings/999999",
    "room.clock": "/sittings/999999/clock",
    "room.start": "/sittings/999999/start",
    # No provider is configured in the matrix's app: every provider name is unknown.
    "sso.start": "/login/sso/none",
    "sso.callback": "/login/sso/none/callback",
    # A made-up request and person: admins get "not found".
    "privacy.decide": "/admin/privacy/requests/999999",
    "privacy.person_json": "/admin/users/999999/privacy/export.json",
    "privacy.person_html": "/admin/users/999999/privacy/export",
    "privacy.close": "/admin/users/999999/close",
    # The case bank: a published demo case, and made-up ones (not found to everyone).
    "cases.detail": "/cases/1",
    "cases.attachment": "/cases/1/attachments/999999",
    "cases.edit": "/cases/999999/edit",
    "cases.upload": "/cases/999999/attachments",
    "cases.remove_upload": "/cases/999999/attachments/1/delete",
    "cases.submit": "/cases/999999/submit",
    "cases.review": "/cases/999999/review",
    # Made-up events and links: "not found" for everyone; an organiser's other events too.
    "events.detail": "/events/999999",
    "events.register": "/events/999999/register",
    "events.check_email": "/events/999999/check-your-email",
    "events.registration": "/events/registration/0.0",
    "events.confirm": "/events/registration/0.0/confirm",
    "events.change": "/events/registration/0.0/change",
    "events.cancel": "/events/registration/0.0/cancel",
    "events.evaluate": "/events/registration/0.0/evaluation",
    "events.calendar": "/events/registration/0.0/invitation.ics",
    "events.material_by_link": "/events/registration/0.0/materials/1",
    "events.material": "/events/999999/materials/1",
    "organise.detail": "/organise/events/999999",
    "organise.participants_csv": "/organise/events/999999/participants.csv",
    "organise.check_in": "/organise/events/999999/check-in",
    "organise.check_in_code": "/organise/events/999999/check-in/0.0",
    "organise.upload": "/organise/events/999999/materials",
    "organise.organiser_material": "/organise/events/999999/materials/1",
    "organise.cancel_event": "/organise/events/999999/cancel",
    # Made-up programmes and organisations: "not found" for advisers who do not run them.
    "programmes.detail": "/programmes/999999",
    "programmes.add_phase": "/programmes/999999/phases",
    "programmes.add_staff": "/programmes/999999/staff",
    "programmes.invite": "/programmes/999999/organisations",
    "programmes.decide": "/programmes/999999/organisations/1/decision",
    "programmes.organisation": "/programmes/999999/organisations/1",
    "programmes.add_contact": "/programmes/999999/organisations/1/contacts",
    "programmes.add_activity": "/programmes/999999/organisations/1/activities",
    "programmes.update_activity": "/programmes/999999/organisations/1/activities/1",
    "programmes.draft_agreement": "/programmes/999999/organisations/1/agreement",
    "programmes.complete_phase": "/programmes/999999/organisations/1/phase",
    "programmes.dashboard": "/programmes/999999/dashboard",
    "programmes.dashboard_csv": "/programmes/999999/dashboard.csv",
    "programmes.agreement_file": "/programmes/999999/organisations/1/agreement/1",
    "my_programmes.apply": "/me/programmes/999999/apply",
    "my_programmes.my_detail": "/me/programmes/999999",
    "my_programmes.approve": "/me/programmes/999999/approve",
    "my_programmes.evaluation": "/me/programmes/999999/evaluation",
    "my_programmes.network": "/me/programmes/networks/999999",
    "my_programmes.network_material": "/me/programmes/networks/999999/materials/1",
    "programmes.evaluations": "/programmes/999999/evaluations",
    "programmes.evaluations_csv": "/programmes/999999/evaluations.csv",
    "team.schedule": "/manage/units/1/team-reflections",
    "team.detail": "/manage/units/1/team-reflections/999999",
    "team.add_action": "/manage/units/1/team-reflections/999999/actions",
    "my_team.answer": "/me/team-reflections/999999",
}
# Routes that end the session: checked for anonymous visitors only (test_sessions.py does the rest).
SIGNS_OUT = {"auth.logout", "auth.sign_out_everywhere"}
NOT_FOUND_OK = {
    "auth.reset",
    "learn.check_image",
    "exam.item_image",
    "auth.confirm_signup",
    "admin.mailbox_message",
    "admin.mailbox_html",
    "admin.mailbox_file",
    "issuer.key",
    "issuer.credential_jsonld",
    "exam.item",
    "exam.save",
    "exam.summary",
    "exam.submit",
    "exam.result",
    "certificates.verify",
    "certificates.pdf",
    "certificates.credential",
    "certify.review",
    "certify.certificate_detail",
    "certify.attempt_detail",
    "certify.attempt_image",
    "manage.person",
    "studies.detail",
    "studies.round_two",
    "studies.close",
    "studies.results",
    "studies.results_csv",
    "studies.ratings_file",
    "panel.study",
    "panel.topic",
    "sittings.detail",
    "sittings.add",
    "room.waiting_room",
    "room.clock",
    "room.start",
    "sso.start",
    "sso.callback",
    "privacy.decide",
    "privacy.person_json",
    "privacy.person_html",
    "privacy.close",
    "manage.next_step_done",
    "cases.attachment",
    "cases.edit",
    "cases.upload",
    "cases.remove_upload",
    "cases.submit",
    "cases.review",
    "events.detail",
    "events.register",
    "events.check_email",
    "events.registration",
    "events.confirm",
    "events.change",
    "events.cancel",
    "events.evaluate",
    "events.calendar",
    "events.material_by_link",
    "events.material",
    "organise.detail",
    "organise.participants_csv",
    "organise.check_in",
    "organise.check_in_code",
    "organise.upload",
    "organise.organiser_material",
    "organise.cancel_event",
    "programmes.detail",
    "programmes.add_phase",
    "programmes.add_staff",
    "programmes.invite",
    "programmes.decide",
    "programmes.organisation",
    "programmes.add_contact",
    "programmes.add_activity",
    "programmes.update_activity",
    "programmes.draft_agreement",
    "programmes.complete_phase",
    "programmes.dashboard",
    "programmes.dashboard_csv",
    "programmes.agreement_file",
    "my_programmes.apply",
    "my_programmes.my_detail",
    "my_programmes.approve",
    "my_programmes.evaluation",
    "my_programmes.network",
    "my_programmes.network_material",
    "programmes.evaluations",
    "programmes.evaluations_csv",
    "team.detail",
    "team.add_action",
    "my_team.answer",
}


def routes(app: Flask) -> list[tuple[str, str, tuple[str, ...]]]:
    out = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        access = ("public",) if rule.endpoint == "static" else getattr(view, "access", None)
        assert access, f"route {rule.rule} ({rule.endpoint}) declares no access rule"
        url = EXAMPLES.get(rule.endpoint, rule.rule)
        assert "<" not in url, f"add an example URL for {rule.endpoint}"
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        out.append((rule.endpoint, method, access, url))  # type: ignore[arg-type]
    return out  # type: ignore[return-value]


def expected(role: str, access: tuple[str, ...]) -> str:
    if "public" in access:
        return "open"
    if role == "anonymous":
        return "sign-in"
    if "signed-in" in access or HOLDS[role] & set(access):
        return "open"
    return "forbidden"


@pytest.mark.parametrize("role", ROLES)
def test_route_matrix(app: Flask, role: str) -> None:
    with Session(engine_of(app)) as s:
        learner_id = s.exec(select(User.id).where(User.email == "learner@example.org")).one()
    client = english_client(app)
    if role != "anonymous":
        assert login(client, f"{role}@example.org").status_code == 302
    token = csrf_token(client)
    checked = 0
    for endpoint, method, access, url in routes(app):
        if endpoint in SIGNS_OUT and role != "anonymous":
            continue  # would end the session the rest of the matrix needs; tested on its own
        url = url.format(learner_id=learner_id)
        # POSTs carry a valid CSRF token, so that what answers is the role check.
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        want = expected(role, access)
        status = response.status_code
        if want == "sign-in":
            assert status == 302 and "/login" in response.headers["Location"], (url, status)
        elif want == "forbidden":
            assert status == 403, (role, url, status)
        else:
            # Open: the page itself, a redirect, or the page's own answer to a bare POST
            # (400: a form without its fields; 409: not eligible) or to a made-up id (404),
            # never 403 or 5xx.
            assert status in (200, 302, 400, 404, 409), (role, url, status)
            assert not (status == 404 and endpoint not in NOT_FOUND_OK), (role, url)
        checked += 1
    assert checked >= 20


def test_anonymous_is_sent_to_sign_in_with_the_page_to_come_back_to(client: Any) -> None:
    response = client.get("/me/reflections")
    assert response.headers["Location"] == "/login?next=%2Fme%2Freflections"


def test_learner_opening_an_admin_page_gets_403_page(learner: Any) -> None:
    response = learner.get("/admin/")
    assert response.status_code == 403
    assert "You do not have access to this page" in response.get_data(as_text=True)


def test_unknown_course_and_module_give_404_pages(learner: Any) -> None:
    for url in (
        "/courses/no-such-course",
        f"/courses/{COURSE}/modules/no-such-module",
        "/no/such/page",
    ):
        response = learner.get(url)
        assert response.status_code == 404
        assert "Traceback" not in response.get_data(as_text=True)
