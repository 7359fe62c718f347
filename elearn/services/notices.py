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
    Assignment,
    Certificate,
    Exam,
    ExamAttempt,
    ExamVersion,
    MailMessage,
    User,
)
from elearn.services import mail

# Assignments: a reminder this many days before the due date; no reminders about assignments
# overdue for longer than OVERDUE_FOR (nobody is nagged about last year's course for ever).
DUE_SOON = timedelta(days=7)
OVERDUE_FOR = timedelta(days=30)


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


def assignment_reminders(*, session: Session, now: datetime) -> int:
    """Everyone an assignment applies to who has not completed it hears once when it is set,
    again a week before it is due, and once when it is overdue (its due date in the key: a due
    date moved later starts again)."""
    from elearn.services import reports  # it imports the certificates, which import this

    live = list(
        session.exec(
            select(Assignment)
            .where(col(Assignment.due_at) > now - OVERDUE_FOR)
            .order_by(col(Assignment.id))
        ).all()
    )
    if not live:
        return 0
    tree = reports.load_tree(session=session)
    queued = 0
    titles: dict[tuple[str, str, str], str] = {}
    for assignment in live:
        units = tree.subtree(assignment.unit_id)
        facts = reports.read_facts(session=session, unit_ids=units)
        try:
            target = reports.find_target(
                session=session, kind=assignment.kind, target_id=assignment.target_id, lang="nb"
            )
        except Exception:
            continue
        statuses = reports.staff_statuses(
            facts=facts, tree=tree, target=target, now=now, warn_days=0
        )
        # The reminders about this target queued before, in one query (not one per person).
        prefix = f"assignment:{target.kind}:{target.id}:"
        done = set(
            session.exec(
                select(MailMessage.dedupe_key).where(
                    col(MailMessage.dedupe_key).startswith(prefix, autoescape=True)
                )
            ).all()
        )
        due_now: list[tuple[int, str, datetime, str]] = []  # person, stage, due date, key
        for status in statuses:
            if status.state == "completed" or status.due_at is None:
                continue
            due = status.due_at
            stage = "overdue" if now > due else "due-soon" if due - now <= DUE_SOON else "assigned"
            key = f"{prefix}{status.user_id}:{stage}:{due:%Y-%m-%d}"
            if key not in done:
                due_now.append((status.user_id, stage, due, key))
        users: dict[int | None, User] = {}
        ids = [entry[0] for entry in due_now]
        for start in range(0, len(ids), 500):  # SQLite takes at most 32,766 parameters
            chunk = ids[start : start + 500]
            users.update(
                (u.id, u) for u in session.exec(select(User).where(col(User.id).in_(chunk)))
            )
        for user_id, stage, due, key in due_now:
            user = users.get(user_id)
            if user is None:
                continue
            lang = mail.language_of(session=session, user=user)
            title_key = (target.kind, target.id, lang)
            if title_key not in titles:
                titles[title_key] = reports.find_target(
                    session=session, kind=target.kind, target_id=target.id, lang=lang
                ).title
            endpoint, values = (
                ("learn.course", {"course_id": target.id})
                if target.kind == "course"
                else ("exam.start_page", {"exam_id": target.id})
            )
            row = mail.queue_mail(
                session,
                to=user.email,
                template=f"assignment_{stage.replace('-', '_')}",
                lang=lang,
                context={
                    "name": user.name,
                    "kind": target.kind,
                    "title": titles[title_key],
                    "due_at": due,
                    "url": mail.public_link(session=session, endpoint=endpoint, **values),
                },
                dedupe_key=key,
                now=now,
            )
            queued += row is not None
    return queued


def _expiry_source(session: Session, now: datetime) -> int:
    return certificate_expiry_reminders(session=session, now=now)


def _assignment_source(session: Session, now: datetime) -> int:
    return assignment_reminders(session=session, now=now)


mail.register_reminder_source(_expiry_source)
mail.register_reminder_source(_assignment_source)
