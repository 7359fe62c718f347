"""Scheduled sittings: book candidates, draw their forms ahead, start each with one small write.

A sitting's forms are drawn when it is scheduled (and when candidates are added, and by
``flask sittings prepare``), with the same draw as a normal start: least-exposed first, enemy
groups apart, items the candidate saw avoided. Each drawn form is an attempt row that is
``waiting``: nothing of it can be seen or saved until the candidate starts it. Its deadline
counts from the sitting's start, so starting late does not lengthen the time.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from elearn.domain.assembly import NotEnoughItems, assemble
from elearn.domain.eligibility import deadline
from elearn.domain.errors import N_, Conflict, InvalidAnswer, NotFound
from elearn.models import ExamAttempt, Sitting, SittingCandidate, User, UserRole
from elearn.services import audit
from elearn.services.attempts import NO_CLIENT, Client, record_event
from elearn.services.certificates import Authority
from elearn.services.exams import (
    REFUSALS,
    _pool,
    extra_time,
    learner_status,
    load_exam,
    store_form,
)
from elearn.services.reports import load_tree

ONLINE = "online"
SCHEDULERS = ("certifier", "admin")


@dataclass(frozen=True)
class Booking:
    sitting: Sitting
    candidate: SittingCandidate
    attempt: ExamAttempt | None

    def opens_in(self, now: datetime) -> int:
        """Whole seconds until the start (0 once it has come)."""
        return max(0, int((self.sitting.starts_at - now).total_seconds() + 0.999))

    def late_until(self) -> datetime:
        return self.sitting.starts_at + timedelta(minutes=self.sitting.late_minutes)


@dataclass(frozen=True)
class Scheduled:
    sitting: Sitting
    unknown: list[str]  # e-mails listed that name nobody (the sitting is not made)


# --- scheduling --------------------------------------------------------------------------------


def _candidates_of(
    session: Session, emails: list[str], unit_id: int | None
) -> tuple[list[User], list[str]]:
    """The people named by e-mail or by unit (with its sub-units), and the e-mails unknown."""
    wanted = sorted({e.strip().lower() for e in emails if e.strip()})
    found: dict[int, User] = {}
    unknown: list[str] = []
    if wanted:
        rows = {
            u.email.lower(): u
            for u in session.exec(select(User).where(col(User.email).in_(wanted)))
        }
        unknown = [e for e in wanted if e not in rows]
        found.update({u.id: u for u in rows.values() if u.id is not None})
    if unit_id is not None:
        tree = load_tree(session=session)
        if unit_id not in tree.units:
            raise NotFound(N_("There is no such unit."))
        for user in session.exec(
            select(User).where(col(User.org_unit_id).in_(tree.subtree(unit_id)), User.active)
        ):
            assert user.id is not None
            found[user.id] = user
    return sorted(found.values(), key=lambda u: u.email), unknown


def schedule(
    *,
    session: Session,
    authority: Authority,
    exam_id: str,
    starts_at: datetime,
    late_minutes: int,
    place: str,
    invigilator_email: str,
    emails: list[str],
    unit_id: int | None,
    created_by: int,
    now: datetime,
) -> Scheduled:
    """Schedule a sitting and draw every candidate's form. Unknown e-mails are listed back and
    nothing is made, so that a typo does not leave someone out unnoticed."""
    view = load_exam(session=session, exam_id=exam_id)
    if starts_at <= now:
        raise InvalidAnswer(N_("A sitting must start in the future."))
    if not 0 <= late_minutes <= 24 * 60:
        raise InvalidAnswer(N_("Late arrival must be between 0 and 1,440 minutes."))
    place = place.strip()
    if not place:
        raise InvalidAnswer(N_("Give a place, or \u201conline\u201d."))
    invigilator = session.exec(
        select(User).where(User.email == invigilator_email.strip().lower())
    ).first()
    if invigilator is None or invigilator.id is None or not invigilator.active:
        raise InvalidAnswer(N_("There is no user with the invigilator's e-mail."))
    people, unknown = _candidates_of(session, emails, unit_id)
    if unknown:
        return Scheduled(
            Sitting(
                exam_id=exam_id,
                starts_at=starts_at,
                place=place,
                invigilator_id=invigilator.id,
                created_by_id=created_by,
                created_at=now,
            ),
            unknown,
        )
    if invigilator.email.lower() in {e.strip().lower() for e in emails}:
        raise InvalidAnswer(N_("The invigilator cannot be a candidate of the same sitting."))
    people = [p for p in people if p.id != invigilator.id]  # a unit's member who invigilates
    if not people:
        raise InvalidAnswer(N_("Name the candidates by e-mail or by unit."))
    sitting = Sitting(
        exam_id=view.exam.id,
        starts_at=starts_at,
        late_minutes=late_minutes,
        place=place,
        invigilator_id=invigilator.id,
        created_by_id=created_by,
        created_at=now,
    )
    session.add(sitting)
    session.flush()
    assert sitting.id is not None
    for person in people:
        session.add(SittingCandidate(sitting_id=sitting.id, user_id=person.id or 0))
    audit.record(
        session=session,
        action="sitting.scheduled",
        subject=f"sitting:{sitting.id}",
        now=now,
        actor_id=created_by,
        data={"exam": exam_id, "starts_at": starts_at.isoformat(), "candidates": len(people)},
    )
    session.flush()
    prepare(session=session, authority=authority, sitting=sitting, now=now)
    return Scheduled(sitting, [])


def add_candidates(
    *,
    session: Session,
    authority: Authority,
    sitting_id: int,
    emails: list[str],
    actor_id: int,
    now: datetime,
) -> list[str]:
    """Book more candidates (their forms are drawn at once); returns the unknown e-mails."""
    sitting = get(session=session, sitting_id=sitting_id)
    if sitting.starts_at <= now:
        raise Conflict(N_("The sitting has started; no one can be added now."))
    people, unknown = _candidates_of(session, emails, None)
    if unknown:
        return unknown
    booked = set(
        session.exec(
            select(SittingCandidate.user_id).where(SittingCandidate.sitting_id == sitting_id)
        )
    )
    for person in people:
        if person.id == sitting.invigilator_id:
            raise InvalidAnswer(N_("The invigilator cannot be a candidate of the same sitting."))
        if person.id not in booked:
            session.add(SittingCandidate(sitting_id=sitting_id, user_id=person.id or 0))
    session.flush()
    prepare(session=session, authority=authority, sitting=sitting, now=now)
    return []


# --- drawing ahead ------------------------------------------------------------------------------


def prepare(*, session: Session, authority: Authority, sitting: Sitting, now: datetime) -> int:
    """Draw a form for every booked candidate who has none yet; returns how many were drawn."""
    assert sitting.id is not None
    view = load_exam(session=session, exam_id=sitting.exam_id)
    drawn = 0
    pending = session.exec(
        select(SittingCandidate).where(
            SittingCandidate.sitting_id == sitting.id, col(SittingCandidate.attempt_id).is_(None)
        )
    ).all()
    for booking in pending:
        status = learner_status(
            session=session, authority=authority, user_id=booking.user_id, view=view, now=now
        )
        if status.in_progress is not None:
            booking.problem = N_("An attempt at this exam is in progress.")
            continue
        if not status.eligibility.allowed:
            assert status.eligibility.refusal is not None
            booking.problem = REFUSALS[status.eligibility.refusal]
            continue
        seed = secrets.randbits(63)
        try:
            form = assemble(
                view.spec.blueprint,
                _pool(session, view, booking.user_id),
                random.Random(seed),
                tolerance=view.spec.difficulty_tolerance,
            )
        except NotEnoughItems:
            booking.problem = N_("The exam cannot be drawn now; please tell the administrator.")
            continue
        extra = extra_time(session=session, user_id=booking.user_id, exam_id=view.exam.id)
        user = session.get(User, booking.user_id)
        lang = user.locale if user is not None and user.locale else ""
        attempt = ExamAttempt(
            user_id=booking.user_id,
            exam_id=view.exam.id,
            exam_version_id=view.version.id or 0,
            language=lang if lang in view.bank.languages else view.bank.languages[0],
            seed=str(seed),
            fingerprint=form.fingerprint,
            expected_score=form.expected_score,
            # Until it is started: the sitting's start. The deadline counts from it for good.
            started_at=sitting.starts_at,
            deadline_at=deadline(
                sitting.starts_at,
                view.spec.time_limit_minutes,
                extra.minutes if extra else 0,
                extra.percent if extra else 0,
            ),
            waiting=True,
        )
        session.add(attempt)
        session.flush()
        assert attempt.id is not None
        store_form(session=session, attempt_id=attempt.id, form=form)
        booking.attempt_id, booking.problem = attempt.id, None
        audit.record(
            session=session,
            action="attempt.drawn",
            subject=f"attempt:{attempt.id}",
            now=now,
            actor_id=None,
            data={
                "exam": view.exam.id,
                "fingerprint": form.fingerprint,
                "seed": str(seed),
                "sitting": sitting.id,
            },
        )
        drawn += 1
    session.flush()
    return drawn


def prepare_due(*, session: Session, authority: Authority, now: datetime) -> int:
    """Draw the missing forms of every sitting still to start (for cron and the CLI)."""
    return sum(
        prepare(session=session, authority=authority, sitting=s, now=now)
        for s in session.exec(select(Sitting).where(Sitting.starts_at > now))
    )


# --- reading ------------------------------------------------------------------------------------


def get(*, session: Session, sitting_id: int) -> Sitting:
    sitting = session.get(Sitting, sitting_id)
    if sitting is None:
        raise NotFound(N_("There is no such sitting."))
    return sitting


def listing(*, session: Session, limit: int = 200) -> list[tuple[Sitting, int]]:
    """The newest sittings with their number of candidates."""
    sittings = session.exec(
        select(Sitting).order_by(col(Sitting.starts_at).desc()).limit(limit)
    ).all()
    counts: dict[int, int] = {}
    for sid in session.exec(
        select(SittingCandidate.sitting_id).where(
            col(SittingCandidate.sitting_id).in_([s.id for s in sittings])
        )
    ):
        counts[sid] = counts.get(sid, 0) + 1
    return [(s, counts.get(s.id or 0, 0)) for s in sittings]


@dataclass(frozen=True)
class CandidateRow:
    user: User
    candidate: SittingCandidate
    attempt: ExamAttempt | None

    @property
    def state(self) -> str:
        if self.attempt is None:
            return "not drawn"
        if self.attempt.submitted_at is not None:
            return "absent" if self.attempt.closed_by == "absent" else "submitted"
        return "waiting" if self.attempt.waiting else "started"


def candidates(*, session: Session, sitting_id: int) -> list[CandidateRow]:
    rows = session.exec(
        select(SittingCandidate, User, ExamAttempt)
        .join(User, col(User.id) == col(SittingCandidate.user_id))
        .join(ExamAttempt, col(ExamAttempt.id) == col(SittingCandidate.attempt_id), isouter=True)
        .where(SittingCandidate.sitting_id == sitting_id)
        .order_by(col(User.email))
    ).all()
    return [CandidateRow(user, cand, attempt) for cand, user, attempt in rows]


def bookings_of(*, session: Session, user_id: int, now: datetime) -> list[Booking]:
    """The candidate's sittings still ahead or open for late arrival, soonest first."""
    rows = session.exec(
        select(Sitting, SittingCandidate, ExamAttempt)
        .join(SittingCandidate, col(SittingCandidate.sitting_id) == col(Sitting.id))
        .join(ExamAttempt, col(ExamAttempt.id) == col(SittingCandidate.attempt_id), isouter=True)
        .where(SittingCandidate.user_id == user_id)
        .order_by(col(Sitting.starts_at))
    ).all()
    out = [Booking(s, c, a) for s, c, a in rows]
    return [
        b
        for b in out
        if b.late_until() > now
        or (b.attempt and b.attempt.waiting is False and b.attempt.submitted_at is None)
    ]


