"""Separation of duties: no one acts as certifier on their own attempts or certificates.

Siri (certifier2@, demo data) is a certifier who also sits exams. Every certifier route that
views or acts on an attempt or a certificate is tried by her on her own case and on another's,
both as certifier and as an admin who is the candidate: her own answers 403 with a page that
says why, changes nothing, and leaves a ``duties.refused`` audit entry naming the action;
another's works. A second certifier (certifier@) does what she may not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.domain import duties
from elearn.models import (
    AuditEntry,
    Certificate,
    ExamAttempt,
    ExamVersion,
    ExtraTime,
    User,
    UserRole,
)
from elearn.services import accounts, audit, certificates, exams
from tests.conftest import english_client, login, post
from tests.web.test_certificates import pass_exam
from tests.web.test_exams import EXAM, start

SIRI = "certifier2@example.org"  # certifier and learner
LENA = "learner@example.org"  # learner
KARI = "kari.gyldig@example.org"  # holds a valid demo certificate
REFUSED_PAGE = "a certifier may not act on their own case"


def user_id(app: Flask, email: str) -> int:
    with Session(engine_of(app)) as s:
        return s.exec(select(User.id).where(User.email == email)).one()  # type: ignore[return-value]


def needs_sign_off(app: Flask) -> None:
    with Session(engine_of(app)) as s:
        version = s.exec(select(ExamVersion).where(ExamVersion.exam_id == EXAM)).one()
        version.spec = {**version.spec, "sign_off": True}
        s.commit()


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = english_client(app)
    assert login(client, email).status_code == 302
    return client


def as_admin_candidate(app: Flask) -> None:
    """Siri is an admin who sits exams, no longer a certifier: admins reach the desk too."""
    with Session(engine_of(app)) as s:
        user = s.exec(select(User).where(User.email == SIRI)).one()
        accounts.set_roles(session=s, user=user, roles={"admin", "learner"})
        s.commit()


def certificate_of_siri(app: Flask) -> str:
    """A valid certificate held by Siri (issued as the demo ones are: no attempt behind it)."""
    now = utcnow()
    with app.app_context(), Session(engine_of(app)) as s:
        user = s.exec(select(User).where(User.email == SIRI)).one()
        view = exams.load_exam(session=s, exam_id=EXAM)
        cert = certificates.issue_demo(
            session=s,
            authority=certificates.authority_of(app=app),
            user=user,
            exam_id=EXAM,
            spec=view.spec,
            issued_at=now - timedelta(days=1),
            valid_until=None,
            now=now,
        )
        s.commit()
        return cert.code


def certificate_of(app: Flask, email: str) -> str:
    out = app.test_cli_runner().invoke(args=["certificates", "list", "--json"]).output
    return next(row["code"] for row in json.loads(out) if row["email"] == email)


def refusals(app: Flask) -> list[AuditEntry]:
    with Session(engine_of(app)) as s:
        return list(
            s.exec(
                select(AuditEntry)
                .where(AuditEntry.action == duties.REFUSED)
                .order_by(col(AuditEntry.id))
            )
        )


def attempt_row(app: Flask, attempt_id: int) -> ExamAttempt:
    with Session(engine_of(app)) as s:
        row = s.get(ExamAttempt, attempt_id)
        assert row is not None
        return row


def certificate_row(app: Flask, code: str) -> Certificate:
    with Session(engine_of(app)) as s:
        return s.exec(select(Certificate).where(Certificate.code == code)).one()


def extra_time_of(app: Flask, email: str) -> ExtraTime | None:
    with Session(engine_of(app)) as s:
        return s.exec(select(ExtraTime).where(ExtraTime.user_id == user_id(app, email))).first()


# --- the matrix ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """What a certifier route is tried on: an attempt, a certificate or a person."""

    attempt: int | None = None
    code: str | None = None
    email: str | None = None


def passed_attempt(app: Flask, email: str) -> Case:
    needs_sign_off(app)
    return Case(attempt=pass_exam(app, signed_in(app, email)))


def held_certificate(app: Flask, email: str) -> Case:
    return Case(code=certificate_of_siri(app) if email == SIRI else certificate_of(app, KARI))


def person(_app: Flask, email: str) -> Case:
    return Case(email=email)


@dataclass(frozen=True)
class Route:
    action: str  # the action a refusal names
    method: str
    url: str
    data: dict[str, str]
    case: Any  # (app, e-mail of the subject) -> Case
    done: int  # the status when the certifier may act


ROUTES = {
    "attempt view with keys": Route(
        duties.ATTEMPT_VIEW, "GET", "/certify/attempts/{attempt}", {}, passed_attempt, 200
    ),
    "approve sign-off": Route(
        duties.ATTEMPT_APPROVE,
        "POST",
        "/certify/reviews/{attempt}",
        {"decision": "approve", "comment": "fine"},
        passed_attempt,
        302,
    ),
    "reject sign-off": Route(
        duties.ATTEMPT_REJECT,
        "POST",
        "/certify/reviews/{attempt}",
        {"decision": "reject"},
        passed_attempt,
        302,
    ),
    "certificate view": Route(
        duties.CERTIFICATE_VIEW, "GET", "/certify/certificates/{code}", {}, held_certificate, 200
    ),
    "revoke certificate": Route(
        duties.CERTIFICATE_REVOKE,
        "POST",
        "/certify/certificates/{code}",
        {"reason": "Found out"},
        held_certificate,
        302,
    ),
    "grant extra time": Route(
        duties.EXTRA_TIME_GRANT,
        "POST",
        "/certify/extra-time",
        {"email": "{email}", "exam": EXAM, "minutes": "1440", "percent": "0", "reason": "x"},
        person,
        302,
    ),
}


def changed(app: Flask, route: Route, case: Case, subject: str) -> bool:
    """Whether the route's action took effect on the case."""
    if route.action in (duties.ATTEMPT_APPROVE, duties.ATTEMPT_REJECT):
        assert case.attempt is not None
        return attempt_row(app, case.attempt).review_decision is not None
    if route.action == duties.CERTIFICATE_REVOKE:
        assert case.code is not None
        return certificate_row(app, case.code).revoked_at is not None
    if route.action == duties.EXTRA_TIME_GRANT:
        return extra_time_of(app, subject) is not None
    return False  # a view changes nothing


