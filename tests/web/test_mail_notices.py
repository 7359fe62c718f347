"""What elearn e-mails about: a certificate issued (PDF attached), a sign-off refused, a
certificate nearing expiry, assignments set, due soon and overdue; each reminder once."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlmodel import Session, select

from elearn.clock import utcnow
from elearn.db import engine_of, open_session
from elearn.models import Assignment, Certificate, CourseProgress, User
from elearn.services import notices
from tests.conftest import COURSE, post
from tests.mailbox import link_in, messages
from tests.web.test_certificates import certificate_of, pass_exam
from tests.web.test_separation_of_duties import needs_sign_off, signed_in

LENA = "learner@example.org"
KARI = "kari.gyldig@example.org"


def test_a_pass_mails_the_certificate_with_its_pdf(app: Flask) -> None:
    attempt_id = pass_exam(app, signed_in(app, LENA))
    certificate = certificate_of(app, attempt_id)
    assert certificate is not None
    [row] = messages(app, to=LENA, template="certificate_issued")
    assert row.dedupe_key == f"certificate-issued:{certificate.code}"
    assert certificate.code in row.body_text
    assert link_in(row, "/verify/") == f"/verify/{certificate.code}"
    assert "godkjent" not in row.body_text  # no sign-off: no approval to speak of
    with open_session(app) as session:
        from elearn.services.mail import attachments_of

        [pdf] = attachments_of(session=session, message_id=row.id or 0)
    assert pdf.filename == f"certificate-{certificate.code}.pdf" and pdf.data == certificate.pdf


def test_a_sign_off_decision_is_mailed_either_way(app: Flask) -> None:
    needs_sign_off(app)
    certifier = signed_in(app, "certifier@example.org")
    approved = pass_exam(app, signed_in(app, LENA))
    assert messages(app, to=LENA) == []  # waiting for the sign-off: nothing yet
    post(certifier, f"/certify/reviews/{approved}", {"decision": "approve", "comment": "fine"})
    [row] = messages(app, to=LENA)
    assert row.template == "certificate_issued"
    assert "En sertifiserer har godkjent resultatet ditt." in row.body_text  # nb: her language
    complete_course(app, KARI, COURSE)  # the exam asks for the course first
    refused = pass_exam(app, signed_in(app, KARI))
    post(
        certifier,
        f"/certify/reviews/{refused}",
        {"decision": "reject", "comment": "Answers copied <b>word for word</b>."},
    )
    [row] = messages(app, to=KARI)
    assert row.template == "signoff_rejected" and row.lang == "nb"
    assert "Answers copied <b>word for word</b>." in row.body_text
    assert "Answers copied &lt;b&gt;word for word&lt;/b&gt;." in row.body_html
    assert certificate_of(app, refused) is None


def test_a_certificate_nearing_expiry_is_mailed_once_with_the_exam_link(app: Flask) -> None:
    now = utcnow()
    with open_session(app) as session:
        assert notices.certificate_expiry_reminders(session=session, now=now) == 0
        # Kari's certificate runs out in 89 days: inside the 90-day warning.
        kari = session.exec(select(User).where(User.email == KARI)).one()
        certificate = session.exec(select(Certificate).where(Certificate.user_id == kari.id)).one()
        certificate.valid_until = now + timedelta(days=89)
        code, exam_id = certificate.code, certificate.exam_id
        session.add(certificate)
        session.commit()
        assert notices.certificate_expiry_reminders(session=session, now=now) == 1
        assert notices.certificate_expiry_reminders(session=session, now=now) == 0
        session.commit()
    [row] = messages(app, to=KARI)
    assert row.template == "certificate_expiring" and code in row.body_text
    assert link_in(row, "/exams/") == f"/exams/{exam_id}"


def test_a_renewed_or_revoked_certificate_gets_no_expiry_reminder(app: Flask) -> None:
    now = utcnow()
    with open_session(app) as session:
        kari = session.exec(select(User).where(User.email == KARI)).one()
        old = session.exec(select(Certificate).where(Certificate.user_id == kari.id)).one()
        old.valid_until = now + timedelta(days=10)
        old.revoked_at = now
        session.add(old)
        session.commit()
        assert notices.certificate_expiry_reminders(session=session, now=now) == 0


def complete_course(app: Flask, email: str, course_id: str) -> None:
    with Session(engine_of(app)) as s:
        user_id = s.exec(select(User.id).where(User.email == email)).one()
        row = s.exec(
            select(CourseProgress).where(
                CourseProgress.user_id == user_id, CourseProgress.course_id == course_id
            )
        ).first() or CourseProgress(user_id=user_id, course_id=course_id, started_at=utcnow())
        row.completed_at = utcnow()
        s.add(row)
        s.commit()


def test_assignments_are_mailed_when_set_due_soon_and_overdue_each_once(app: Flask) -> None:
    with Session(engine_of(app)) as s:
        [assignment] = s.exec(select(Assignment)).all()  # the demo's: the course, in 30 days
    complete_course(app, KARI, assignment.target_id)  # done: hears nothing
    now = utcnow()

    def run(at: object) -> int:
        with open_session(app) as session:
            count = notices.assignment_reminders(session=session, now=at)  # type: ignore[arg-type]
            session.commit()
            return count

    set_count = run(now)
    assert set_count >= 2 and run(now) == 0
    lena = messages(app, to=LENA)
    assert [m.template for m in lena] == ["assignment_assigned"]
    assert link_in(lena[0], "/courses/") == f"/courses/{assignment.target_id}"
    assert messages(app, to=KARI) == []
    assert run(assignment.due_at - timedelta(days=6)) == set_count
    assert run(assignment.due_at + timedelta(days=1)) == set_count
    assert run(assignment.due_at + timedelta(days=2)) == 0
    assert [m.template for m in messages(app, to=LENA)] == [
        "assignment_assigned",
        "assignment_due_soon",
        "assignment_overdue",
    ]
    # Long overdue: no more reminders about it.
    assert run(assignment.due_at + timedelta(days=60)) == 0


def test_an_assignment_message_is_in_the_persons_language(app: Flask) -> None:
    with Session(engine_of(app)) as s:
        lena = s.exec(select(User).where(User.email == LENA)).one()
        lena.locale = "da"
        s.add(lena)
        s.commit()
    with open_session(app) as session:
        notices.assignment_reminders(session=session, now=utcnow())
        session.commit()
    [row] = messages(app, to=LENA)
    assert row.lang == "da" and "Hej Lena" in row.body_text
    others = [m for m in messages(app) if m.to_address != LENA]
    assert others and all(m.lang == "nb" for m in others)
