"""Who has seen how much of an exam's pool: learners who have seen a whole topic, and how often
each item was served. The draw prefers unseen items; when a learner has seen them all it repeats
items, and the certifier should know, rather than have it happen silently."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from elearn.models import AttemptSlot, ExamAttempt, Item, ItemExposure, ItemVersion, User
from elearn.services.exams import load_exam


@dataclass(frozen=True)
class TopicSeen:
    topic: str
    seen: int  # items of the topic's pool the learner has been served, in any attempt
    available: int  # items of the topic that can be drawn now

    @property
    def exhausted(self) -> bool:
        """Every item the draw could give has been seen: a new attempt repeats items."""
        return self.available > 0 and self.seen >= self.available


@dataclass(frozen=True)
class LearnerSeen:
    user_id: int
    name: str
    email: str
    attempts: int
    topics: tuple[TopicSeen, ...]

    @property
    def exhausted(self) -> tuple[str, ...]:
        return tuple(t.topic for t in self.topics if t.exhausted)


@dataclass(frozen=True)
class ItemServed:
    key: str
    topic: str
    served: int  # times drawn onto a form, all versions
    learners: int  # different learners who were served it
    retired: bool


@dataclass(frozen=True)
class ExposureReport:
    exam_id: str
    pool: str
    learners: list[LearnerSeen]  # learners with an attempt at the exam, most exhausted first
    items: list[ItemServed]  # the pool's items, most served first


def exam_exposure(*, session: Session, exam_id: str) -> ExposureReport:
    """The exposure report of one exam: per learner and topic, and per item of its pool."""
    view = load_exam(session=session, exam_id=exam_id)
    exam, spec = view.exam, view.spec
    pool = spec.pool or ""
    topics = [e.topic for e in spec.blueprint]
    in_pool = (
        col(Item.bank_id) == exam.bank_id,
        col(Item.pool) == pool,
        col(Item.topic).in_(topics),
    )
    available = dict(
        session.exec(  # type: ignore[call-overload]
            select(Item.topic, func.count())
            .where(*in_pool, col(Item.active).is_(True), col(Item.retired_at).is_(None))
            .group_by(Item.topic)
        ).all()
    )
    takers = session.exec(
        select(ExamAttempt.user_id, User.name, User.email, func.count())
        .join(User, col(User.id) == col(ExamAttempt.user_id))
        .where(ExamAttempt.exam_id == exam_id)
        .group_by(col(ExamAttempt.user_id), col(User.name), col(User.email))
    ).all()
    seen: dict[int, dict[str, int]] = defaultdict(dict)
    for user_id, topic, count in session.exec(  # type: ignore[call-overload]
        select(ExamAttempt.user_id, Item.topic, func.count(func.distinct(Item.id)))
        .select_from(AttemptSlot)
        .join(ExamAttempt, col(ExamAttempt.id) == col(AttemptSlot.attempt_id))
        .join(ItemVersion, col(ItemVersion.id) == col(AttemptSlot.item_version_id))
        .join(Item, col(Item.id) == col(ItemVersion.item_id))
        .where(*in_pool, col(ExamAttempt.user_id).in_([t[0] for t in takers]))
        .group_by(col(ExamAttempt.user_id), col(Item.topic))
    ).all():
        seen[user_id][topic] = count
    learners = [
        LearnerSeen(
            user_id=user_id,
            name=name,
            email=email,
            attempts=attempts,
            topics=tuple(
                TopicSeen(t, seen[user_id].get(t, 0), available.get(t, 0)) for t in topics
            ),
        )
        for user_id, name, email, attempts in takers
    ]
    learners.sort(key=lambda s: (-len(s.exhausted), -s.attempts, s.name))
    served = session.exec(  # type: ignore[call-overload]
        select(
            Item.key,
            Item.topic,
            Item.retired_at,
            func.coalesce(func.sum(ItemExposure.served), 0),
        )
        .select_from(Item)
        .join(ItemVersion, col(ItemVersion.item_id) == col(Item.id))
        .join(ItemExposure, col(ItemExposure.item_version_id) == col(ItemVersion.id), isouter=True)
        .where(*in_pool, col(Item.active).is_(True))
        .group_by(col(Item.id), col(Item.key), col(Item.topic), col(Item.retired_at))
    ).all()
    reached = dict(
        session.exec(  # type: ignore[call-overload]
            select(Item.key, func.count(func.distinct(ExamAttempt.user_id)))
            .select_from(AttemptSlot)
            .join(ExamAttempt, col(ExamAttempt.id) == col(AttemptSlot.attempt_id))
            .join(ItemVersion, col(ItemVersion.id) == col(AttemptSlot.item_version_id))
            .join(Item, col(Item.id) == col(ItemVersion.item_id))
            .where(*in_pool)
            .group_by(col(Item.key))
        ).all()
    )
    items = [
        ItemServed(key, topic, int(count), reached.get(key, 0), retired is not None)
        for key, topic, retired, count in served
    ]
    items.sort(key=lambda i: (-i.served, i.key))
    return ExposureReport(exam_id, pool or "main", learners, items)