def send(client: FlaskClient, route: Route, case: Case) -> Any:
    fill = {"attempt": case.attempt, "code": case.code, "email": case.email}
    url = route.url.format(**fill)
    if route.method == "GET":
        return client.get(url)
    return post(client, url, {k: v.format(**fill) for k, v in route.data.items()})


@pytest.mark.parametrize("actor_role", ["certifier", "admin"])
@pytest.mark.parametrize("whose", ["own", "other's"])
@pytest.mark.parametrize("name", list(ROUTES))
def test_certifier_route_matrix(app: Flask, name: str, whose: str, actor_role: str) -> None:
    route = ROUTES[name]
    subject = SIRI if whose == "own" else LENA
    case = route.case(app, subject)
    if actor_role == "admin":
        as_admin_candidate(app)
    siri = signed_in(app, SIRI)
    before = len(refusals(app))

    response = send(siri, route, case)

    if whose == "other's":
        assert response.status_code == route.done, response.get_data(as_text=True)[:500]
        assert len(refusals(app)) == before
        if route.method == "POST":
            assert changed(app, route, case, subject)
        return
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert REFUSED_PAGE in page and "Another certifier must do it" in page
    assert not changed(app, route, case, subject)
    new = refusals(app)[before:]
    assert len(new) == 1
    entry = new[0]
    with Session(engine_of(app)) as s:  # people are written as pseudonyms (decision 0016)
        siri = user_id(app, SIRI)
        siri_name = audit.pseudonyms(session=s, user_ids={siri}, create=False)[siri]
    assert entry.actor == siri_name
    assert entry.data["refused"] == route.action and entry.data["exam"] == EXAM
    expected_subject = {
        "attempt": f"attempt:{case.attempt}",
        "certificate": f"certificate:{case.code}",
        "extra_time": f"person:{siri_name}",
    }[route.action.split(".")[0]]
    assert entry.subject == expected_subject


# --- forged requests, the second certifier, the lists --------------------------------------------


