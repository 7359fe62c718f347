"""The e-mails elearn writes about learning and certificates, and the reminders the sender queues.

Messages that follow an event (a certificate issued, a sign-off decision) are queued in the
event's transaction. Reminders (assignments due and overdue, certificates nearing expiry) are
reminder sources: ``mail send`` calls them each pass and each message names its cause in a
``dedupe_key``, so a reminder is queued once however often they run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from elearn.domain.localize import pick
from elearn.models import (
    Certificate,
    Exam,
    ExamAttempt,
    ExamVersion,
    User,
)
from elearn.services import mail


def _title(texts: Mapping[str, str], lang: str) -> str:
    return pick(texts, lang, next(iter(texts))).value if texts else ""


def _exam_title(session: Session, exam_id: str, lang: str) -> str:
    exam = session.get(Exam, exam_id)
    version = session.get(ExamVersion, exam.current_version_id) if exam else None
    return _title(version.spec.get("title", {}), lang) if version else exam_id


# --- after an event ------------------------------------------------------------------------------


def certificate_issued(
    *, session: Session, certificate: Certificate, attempt: ExamAttempt | None, now: datetime
) -> None:
    """Tell the holder, with the signed PDF attached; after a sign-off, say it was approved."""
    user = session.get(User, certificate.user_id)
    if user is None or not user.active:
        return
    lang = mail.language_of(session=session, user=user)
    files = []
    if certificate.pdf:
        files.append(
            mail.Attachment(
                f"certificate-{certificate.code}.pdf", "application/pdf", certificate.pdf
            )
        )
    mail.queue_mail(
        session,
        to=user.email,
        template="certificate_issued",
        lang=lang,
        context={
            "name": user.name,
            "exam": _exam_title(session, certificate.exam_id, lang),
            "code": certificate.code,
            "valid_until": certificate.valid_until,
            "approved": attempt is not None and attempt.review_decision == "approved",
            "verify_url": mail.public_link(
                session=session, endpoint="certificates.verify", code=certificate.code
            ),
            "mine_url": mail.public_link(session=session, endpoint="certificates.mine"),
        },
        attachments=files,
        dedupe_key=f"certificate-issued:{certificate.code}",
        now=now,
    )


def sign_off_rejected(*, session: Session, attempt: ExamAttempt, now: datetime) -> None:
    """Tell the candidate a certifier did not approve the pass, with the certifier's comment."""
    user = session.get(User, attempt.user_id)
    if user is None or not user.active:
        return
    lang = mail.language_of(session=session, user=user)
    mail.queue_mail(
        session,
        to=user.email,
        template="signoff_rejected",
        lang=lang,
        context={
            "name": user.name,
            "exam": _exam_title(session, attempt.exam_id, lang),
            "comment": attempt.review_comment or "",
            "exams_url": mail.public_link(session=session, endpoint="exam.index"),
        },
        dedupe_key=f"signoff-rejected:{attempt.id}",
        now=now,
    )


# --- reminder sources ----------------------------------------------------------------------------


def certificate_expiry_reminders(*, session: Session, now: datetime) -> int:
    """Holders of a certificate that runs out within the warning period (and was not renewed)
    get one message, with the link to take the exam again."""
    days = int(mail.setting(session=session, name="CERTIFICATE_EXPIRY_WARNING_DAYS"))
    soon = session.exec(
        select(Certificate, User)
        .join(User, col(User.id) == col(Certificate.user_id))
        .where(
            col(Certificate.revoked_at).is_(None),
            col(Certificate.valid_until) > now,
            col(Certificate.valid_until) <= now + timedelta(days=days),
            col(User.active).is_(True),
        )
        .order_by(col(Certificate.id))
    ).all()
    queued = 0
    for certificate, user in soon:
        key = f"certificate-expiring:{certificate.code}"
        if mail.already_queued(session=session, dedupe_key=key):
            continue
        renewed = session.exec(
            select(Certificate.id).where(
                Certificate.user_id == certificate.user_id,
                Certificate.exam_id == certificate.exam_id,
                col(Certificate.revoked_at).is_(None),
                col(Certificate.issued_at) > certificate.issued_at,
            )
        ).first()
        if renewed is not None:
            continue
        lang = mail.language_of(session=session, user=user)
        row = mail.queue_mail(
            session,
            to=user.email,
            template="certificate_expiring",
            lang=lang,
            context={
                "name": user.name,
                "exam": _exam_title(session, certificate.exam_id, lang),
                "code": certificate.code,
                "valid_until": certificate.valid_until,
                "exam_url": mail.public_link(
                    session=session, endpoint="exam.start_page", exam_id=certificate.exam_id
                ),
            },
            dedupe_key=key,
            now=now,
        )
        queued += row is not None
    return queued


def _expiry_source(session: Session, now: datetime) -> int:
    return certificate_expiry_reminders(session=session, now=now)


mail.register_reminder_source(_expiry_source)
