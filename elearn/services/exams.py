"""Exams: who may start, drawing the form, saving answers, closing at the deadline, scoring.

The server's clock is the only clock: every call takes ``now``, and an attempt past its deadline
accepts nothing more and is submitted and scored by whichever request first notices.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from elearn.domain import duties
from elearn.domain.assembly import Form, NotEnoughItems, PoolItem, assemble
from elearn.domain.content import BankSpec, ExamSpec, ItemSpec
from elearn.domain.credentials import certificate_state
from elearn.domain.eligibility import Eligibility, PastAttempt, Refusal, deadline, eligibility
from elearn.domain.errors import (
    N_,
    AttemptClosed,
    Conflict,
    IncompleteAnswer,
    InvalidAnswer,
    NotEligible,
    NotFound,
)
from elearn.domain.itemtypes import IncompleteResponse, InvalidResponse, RawAnswer, read_answer
from elearn.domain.scoring import Answered, score_attempt
from elearn.models import (
    AttemptSlot,
    Bank,
    Certificate,
    CourseProgress,
    Exam,
    ExamAttempt,
    ExamVersion,
    ExtraTime,
    Item,
    ItemExposure,
    ItemPanelRating,
    ItemVersion,
    User,
)
from elearn.services import audit, certificates, xapi
from elearn.services.attempts import (
    NO_CLIENT,
    Client,
    cached,
    exam_spec,
    record_event,
    record_events,
)
from elearn.services.certificates import Authority

REFUSALS = {
    Refusal.COURSE_NOT_COMPLETE: N_("Complete the course this exam requires first."),
    Refusal.NOT_OPEN_YET: N_("The exam is not open yet."),
    Refusal.CLOSED: N_("The exam is closed."),
    Refusal.NO_ATTEMPTS_LEFT: N_("You have used all your attempts at this exam."),
    Refusal.COOLDOWN: N_("You must wait before your next attempt."),
    Refusal.ALREADY_PASSED: N_("You have passed this exam already."),
}


@dataclass(frozen=True)
class ExamView:
    exam: Exam
    version: ExamVersion
    spec: ExamSpec
    bank: BankSpec

    @property
    def items(self) -> int:
        return sum(entry.items for entry in self.spec.blueprint)


@dataclass(frozen=True)
class LearnerStatus:
    eligibility: Eligibility
    in_progress: ExamAttempt | None
    attempts: list[ExamAttempt]


# --- exams and eligibility ---------------------------------------------------------------------


def load_exam(*, session: Session, exam_id: str) -> ExamView:
    """The exam with its current version and bank, in one statement; the parsed specs are kept
    per process (a version never changes; a bank is keyed by its content hash)."""
    found = session.exec(
        select(Exam, ExamVersion, Bank)
        .join(ExamVersion, col(ExamVersion.id) == col(Exam.current_version_id))
        .join(Bank, col(Bank.id) == col(Exam.bank_id))
        .where(Exam.id == exam_id, col(Exam.active))
    ).first()
    if found is None:
        raise NotFound(N_("There is no such exam."))
    exam, version, bank = found
    return ExamView(
        exam,
        version,
        cached(
            session=session,
            key=("exam_version", version.id),
            make=lambda: ExamSpec.model_validate(version.spec),
        ),
        cached(
            session=session,
            key=("bank", bank.id, bank.content_hash),
            make=lambda: BankSpec.model_validate(bank.spec),
        ),
    )


def active_exams(*, session: Session) -> list[ExamView]:
    ids = session.exec(select(Exam.id).where(Exam.active).order_by(col(Exam.id))).all()
    return [load_exam(session=session, exam_id=exam_id) for exam_id in ids]


def attempts_of(*, session: Session, user_id: int, exam_id: str) -> list[ExamAttempt]:
    return list(
        session.exec(
            select(ExamAttempt)
            .where(ExamAttempt.user_id == user_id, ExamAttempt.exam_id == exam_id)
            .order_by(col(ExamAttempt.started_at))
        )
    )


def _course_complete(session: Session, user_id: int, course_id: str | None) -> bool:
    if course_id is None:
        return True
    done = session.exec(
        select(CourseProgress.completed_at).where(
            CourseProgress.user_id == user_id, CourseProgress.course_id == course_id
        )
    ).first()
    return done is not None


def _renewal_due(
    session: Session, user_id: int, exam_id: str, now: datetime, renewal_days: int
) -> bool:
    """The learner's newest certificate for the exam has expired or is within the window."""
    newest = session.exec(
        select(Certificate)
        .where(
            Certificate.user_id == user_id,
            Certificate.exam_id == exam_id,
            col(Certificate.revoked_at).is_(None),
        )
        .order_by(col(Certificate.issued_at).desc())
    ).first()
    if newest is None:
        return False
    state = certificate_state(
        revoked=False,  # the query left revoked certificates out
        valid_from=newest.issued_at,
        valid_until=newest.valid_until,
        now=now,
        warn_days=renewal_days,
    )
    return state in ("expiring", "expired")