def test_forged_requests_on_ones_own_case_are_refused_whatever_their_spelling(app: Flask) -> None:
    needs_sign_off(app)
    own = pass_exam(app, signed_in(app, SIRI))
    code = certificate_of_siri(app)
    siri = signed_in(app, SIRI)
    forged = [
        (f"/certify/reviews/{own}", {"decision": "approve", "comment": "x" * 2000}),
        (f"/certify/certificates/{code.lower()}", {"reason": "mine"}),
        (f"/certify/certificates/{code.replace('-', '')}", {"reason": "mine"}),
        (f"/certify/certificates/{code.replace('-', ' ').lower()}", {"reason": "mine"}),
        ("/certify/extra-time", {"email": f"  {SIRI.upper()} ", "exam": EXAM, "percent": "400"}),
    ]
    for url, data in forged:
        response = post(siri, url, data)
        assert response.status_code == 403, (url, response.status_code)
    assert attempt_row(app, own).review_decision is None
    assert certificate_row(app, code).revoked_at is None
    assert extra_time_of(app, SIRI) is None
    assert [e.data["refused"] for e in refusals(app)] == [
        "attempt.approve",
        "certificate.revoke",
        "certificate.revoke",
        "certificate.revoke",
        "extra_time.grant",
    ]


def test_a_running_attempt_gets_no_extra_time_from_its_candidate(app: Flask) -> None:
    siri = signed_in(app, SIRI)
    running = start(siri)
    deadline = attempt_row(app, running).deadline_at
    grant = {"email": SIRI, "exam": EXAM, "minutes": "1440", "percent": "400", "reason": "x"}
    assert post(siri, "/certify/extra-time", grant).status_code == 403
    assert attempt_row(app, running).deadline_at == deadline
    assert extra_time_of(app, SIRI) is None
    # The second certifier may: the new deadline applies at once.
    other = signed_in(app, "certifier@example.org")
    grant = {**grant, "minutes": "10", "percent": "0"}
    assert post(other, "/certify/extra-time", grant).status_code == 302
    assert attempt_row(app, running).deadline_at == deadline + timedelta(minutes=10)


def test_a_second_certifier_signs_off_views_and_revokes_what_the_candidate_may_not(
    app: Flask,
) -> None:
    needs_sign_off(app)
    own = pass_exam(app, signed_in(app, SIRI))
    siri = signed_in(app, SIRI)
    assert post(siri, f"/certify/reviews/{own}", {"decision": "approve"}).status_code == 403
    second = signed_in(app, "certifier@example.org")
    page = second.get(f"/certify/attempts/{own}").get_data(as_text=True)
    assert "the form is intact" in page  # the keys and answers, for another certifier
    assert post(second, f"/certify/reviews/{own}", {"decision": "approve"}).status_code == 302
    with Session(engine_of(app)) as s:
        cert = s.exec(select(Certificate).where(Certificate.attempt_id == own)).one()
    assert attempt_row(app, own).reviewed_by_id == user_id(app, "certifier@example.org")
    # Siri holds it now, and may not revoke it; the second certifier may.
    assert post(siri, f"/certify/certificates/{cert.code}", {"reason": "x"}).status_code == 403
    assert certificate_row(app, cert.code).revoked_at is None
    revoked = post(second, f"/certify/certificates/{cert.code}", {"reason": "Found out"})
    assert revoked.status_code == 302
    assert certificate_row(app, cert.code).revoked_at is not None


def test_lists_show_ones_own_case_without_links_or_buttons(app: Flask) -> None:
    needs_sign_off(app)
    own = pass_exam(app, signed_in(app, SIRI))
    other = pass_exam(app, signed_in(app, LENA))
    code = certificate_of_siri(app)
    siri = signed_in(app, SIRI)

    queue = siri.get("/certify/reviews").get_data(as_text=True)
    assert "Siri Sensor" in queue and "This is your own attempt" in queue
    assert f'action="/certify/reviews/{own}"' not in queue
    assert f'action="/certify/reviews/{other}"' in queue

    listed = siri.get("/certify/attempts").get_data(as_text=True)
    assert "your own attempt" in listed
    assert f'href="/certify/attempts/{own}"' not in listed
    assert f'href="/certify/attempts/{other}"' in listed

    held = siri.get(f"/certify/certificates?q={code}").get_data(as_text=True)
    assert code in held and "your own certificate" in held
    assert f'href="/certify/certificates/{code}"' not in held
    # Another certifier sees the same rows with their links and buttons.
    second = signed_in(app, "certifier@example.org").get("/certify/reviews").get_data(as_text=True)
    assert f'action="/certify/reviews/{own}"' in second
    assert "This is your own attempt" not in second
    assert refusals(app) == []  # looking at lists is no refusal


