"""Reminders about assignments: everyone an assignment applies to who has not completed it
hears when it is set, a week before it is due, and when it is overdue. A reminder source of the
mail sender (registered when this module is imported, at app start: ``elearn.create_app``).

Apart from ``notices`` (which the certificates import to queue their messages): this reads the
completion reports, which read the exams, which issue certificates.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from elearn.models import Assignment, MailMessage, User
from elearn.services import mail, reports

# A reminder this many days before the due date; no reminders about assignments overdue for
# longer than OVERDUE_FOR (nobody is nagged about last year's course for ever).
DUE_SOON = timedelta(days=7)
OVERDUE_FOR = timedelta(days=30)


def assignment_reminders(*, session: Session, now: datetime) -> int:
    """Everyone an assignment applies to who has not completed it hears once when it is set,
    again a week before it is due, and once when it is overdue (its due date in the key: a due
    date moved later starts again)."""
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


def _assignment_source(session: Session, now: datetime) -> int:
    return assignment_reminders(session=session, now=now)


mail.register_reminder_source(_assignment_source)