def learner_status(
    *,
    session: Session,
    authority: Authority,
    user_id: int,
    view: ExamView,
    now: datetime,
    renewal_days: int = 90,
) -> LearnerStatus:
    """Where the learner stands with an exam; an attempt found past its deadline is closed."""
    attempts = attempts_of(session=session, user_id=user_id, exam_id=view.exam.id)
    for attempt in attempts:
        close_if_overdue(session=session, authority=authority, attempt=attempt, now=now)
    in_progress = next((a for a in attempts if a.submitted_at is None), None)
    # A sitting's candidate who never came (closed "absent") has not used an attempt.
    past = [
        PastAttempt(a.started_at, a.submitted_at, a.passed)
        for a in attempts
        if a.closed_by != "absent"
    ]
    verdict = eligibility(
        view.spec,
        now=now,
        course_complete=_course_complete(session, user_id, view.spec.course),
        past=past,
        renewal_due=_renewal_due(session, user_id, view.exam.id, now, renewal_days),
    )
    return LearnerStatus(verdict, in_progress, attempts)


def extra_time(*, session: Session, user_id: int, exam_id: str) -> ExtraTime | None:
    return session.exec(
        select(ExtraTime).where(ExtraTime.user_id == user_id, ExtraTime.exam_id == exam_id)
    ).first()


# --- starting: drawing the form -----------------------------------------------------------------


def _pool(session: Session, view: ExamView, user_id: int) -> list[PoolItem]:
    topics = {entry.topic for entry in view.spec.blueprint}
    # The items this learner was served in earlier attempts, in the same statement.
    seen = (
        sa_select(col(ItemVersion.item_id).label("item_id"))
        .join(AttemptSlot, col(AttemptSlot.item_version_id) == col(ItemVersion.id))
        .join(ExamAttempt, col(ExamAttempt.id) == col(AttemptSlot.attempt_id))
        .where(col(ExamAttempt.user_id) == user_id)
        .distinct()
        .subquery("seen")
    )
    rows = session.execute(
        sa_select(
            col(Item.id),
            col(Item.key),
            col(Item.topic),
            col(ItemVersion.id),
            col(ItemVersion.content_hash),
            col(ItemVersion.spec),
            col(ItemExposure.served),
            col(Item.enemy_group),
            col(ItemPanelRating.rating),
            seen.c.item_id,
        )
        .join(ItemVersion, col(ItemVersion.id) == col(Item.current_version_id))
        .join(ItemExposure, col(ItemExposure.item_version_id) == col(ItemVersion.id), isouter=True)
        .join(ItemPanelRating, col(ItemPanelRating.item_id) == col(Item.id), isouter=True)
        .join(seen, seen.c.item_id == col(Item.id), isouter=True)
        .where(
            col(Item.bank_id) == view.exam.bank_id,
            col(Item.active).is_(True),
            col(Item.retired_at).is_(None),
            col(Item.topic).in_(topics),
            col(Item.pool) == (view.spec.pool or ""),
        )
    ).all()
    pool = []
    for _item, key, topic, version_id, digest, spec, served, enemy_group, panel, was in rows:
        # Read the few fields the draw needs straight from the stored JSON: no model per item.
        first_text = next(iter(spec["text"].values()))
        pool.append(
            PoolItem(
                version_id=version_id,
                content_hash=digest,
                item_key=key,
                topic=topic,
                outcome=spec.get("outcome"),
                # The panel's rating where a study gave one, else the author's estimate.
                angoff=panel if panel is not None else spec.get("angoff"),
                exposure=served or 0,
                seen=was is not None,
                options=tuple(first_text.get("options") or ()),
                prompts=tuple(first_text.get("prompts") or ()),
                pinned=frozenset(spec.get("pinned") or ()),
                enemy_group=enemy_group,
            )
        )
    return pool


