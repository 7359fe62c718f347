"""Privacy: a person sees and downloads everything held about them; erasure removes them from
every table while what must stay stays true (a valid certificate, the audit chain, item
statistics); retention deletes exactly what its rules say (GDPR arts. 5(1)(e), 15, 17, 20)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlmodel import Session, select

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.jobs import audit as audit_jobs
from elearn.models import (
    AttemptEvent,
    AttemptSlot,
    AuditEntry,
    AuditSubject,
    Certificate,
    ExamAttempt,
    PrivacyRequest,
    Reflection,
    User,
)
from elearn.services import privacy
from tests.conftest import csrf_token, english_client, login, post
from tests.web.test_certificates import demo_code, pass_exam
from tests.web.test_exams import PRACTICE, right_answer, slots, start

LENA = ("learner@example.org", "Lena Læring")
LARS = ("learner2@example.org", "Lars Lærling")


def db(app: Flask) -> Session:
    return Session(engine_of(app))


def user_id(app: Flask, email: str) -> int:
    with db(app) as s:
        found = s.exec(select(User.id).where(User.email == email)).first()
        assert found is not None
        return found


def tables_holding(app: Flask, *needles: str) -> set[str]:
    """Every table with a row whose text holds one of the needles (case-insensitive)."""
    found = set()
    with db(app) as s:
        connection = s.connection()
        for table in connection.dialect.get_table_names(connection):
            if table == "alembic_version":
                continue
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                blob = repr(tuple(row)).lower()
                if any(n.lower() in blob for n in needles):
                    found.add(table)
                    break
    return found


def reflect(app: Flask, email: str, answer: str) -> None:
    with db(app) as s:
        s.add(
            Reflection(
                user_id=user_id(app, email),
                course_id="sustainability-intro",
                module_id="01-what-is-sustainability",
                prompt_index=0,
                prompt="What was new?",
                answer=answer,
            )
        )
        s.commit()


@pytest.fixture
def lena(app: Flask) -> FlaskClient:
    client = english_client(app)
    assert login(client, LENA[0]).status_code == 302
    return client


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    client = english_client(app)
    assert login(client, "admin@example.org").status_code == 302
    return client


def test_the_export_holds_every_category_and_nothing_of_another_person(
    app: Flask, lena: FlaskClient
) -> None:
    attempt_id = pass_exam(app, lena)
    reflect(app, LENA[0], "Our canteen tender could ask for seasonal food.")
    lars = english_client(app)
    login(lars, LARS[0])
    reflect(app, LARS[0], "Lars's own private thought.")

    response = lena.get("/account/privacy/export.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["email"] == LENA[0] and data["profile"]["name"] == LENA[1]
    assert data["roles"] == ["learner"]
    assert data["profile"]["unit"].endswith("Innkjøp")
    assert data["course_progress"] and data["module_progress"]
    assert [r["answer"] for r in data["reflection"]] == [
        "Our canteen tender could ask for seasonal food."
    ]
    [attempt] = [a for a in data["exam_attempts"] if a["id"] == attempt_id]
    assert attempt["passed"] is True and attempt["answers"] and attempt["trail"]
    assert all(a["response"] is not None for a in attempt["answers"])
    assert len(data["certificates"]) == 1 and data["certificates"][0]["credential"]
    assert data["login_session"] and data["login_session"][0]["token_hash"] == "<kept secret>"
    actions = {e["action"] for e in data["audit_entries"]}
    assert {"certificate.issued", "user.created"} & actions
    assert all(
        e["about"] in ("you",) or not e["about"].startswith("person:")
        for e in data["audit_entries"]
    )
    blob = json.dumps(data, ensure_ascii=False)
    assert LARS[0] not in blob and LARS[1] not in blob and "Lars's own" not in blob
    # Read as a page too; both downloads are in the audit log.
    page = lena.get("/account/privacy/export")
    assert page.status_code == 200 and "Our canteen tender" in page.get_data(as_text=True)
    with db(app) as s:
        logged = s.exec(select(AuditEntry).where(AuditEntry.action == "privacy.exported")).all()
    assert sorted(e.data["format"] for e in logged) == ["html", "json"]
    assert all(e.data["by"] == "self" for e in logged)


def test_an_administrator_exports_for_a_request_by_post_and_nobody_else_can(
    app: Flask, admin: FlaskClient, lena: FlaskClient
) -> None:
    lena_id = user_id(app, LENA[0])
    data = json.loads(
        admin.get(f"/admin/users/{lena_id}/privacy/export.json").get_data(as_text=True)
    )
    assert data["profile"]["email"] == LENA[0]
    assert admin.get(f"/admin/users/{lena_id}/privacy/export").status_code == 200
    assert lena.get(f"/admin/users/{user_id(app, LARS[0])}/privacy/export.json").status_code == 403
    assert english_client(app).get("/account/privacy/export.json").status_code == 302
    assert admin.get("/admin/users/999999/privacy/export.json").status_code == 404
    with db(app) as s:
        logged = s.exec(select(AuditEntry).where(AuditEntry.action == "privacy.exported")).all()
    assert [e.data["by"] for e in logged] == ["administrator", "administrator"]


def ask_and_decide(app: Flask, person: FlaskClient, admin: FlaskClient, decision: str) -> int:
    assert post(person, "/account/privacy/erase", {"note": "I have left."}).status_code == 302
    with db(app) as s:
        request = s.exec(select(PrivacyRequest)).one()
    assert request.status == "requested"
    response = admin.post(
        f"/admin/privacy/requests/{request.id}",
        data={
            "csrf_token": csrf_token(admin, "/admin/privacy"),
            "decision": decision,
            "reason": "",
        },
    )
    assert response.status_code == 302
    assert request.id is not None
    return request.id


def test_a_full_erasure_leaves_no_trace_of_the_person_and_the_audit_log_still_verifies(
    app: Flask, lena: FlaskClient, admin: FlaskClient
) -> None:
    attempt_id = pass_exam(app, lena)
    reflect(app, LENA[0], "Something only Lena wrote.")
    with db(app) as s:
        code = s.exec(select(Certificate.code).where(Certificate.attempt_id == attempt_id)).one()
    assert tables_holding(app, *LENA) >= {"user_account", "certificate"}
    audit_jobs.seal(app)
    lena_id = user_id(app, LENA[0])

    request_id = ask_and_decide(app, lena, admin, "full")

    assert tables_holding(app, *LENA, "Something only Lena wrote") == set()
    with db(app) as s:
        erased = s.get(User, lena_id)
        assert erased is not None and erased.erased_at is not None and not erased.active
        assert s.exec(select(AuditSubject).where(AuditSubject.user_id == lena_id)).first() is None
        request = s.get(PrivacyRequest, request_id)
        assert request is not None and (request.status, request.scope) == ("done", "full")
        # The answers stay for item statistics, under nobody, without their trail.
        attempt = s.get(ExamAttempt, attempt_id)
        assert attempt is not None and attempt.user_id != lena_id
        assert s.exec(select(AttemptSlot).where(AttemptSlot.attempt_id == attempt_id)).all()
        assert not s.exec(select(AttemptEvent).where(AttemptEvent.attempt_id == attempt_id)).all()
        certificate = s.exec(select(Certificate).where(Certificate.code == code)).one()
        assert certificate.revoked_at is not None  # its status bit says revoked
    page = english_client(app).get(f"/verify/{code}")
    assert page.status_code == 410 and "No longer held" in page.get_data(as_text=True)
    assert english_client(app).get(f"/api/v1/credentials/{code}").status_code == 410
    assert english_client(app).get(f"/verify/{code}/pdf").status_code == 410
    # The sealed log verifies after the erasure, and after the erasure's own entries are sealed.
    assert audit_jobs.verify(app).holds
    audit_jobs.seal(app)
    assert audit_jobs.verify(app).holds
    # The erased person cannot sign in.
    assert login(english_client(app), LENA[0]).status_code == 401


def test_a_default_erasure_keeps_a_valid_certificate_verifiable_and_removes_everything_else(
    app: Flask, admin: FlaskClient
) -> None:
    kari = ("kari.gyldig@example.org", "Kari Gyldig")
    code = demo_code(app, kari[0])
    kari_id = user_id(app, kari[0])
    reflect(app, kari[0], "Kari's reflection.")
    token = csrf_token(admin, f"/admin/users/{kari_id}/close")
    response = admin.post(
        f"/admin/users/{kari_id}/close", data={"csrf_token": token, "scope": "default"}
    )
    assert response.status_code == 302
    # Only the certificate holds her name still: it is the certification body's record.
    assert tables_holding(app, *kari, "Kari's reflection") == {"certificate"}
    page = english_client(app).get(f"/verify/{code}")
    assert page.status_code == 200 and "Kari Gyldig" in page.get_data(as_text=True)
    assert english_client(app).get(f"/api/v1/credentials/{code}").status_code == 200
    with db(app) as s:
        certificate = s.exec(select(Certificate).where(Certificate.code == code)).one()
        assert certificate.revoked_at is None
        user = s.get(User, kari_id)
        assert user is not None and user.email.endswith("@erased.invalid") and user.name == ""


def test_a_default_erasure_withdraws_an_expired_certificate(app: Flask, admin: FlaskClient) -> None:
    eva = ("eva.utlopt@example.org", "Eva Utløpt")
    code = demo_code(app, eva[0])
    eva_id = user_id(app, eva[0])
    token = csrf_token(admin, f"/admin/users/{eva_id}/close")
    admin.post(f"/admin/users/{eva_id}/close", data={"csrf_token": token, "scope": "default"})
    assert tables_holding(app, *eva) == set()
    page = english_client(app).get(f"/verify/{code}")
    assert page.status_code == 410 and "Eva" not in page.get_data(as_text=True)


def test_the_audit_log_verifies_after_retention_prunes_behind_a_checkpoint(
    app: Flask, admin: FlaskClient, lena: FlaskClient
) -> None:
    audit_jobs.seal(app)
    ask_and_decide(app, lena, admin, "default")
    audit_jobs.seal(app)
    pruned = audit_jobs.prune(app, before=utcnow() + timedelta(days=1))
    assert pruned.deleted > 0
    check = audit_jobs.verify(app)
    assert check.holds and check.floor > 0


def test_erasure_requests_bad_input_is_refused_and_nothing_changes(
    app: Flask, lena: FlaskClient, admin: FlaskClient
) -> None:
    assert post(lena, "/account/privacy/erase", {"note": "Please."}).status_code == 302
    again = post(lena, "/account/privacy/erase", {"note": "Again."})
    assert again.status_code == 409 and "asked for erasure already" in again.get_data(as_text=True)
    with db(app) as s:
        [request] = s.exec(select(PrivacyRequest)).all()
    # A learner cannot decide, even on their own request (someone else's request id: the same).
    assert (
        post(lena, f"/admin/privacy/requests/{request.id}", {"decision": "full"}).status_code == 403
    )
    token = csrf_token(admin, "/admin/privacy")
    assert (
        admin.post(
            "/admin/privacy/requests/999999", data={"csrf_token": token, "decision": "full"}
        ).status_code
        == 404
    )
    forged = admin.post(
        f"/admin/privacy/requests/{request.id}",
        data={"csrf_token": token, "decision": "everything"},
    )
    assert forged.status_code == 302
    no_reason = admin.post(
        f"/admin/privacy/requests/{request.id}",
        data={"csrf_token": token, "decision": "reject", "reason": ""},
    )
    assert no_reason.status_code == 409
    lena_id = user_id(app, LENA[0])
    with db(app) as s:
        assert s.get(PrivacyRequest, request.id).status == "requested"  # type: ignore[union-attr]
        assert s.get(User, lena_id).erased_at is None  # type: ignore[union-attr]
    rejected = admin.post(
        f"/admin/privacy/requests/{request.id}",
        data={
            "csrf_token": token,
            "decision": "reject",
            "reason": "An open complaint needs the records.",
        },
    )
    assert rejected.status_code == 302
    twice = admin.post(
        f"/admin/privacy/requests/{request.id}", data={"csrf_token": token, "decision": "full"}
    )
    assert twice.status_code == 409
    mine = lena.get("/account/privacy").get_data(as_text=True)
    assert "An open complaint needs the records." in mine


def test_a_repeated_erasure_is_refused(app: Flask, admin: FlaskClient) -> None:
    lars_id = user_id(app, LARS[0])
    token = csrf_token(admin, f"/admin/users/{lars_id}/close")
    first = admin.post(f"/admin/users/{lars_id}/close", data={"csrf_token": token, "scope": "full"})
    assert first.status_code == 302
    with db(app) as s:
        before = s.get(User, lars_id).email  # type: ignore[union-attr]
    again = admin.post(f"/admin/users/{lars_id}/close", data={"csrf_token": token, "scope": "full"})
    assert again.status_code == 409 and "erased already" in again.get_data(as_text=True)
    with db(app) as s:
        assert s.get(User, lars_id).email == before  # type: ignore[union-attr]
    bad_scope = admin.post(
        f"/admin/users/{user_id(app, LENA[0])}/close", data={"csrf_token": token, "scope": "all"}
    )
    assert bad_scope.status_code == 400
    assert user_id(app, LENA[0])  # still there


def test_an_administrator_cannot_erase_themselves(app: Flask, admin: FlaskClient) -> None:
    me = user_id(app, "admin@example.org")
    token = csrf_token(admin, f"/admin/users/{me}/close")
    response = admin.post(f"/admin/users/{me}/close", data={"csrf_token": token, "scope": "full"})
    assert response.status_code == 409
    assert user_id(app, "admin@example.org") == me


def take_practice(app: Flask, client: FlaskClient) -> int:
    attempt_id = start(client, PRACTICE)
    for slot, spec in slots(app, attempt_id):
        post(client, f"/attempts/{attempt_id}/{slot.number}", right_answer(slot, spec))
    assert post(client, f"/attempts/{attempt_id}/submit").status_code == 302
    return attempt_id


def age(app: Flask, attempt_id: int, days: int) -> None:
    with db(app) as s:
        attempt = s.get(ExamAttempt, attempt_id)
        assert attempt is not None and attempt.submitted_at is not None
        attempt.submitted_at -= timedelta(days=days)
        s.add(attempt)
        s.commit()


def test_retention_removes_exactly_what_its_rules_say(app: Flask, lena: FlaskClient) -> None:
    old = take_practice(app, lena)
    with db(app) as s:  # a second, recent practice attempt (a pass cannot be retaken)
        row = s.get(ExamAttempt, old)
        assert row is not None
        copy = ExamAttempt(**{**row.model_dump(), "id": None})
        s.add(copy)
        s.flush()
        s.add(AttemptEvent(attempt_id=copy.id, at=utcnow(), kind="submitted"))
        s.commit()
        recent = copy.id
    age(app, old, 400)
    certified = pass_exam(app, lena)
    age(app, certified, 200)  # its trail (181+ days) goes, the attempt stays
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["privacy", "retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "practice_attempts: would delete 1" in dry.output
    with db(app) as s:
        assert s.get(ExamAttempt, old) is not None  # a dry run deletes nothing

    real = runner.invoke(args=["privacy", "retention"])
    assert real.exit_code == 0 and "practice_attempts: deleted 1" in real.output
    with db(app) as s:
        assert s.get(ExamAttempt, old) is None
        assert not s.exec(select(AttemptSlot).where(AttemptSlot.attempt_id == old)).all()
        assert s.get(ExamAttempt, recent) is not None
        assert s.get(ExamAttempt, certified) is not None
        assert not s.exec(select(AttemptEvent).where(AttemptEvent.attempt_id == certified)).all()
        assert s.exec(select(AttemptEvent).where(AttemptEvent.attempt_id == recent)).all()
        assert (
            s.exec(select(Certificate).where(Certificate.attempt_id == certified)).one().credential
        )
    again = runner.invoke(args=["privacy", "retention", "--dry-run"])
    assert "practice_attempts: would delete 0" in again.output
    assert "audit_entries: would delete 0" in again.output  # nothing is five years old


def test_retention_prunes_the_audit_log_behind_a_checkpoint_and_it_still_verifies(
    app: Flask,
) -> None:
    audit_jobs.seal(app)
    with db(app) as s:  # the demo's entries made ten years ago
        s.execute(text("UPDATE audit_entry SET at = :t"), {"t": utcnow() - timedelta(days=3650)})
        s.commit()
    audit_jobs.seal(app)
    dry = app.test_cli_runner().invoke(args=["privacy", "retention", "--dry-run"])
    assert "audit_entries: would delete 0" not in dry.output
    real = app.test_cli_runner().invoke(args=["privacy", "retention"])
    assert real.exit_code == 0 and "audit_entries: deleted 0" not in real.output
    check = audit_jobs.verify(app)
    assert check.holds and check.floor > 0


def test_an_expired_certificate_is_withdrawn_after_its_period(app: Flask) -> None:
    app.config["RETENTION"] = {"certification_after_expiry": 30}
    code = demo_code(app, "eva.utlopt@example.org")  # expired a year ago
    result = app.test_cli_runner().invoke(args=["privacy", "retention"])
    assert "certification_after_expiry: deleted 1" in result.output
    assert english_client(app).get(f"/verify/{code}").status_code == 410
    valid = demo_code(app, "kari.gyldig@example.org")
    assert english_client(app).get(f"/verify/{valid}").status_code == 200


def test_wrong_retention_settings_are_named(app: Flask) -> None:
    app.config["RETENTION"] = {"practice_attempts": 0}
    result = app.test_cli_runner().invoke(args=["privacy", "retention", "--dry-run"])
    assert result.exit_code != 0 and "RETENTION['practice_attempts']" in str(result.exception)


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "Practice exam attempts"), ("nb", "Øvingsforsøk"), ("da", "Øveforsøg")],
)
def test_the_privacy_notice_follows_the_configured_rules_in_each_language(
    app: Flask, lang: str, words: str
) -> None:
    app.config["RETENTION"] = {"practice_attempts": 90}
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    page = client.get("/privacy").get_data(as_text=True)
    assert words in page and "90" in page


def test_the_anonymous_holder_of_erased_attempts_is_nobody_to_export(
    app: Flask, admin: FlaskClient, lena: FlaskClient
) -> None:
    pass_exam(app, lena)
    ask_and_decide(app, lena, admin, "default")
    with db(app) as s:
        nobody = s.exec(select(User.id).where(User.email == privacy.ANONYMOUS_EMAIL)).one()
    assert admin.get(f"/admin/users/{nobody}/privacy/export.json").status_code == 404