def test_the_refusal_is_kept_while_the_refused_work_is_rolled_back(app: Flask) -> None:
    """The audit entry outlives the rollback, and the chain still holds."""
    needs_sign_off(app)
    own = pass_exam(app, signed_in(app, SIRI))
    siri = signed_in(app, SIRI)
    assert siri.get(f"/certify/attempts/{own}").status_code == 403  # a GET keeps it too
    assert post(siri, f"/certify/reviews/{own}", {"decision": "approve"}).status_code == 403
    assert [e.data["refused"] for e in refusals(app)] == ["attempt.view", "attempt.approve"]
    out = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert out.exit_code == 0, out.output
    # The certifier's audit page finds the refusals by person and by exam.
    audit_page = signed_in(app, "certifier@example.org").get(
        f"/certify/audit?person={SIRI}&exam={EXAM}"
    )
    assert audit_page.get_data(as_text=True).count(duties.REFUSED) >= 2


def test_the_services_refuse_the_own_case_for_every_caller(app: Flask) -> None:
    """Batch callers (the benchmark, a script) meet the same rule as the web pages."""
    needs_sign_off(app)
    own = pass_exam(app, signed_in(app, SIRI))
    code = certificate_of_siri(app)
    siri_id = user_id(app, SIRI)
    with app.app_context(), Session(engine_of(app)) as s:
        authority = certificates.authority_of(app=app)
        calls = [
            lambda: certificates.sign_off(
                session=s,
                authority=authority,
                attempt_id=own,
                approve=True,
                comment="",
                reviewer_id=siri_id,
                now=utcnow(),
            ),
            lambda: certificates.revoke(
                session=s, code=code, reason="x", revoker_id=siri_id, now=utcnow()
            ),
            lambda: exams.grant_extra_time(
                session=s,
                user_id=siri_id,
                exam_id=EXAM,
                minutes=5,
                percent=0,
                reason="",
                granted_by=siri_id,
                now=utcnow(),
            ),
        ]
        for call in calls:
            with pytest.raises(duties.OwnCase):
                call()
            s.rollback()
        from elearn.services import review

        with pytest.raises(duties.OwnCase):
            review.served_attempt(session=s, attempt_id=own, viewer_id=siri_id)


def test_the_demo_has_two_certifiers_and_its_revocation_is_not_by_the_holder(app: Flask) -> None:
    with Session(engine_of(app)) as s:
        certifiers = set(
            s.exec(
                select(User.email)
                .join(UserRole, col(UserRole.user_id) == col(User.id))
                .where(UserRole.role == "certifier")
            )
        )
        revoked = s.exec(select(Certificate).where(col(Certificate.revoked_at).is_not(None))).all()
    assert {"certifier@example.org", SIRI} <= certifiers
    assert revoked and all(c.revoked_by_id != c.user_id for c in revoked)
    assert all(c.revoked_by_id == user_id(app, "certifier@example.org") for c in revoked)


def test_a_refusal_that_cannot_be_recorded_is_still_a_403_and_logged(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy.exc import OperationalError

    from elearn.services import duties as duty_records

    def fails(**_kw: Any) -> None:
        raise OperationalError("INSERT INTO audit_entry", {}, Exception("disk full"))

    code = certificate_of_siri(app)
    monkeypatch.setattr(duty_records, "record_refusal", fails)
    response = post(signed_in(app, SIRI), f"/certify/certificates/{code}", {"reason": "mine"})
    assert response.status_code == 403 and REFUSED_PAGE in response.get_data(as_text=True)
    assert "could not keep a record after an error" in caplog.text
    assert certificate_row(app, code).revoked_at is None and refusals(app) == []