def store_form(*, session: Session, attempt_id: int, form: Form) -> None:
    """Write a drawn form's slots (one statement) and count its items as exposed: the same for a
    start and for a form drawn ahead of a sitting."""
    session.execute(
        insert(AttemptSlot),
        [
            {
                "attempt_id": attempt_id,
                "number": s.number,
                "item_version_id": s.version_id,
                "topic": s.topic,
                "options": list(s.options),
                "prompts": list(s.prompts),
                "flagged": False,
            }
            for s in form.slots
        ],
    )
    _count_exposure(session, [s.version_id for s in form.slots])


def _count_exposure(session: Session, version_ids: Sequence[int]) -> None:
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(ItemExposure).values(
        [{"item_version_id": v, "served": 1} for v in version_ids]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["item_version_id"], set_={"served": ItemExposure.served + 1}
    )
    session.execute(stmt)


def start_attempt(
    *,
    session: Session,
    authority: Authority,
    user_id: int,
    exam_id: str,
    now: datetime,
    lang: str,
    client: Client = NO_CLIENT,
    seed: int | None = None,
    renewal_days: int = 90,
) -> ExamAttempt:
    """Start an attempt, or return the one in progress (a second tab, a double click)."""
    view = load_exam(session=session, exam_id=exam_id)
    status = learner_status(
        session=session,
        authority=authority,
        user_id=user_id,
        view=view,
        now=now,
        renewal_days=renewal_days,
    )
    if status.in_progress is not None:
        return status.in_progress
    if not status.eligibility.allowed:
        assert status.eligibility.refusal is not None
        raise NotEligible(REFUSALS[status.eligibility.refusal])
    seed = secrets.randbits(63) if seed is None else seed
    try:
        form = assemble(
            view.spec.blueprint,
            _pool(session, view, user_id),
            random.Random(seed),
            tolerance=view.spec.difficulty_tolerance,
        )
    except NotEnoughItems:
        raise Conflict(N_("The exam cannot be drawn now; please tell the administrator.")) from None
    extra = extra_time(session=session, user_id=user_id, exam_id=exam_id)
    language = lang if lang in view.bank.languages else view.bank.languages[0]
    attempt = ExamAttempt(
        user_id=user_id,
        exam_id=exam_id,
        exam_version_id=view.version.id or 0,
        language=language,
        seed=str(seed),
        fingerprint=form.fingerprint,
        expected_score=form.expected_score,
        started_at=now,
        deadline_at=deadline(
            now,
            view.spec.time_limit_minutes,
            extra.minutes if extra else 0,
            extra.percent if extra else 0,
        ),
    )
    try:
        if _serialised(session):  # nobody else can start one in this transaction
            session.add(attempt)
            session.flush()
        else:
            with session.begin_nested():
                session.add(attempt)
                session.flush()
    except IntegrityError:  # another request started one a moment ago: use that one
        existing = learner_status(
            session=session,
            authority=authority,
            user_id=user_id,
            view=view,
            now=now,
            renewal_days=renewal_days,
        ).in_progress
        if existing is None:
            raise
        return existing
    assert attempt.id is not None
    store_form(session=session, attempt_id=attempt.id, form=form)
    record_event(session=session, attempt_id=attempt.id, kind="started", now=now, client=client)
    audit.record(
        session=session,
        action="attempt.started",
        subject=f"attempt:{attempt.id}",
        now=now,
        actor_id=user_id,
        data={"exam": exam_id, "fingerprint": form.fingerprint, "seed": str(seed)},
    )
    xapi.exam_attempted(session=session, attempt=attempt, exam=view.spec)
    session.flush()
    return attempt