def booking(*, session: Session, sitting_id: int, user_id: int) -> Booking:
    """The candidate's booking for a sitting; anyone not booked gets "not found"."""
    row = session.exec(
        select(Sitting, SittingCandidate, ExamAttempt)
        .join(SittingCandidate, col(SittingCandidate.sitting_id) == col(Sitting.id))
        .join(ExamAttempt, col(ExamAttempt.id) == col(SittingCandidate.attempt_id), isouter=True)
        .where(Sitting.id == sitting_id, SittingCandidate.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound(N_("There is no such sitting."))
    return Booking(*row)


def booked_in_units(
    *, session: Session, unit_ids: set[int], now: datetime
) -> list[tuple[Sitting, User]]:
    """Who in these units is booked for a sitting still to come (for the manager's page)."""
    return [
        (s, u)
        for s, u in session.exec(
            select(Sitting, User)
            .join(SittingCandidate, col(SittingCandidate.sitting_id) == col(Sitting.id))
            .join(User, col(User.id) == col(SittingCandidate.user_id))
            .where(col(User.org_unit_id).in_(unit_ids), Sitting.starts_at > now - timedelta(days=1))
            .order_by(col(Sitting.starts_at), col(User.email))
        )
    ]


def is_scheduler(*, session: Session, user_id: int) -> bool:
    return (
        session.exec(
            select(UserRole).where(UserRole.user_id == user_id, col(UserRole.role).in_(SCHEDULERS))
        ).first()
        is not None
    )


# --- starting -----------------------------------------------------------------------------------


def start_booked(
    *,
    session: Session,
    sitting_id: int,
    user_id: int,
    now: datetime,
    client: Client = NO_CLIENT,
) -> ExamAttempt:
    """Start the candidate's drawn form: one read, one update, its trail. No form is drawn.
    Before the start it is refused; after the late window too. A second start (a double click)
    returns the attempt already started."""
    found = booking(session=session, sitting_id=sitting_id, user_id=user_id)
    attempt = found.attempt
    if attempt is None:
        raise Conflict(N_("No form was drawn for you for this sitting; ask the invigilator."))
    if not attempt.waiting:
        return attempt
    if now < found.sitting.starts_at:
        raise Conflict(N_("The sitting has not started yet."))
    if now >= found.late_until():
        raise Conflict(
            N_("The time for late arrival at this sitting is over; ask the invigilator.")
        )
    # Only the request that flips it from waiting goes on: a racing double click updates nothing.
    updated = session.execute(
        ExamAttempt.__table__.update()  # type: ignore[attr-defined]
        .where(col(ExamAttempt.id) == attempt.id, col(ExamAttempt.waiting).is_(True))
        .values(waiting=False, started_at=now)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.refresh(attempt)
        return attempt
    set_committed_value(attempt, "waiting", False)  # written above: no second UPDATE
    set_committed_value(attempt, "started_at", now)
    assert attempt.id is not None
    record_event(session=session, attempt_id=attempt.id, kind="started", now=now, client=client)
    audit.record(
        session=session,
        action="attempt.started",
        subject=f"attempt:{attempt.id}",
        now=now,
        actor_id=user_id,
        data={"exam": attempt.exam_id, "sitting": sitting_id, "fingerprint": attempt.fingerprint},
    )
    return attempt