# --- taking it ----------------------------------------------------------------------------------


_PREFETCHED = "elearn.prefetched_slot"  # session.info: (attempt id, number) -> (slot, spec)


def own_attempt(
    *, session: Session, attempt_id: int, user_id: int, slot: int | None = None
) -> ExamAttempt:
    """The learner's own attempt; anyone else's is not found (no hint that it exists).
    With ``slot``, that question and its item come in the same statement, for the
    ``slot_with_item`` that follows (a page, a save)."""
    if slot is None:
        attempt = session.get(ExamAttempt, attempt_id)
    else:
        found = session.exec(
            select(ExamAttempt, AttemptSlot, ItemVersion)
            .join(
                AttemptSlot,
                (col(AttemptSlot.attempt_id) == col(ExamAttempt.id))
                & (col(AttemptSlot.number) == slot),
                isouter=True,
            )
            .join(
                ItemVersion,
                col(ItemVersion.id) == col(AttemptSlot.item_version_id),
                isouter=True,
            )
            .where(ExamAttempt.id == attempt_id)
        ).first()
        attempt = found[0] if found else None
        if found and found[1] is not None and found[2] is not None:
            session.info.setdefault(_PREFETCHED, {})[(attempt_id, slot)] = (
                found[1],
                _item_spec(session, found[2]),
            )
    if attempt is None or attempt.user_id != user_id:
        raise NotFound(N_("There is no such attempt."))
    if attempt.waiting:  # drawn ahead for a sitting: nothing of it is shown before its start
        raise Conflict(N_("This attempt belongs to a sitting that you have not started yet."))
    return attempt


def _item_spec(session: Session, version: ItemVersion) -> ItemSpec:
    """An item version's parsed spec: a version never changes, so parsed once per process."""
    return cached(  # type: ignore[no-any-return]
        session=session,
        key=("item_version", version.id, version.content_hash),
        make=lambda: ItemSpec.model_validate(version.spec),
    )


def _serialised(session: Session) -> bool:
    """The transaction already excludes every other writer (SQLite's BEGIN IMMEDIATE)."""
    return session.get_bind().dialect.name == "sqlite"


def slots_of(*, session: Session, attempt_id: int) -> list[AttemptSlot]:
    return list(
        session.exec(
            select(AttemptSlot)
            .where(AttemptSlot.attempt_id == attempt_id)
            .order_by(col(AttemptSlot.number))
        )
    )


def slot_with_item(
    *, session: Session, attempt_id: int, number: int
) -> tuple[AttemptSlot, ItemSpec]:
    prefetched = session.info.get(_PREFETCHED, {}).pop((attempt_id, number), None)
    if prefetched is not None:
        found: tuple[AttemptSlot, ItemSpec] = prefetched
        return found
    row = session.exec(
        select(AttemptSlot, ItemVersion)
        .join(ItemVersion, col(ItemVersion.id) == col(AttemptSlot.item_version_id))
        .where(AttemptSlot.attempt_id == attempt_id, AttemptSlot.number == number)
    ).first()
    if row is None:
        raise NotFound(N_("There is no such question in this attempt."))
    slot, version = row
    return slot, _item_spec(session, version)


def bank_of_slot(*, session: Session, attempt_id: int, number: int) -> str:
    """The bank of the item a slot served (for its images)."""
    bank_id = session.exec(
        select(Item.bank_id)
        .join(ItemVersion, col(ItemVersion.item_id) == col(Item.id))
        .join(AttemptSlot, col(AttemptSlot.item_version_id) == col(ItemVersion.id))
        .where(AttemptSlot.attempt_id == attempt_id, AttemptSlot.number == number)
    ).first()
    if bank_id is None:
        raise NotFound(N_("There is no such question in this attempt."))
    return bank_id


def slots_with_items(*, session: Session, attempt_id: int) -> list[tuple[AttemptSlot, ItemSpec]]:
    """Every slot with the item version it served, in served order (one query)."""
    rows = session.exec(
        select(AttemptSlot, ItemVersion)
        .join(ItemVersion, col(ItemVersion.id) == col(AttemptSlot.item_version_id))
        .where(AttemptSlot.attempt_id == attempt_id)
        .order_by(col(AttemptSlot.number))
    ).all()
    return [(slot, _item_spec(session, version)) for slot, version in rows]


def close_if_overdue(
    *, session: Session, authority: Authority, attempt: ExamAttempt, now: datetime
) -> bool:
    """Submit and score an attempt whose time has run out; True if it is closed now or was."""
    if attempt.submitted_at is not None:
        return True
    if now < attempt.deadline_at:
        return False
    submit_attempt(
        session=session, authority=authority, attempt=attempt, now=now, closed_by="deadline"
    )
    return True


def _open(session: Session, authority: Authority, attempt: ExamAttempt, now: datetime) -> None:
    if close_if_overdue(session=session, authority=authority, attempt=attempt, now=now):
        raise AttemptClosed(N_("This attempt is closed: it was submitted or its time ran out."))


def save_answer(
    *,
    session: Session,
    authority: Authority,
    attempt: ExamAttempt,
    number: int,
    raw: RawAnswer,
    flagged: bool,
    now: datetime,
    client: Client = NO_CLIENT,
) -> AttemptSlot:
    """Save one answer as it is given. A forged option or slot is refused, nothing changed."""
    _open(session, authority, attempt, now)
    assert attempt.id is not None
    slot, item = slot_with_item(session=session, attempt_id=attempt.id, number=number)
    try:
        response = read_answer(item, raw, slot.options, slot.prompts, attempt.language)
    except IncompleteResponse as exc:
        raise IncompleteAnswer(str(exc), exc.partial) from None
    except InvalidResponse:
        raise InvalidAnswer(N_("That answer is not one this question offers.")) from None
    if response != slot.response or flagged != slot.flagged:
        slot.response, slot.flagged = response, flagged
        slot.answered_at = now if response is not None else None
        record_event(
            session=session,
            attempt_id=attempt.id,
            kind="saved",
            now=now,
            client=client,
            slot=number,
        )
        session.flush()
    return slot


@dataclass(frozen=True)
class SubmitOutcome:
    attempt: ExamAttempt
    scored_now: bool


def submit_attempt(
    *,
    session: Session,
    authority: Authority,
    attempt: ExamAttempt,
    now: datetime,
    closed_by: str = "learner",
    client: Client = NO_CLIENT,
) -> SubmitOutcome:
    """Submit and score once: a second submit (another tab, a double click) changes nothing.
    A pass is certified in the same transaction, unless the exam waits for a sign-off."""
    assert attempt.id is not None
    # Re-read under a row lock on PostgreSQL; SQLite's IMMEDIATE transaction already excludes
    # every other writer, so the row read in this transaction is current.
    if _serialised(session) and attempt in session:
        fresh = attempt
    else:
        fresh = session.exec(
            select(ExamAttempt)
            .where(ExamAttempt.id == attempt.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
    if fresh.submitted_at is not None:
        return SubmitOutcome(fresh, False)
    if fresh.waiting:  # a sitting's candidate who never started: absent, not scored
        fresh.submitted_at, fresh.closed_by = fresh.started_at, "absent"
        attempt.submitted_at = fresh.submitted_at
        session.flush()
        return SubmitOutcome(fresh, False)
    spec = exam_spec(session=session, attempt=fresh)
    rules = spec.pass_rules
    attempt_id = attempt.id
    rows = slots_with_items(session=session, attempt_id=attempt_id)
    answered = [Answered(s.number, s.topic, item, s.response) for s, item in rows]
    score = score_attempt(answered, rules, fresh.language)
    for slot, _spec in rows:
        slot.mark = score.marks[slot.number]
    # Submitted at the deadline at the latest: a late request does not make the attempt longer.
    fresh.submitted_at = min(now, fresh.deadline_at)
    fresh.closed_by = closed_by
    fresh.score_percent = round(score.total_percent, 4)
    fresh.passed = score.passed
    fresh.result = {
        "topics": [
            {
                "topic": t.topic,
                "items": t.items,
                "marks": t.marks,
                "maximum": t.maximum,
                "percent": t.percent,
                "required": t.required,
                "met": t.met,
            }
            for t in score.topics
        ],
        "marks": score.earned,
        "maximum": score.maximum,
        "overall_required": score.overall_required,
        "reasons": list(score.reasons),
    }
    record_events(
        session=session,
        attempt_id=attempt_id,
        kinds=("submitted", "scored"),
        now=now,
        client=client,
    )
    audit.record(
        session=session,
        action="attempt.submitted",
        subject=f"attempt:{attempt_id}",
        now=now,
        actor_id=fresh.user_id,
        data={"closed_by": closed_by, "exam": fresh.exam_id},
    )
    audit.record(
        session=session,
        action="attempt.scored",
        subject=f"attempt:{fresh.id}",
        now=now,
        actor_id=fresh.user_id,
        data={"percent": fresh.score_percent, "passed": fresh.passed, "closed_by": closed_by},
    )
    xapi.exam_scored(
        session=session,
        attempt=fresh,
        exam=spec,
        marks=score.earned,
        max_marks=score.maximum,
    )
    session.flush()
    if score.passed and spec.certificate.issue and not spec.sign_off:
        certificates.issue(session=session, authority=authority, attempt=fresh, now=now)
    attempt.submitted_at = fresh.submitted_at
    return SubmitOutcome(fresh, True)


def close_overdue(*, session: Session, authority: Authority, now: datetime) -> int:
    """Submit every attempt whose time ran out (for cron); returns how many."""
    overdue = session.exec(
        select(ExamAttempt).where(
            col(ExamAttempt.submitted_at).is_(None), ExamAttempt.deadline_at <= now
        )
    ).all()
    for attempt in overdue:
        submit_attempt(
            session=session, authority=authority, attempt=attempt, now=now, closed_by="deadline"
        )
    return len(overdue)


# --- extra time ---------------------------------------------------------------------------------


def grant_extra_time(
    *,
    session: Session,
    user_id: int,
    exam_id: str,
    minutes: int,
    percent: int,
    reason: str,
    granted_by: int,
    now: datetime,
) -> ExtraTime:
    """Grant or change extra time; an attempt in progress gets the new deadline at once."""
    duties.require(
        actor_id=granted_by,
        subject_user_id=user_id,
        action=duties.EXTRA_TIME_GRANT,
        subject=f"user:{user_id}",
        exam=exam_id,
    )
    if minutes < 0 or percent < 0 or minutes > 24 * 60 or percent > 400:
        raise InvalidAnswer(N_("Extra time must be between 0 and 1,440 minutes or 0 and 400 %."))
    view = load_exam(session=session, exam_id=exam_id)
    row = extra_time(session=session, user_id=user_id, exam_id=exam_id)
    if row is None:
        row = ExtraTime(user_id=user_id, exam_id=exam_id, granted_at=now)
        session.add(row)
    row.minutes, row.percent, row.reason = minutes, percent, reason.strip()
    row.granted_by_id, row.granted_at = granted_by, now
    for attempt in attempts_of(session=session, user_id=user_id, exam_id=exam_id):
        if attempt.submitted_at is None and now < attempt.deadline_at:
            attempt.deadline_at = deadline(
                attempt.started_at, view.spec.time_limit_minutes, minutes, percent
            )
    audit.record(
        session=session,
        action="extra_time.granted",
        subject=f"user:{user_id}",
        now=now,
        actor_id=granted_by,
        data={"exam": exam_id, "minutes": minutes, "percent": percent},
    )
    session.flush()
    return row


def extra_time_grants(*, session: Session, limit: int = 200) -> list[tuple[ExtraTime, str]]:
    """The newest grants of extra time, with each learner's e-mail."""
    return [
        (grant, email)
        for grant, email in session.exec(
            select(ExtraTime, User.email)
            .join(User, col(User.id) == col(ExtraTime.user_id))
            .order_by(col(ExtraTime.granted_at).desc())
            .limit(limit)
        )
    ]


def answered_counts(*, slots: Sequence[AttemptSlot]) -> Mapping[str, int]:
    return {
        "answered": sum(1 for s in slots if s.response is not None),
        "flagged": sum(1 for s in slots if s.flagged),
        "total": len(slots),
    }
