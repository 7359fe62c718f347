"""The certifier's look at attempts: each one exactly as served, and item statistics per exam."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Session, col, func, or_, select

from elearn.domain import duties
from elearn.domain.assembly import Slot, form_fingerprint
from elearn.domain.content import ExamSpec, ItemSpec
from elearn.domain.errors import N_, Conflict, NotFound
from elearn.domain.itemtypes import (
    PresentedItem,
    describe_answer,
    get_item_type,
    present,
    text_in,
)
from elearn.domain.statistics import ItemStatistics, TestStatistics, analyse
from elearn.models import (
    AttemptEvent,
    AttemptSlot,
    Exam,
    ExamAttempt,
    Item,
    ItemVersion,
    User,
)
from elearn.services import audit
from elearn.services.attempts import Client, exam_spec, record_event
from elearn.services.paging import Page, contains, page_of


@dataclass(frozen=True)
class ServedItem:
    slot: AttemptSlot
    item_id: int
    item_key: str
    version: int
    shown: PresentedItem
    key: tuple[str, ...]  # the right answer in words
    seconds: float  # time the candidate spent on it
    repeated: bool = False  # the learner had been served this item in an earlier attempt
    max_mark: float = 1.0  # the item's maximum mark in the version served
    spec: ItemSpec | None = None  # the version served (its images, for the page)


@dataclass(frozen=True)
class ServedAttempt:
    """An attempt as it was served and answered, with its trail: what a certifier audits."""

    attempt: ExamAttempt
    learner: User
    exam: ExamSpec
    items: list[ServedItem]
    events: list[AttemptEvent]
    fingerprint_ok: bool  # the stored form still hashes to the fingerprint taken at the start


def seconds_per_slot(*, events: Sequence[AttemptEvent], end: datetime) -> dict[int, float]:
    """Time on each question: from each view or save of it until the next event (or the end)."""
    spent: dict[int, float] = defaultdict(float)
    ordered = sorted(events, key=lambda e: (e.at, e.id or 0))
    for current, following in zip(ordered, [*ordered[1:], None], strict=True):
        if current.slot is None or current.kind not in ("viewed", "saved"):
            continue
        until = following.at if following is not None else end
        spent[current.slot] += max(0.0, (until - current.at).total_seconds())
    return dict(spent)


def served_item(
    *, session: Session, attempt_id: int, number: int, viewer_id: int
) -> tuple[str, ItemSpec]:
    """(bank, item version) of one question of another person's attempt, for its images: to
    whom :func:`served_attempt` shows the attempt, and to nobody else."""
    attempt = session.get(ExamAttempt, attempt_id)
    if attempt is None:
        raise NotFound(N_("There is no such attempt."))
    duties.require(
        actor_id=viewer_id,
        subject_user_id=attempt.user_id,
        action=duties.ATTEMPT_VIEW,
        subject=f"attempt:{attempt_id}",
        exam=attempt.exam_id,
    )
    row = session.exec(
        select(ItemVersion.spec, Item.bank_id)
        .join(Item, col(Item.id) == col(ItemVersion.item_id))
        .join(AttemptSlot, col(AttemptSlot.item_version_id) == col(ItemVersion.id))
        .where(AttemptSlot.attempt_id == attempt_id, AttemptSlot.number == number)
    ).first()
    if row is None:
        raise NotFound(N_("There is no such question in this attempt."))
    return row[1], ItemSpec.model_validate(row[0])


def served_attempt(*, session: Session, attempt_id: int, viewer_id: int) -> ServedAttempt:
    """Another person's attempt exactly as it was served (items, option order, answers with the
    keys, trail), and whether its stored form still matches the fingerprint taken at its start."""
    attempt = session.get(ExamAttempt, attempt_id)
    if attempt is None:
        raise NotFound(N_("There is no such attempt."))
    duties.require(
        actor_id=viewer_id,
        subject_user_id=attempt.user_id,
        action=duties.ATTEMPT_VIEW,
        subject=f"attempt:{attempt_id}",
        exam=attempt.exam_id,
    )
    learner = session.get(User, attempt.user_id)
    assert learner is not None
    rows = session.exec(
        select(AttemptSlot, ItemVersion, Item.key)
        .join(ItemVersion, col(ItemVersion.id) == col(AttemptSlot.item_version_id))
        .join(Item, col(Item.id) == col(ItemVersion.item_id))
        .where(AttemptSlot.attempt_id == attempt_id)
        .order_by(col(AttemptSlot.number))
    ).all()
    events = list(
        session.exec(
            select(AttemptEvent)
            .where(AttemptEvent.attempt_id == attempt_id)
            .order_by(col(AttemptEvent.at), col(AttemptEvent.id))
        )
    )
    end = attempt.submitted_at or attempt.deadline_at
    spent = seconds_per_slot(events=events, end=end)
    earlier = set(
        session.exec(
            select(ItemVersion.item_id)
            .join(AttemptSlot, col(AttemptSlot.item_version_id) == col(ItemVersion.id))
            .join(ExamAttempt, col(ExamAttempt.id) == col(AttemptSlot.attempt_id))
            .where(
                ExamAttempt.user_id == attempt.user_id,
                col(ExamAttempt.started_at) < attempt.started_at,
            )
        )
    )
    items = []
    for slot, item_version, key in rows:
        spec = ItemSpec.model_validate(item_version.spec)
        items.append(
            ServedItem(
                slot=slot,
                item_id=item_version.item_id,
                item_key=key,
                version=item_version.version,
                shown=present(spec, attempt.language, slot.options, slot.prompts, slot.response),
                key=describe_answer(spec, attempt.language),
                seconds=spent.get(slot.number, 0.0),
                repeated=item_version.item_id in earlier,
                max_mark=spec.mark,
                spec=spec,
            )
        )
    served = [
        Slot(s.number, v.id or 0, v.content_hash, s.topic, tuple(s.options), tuple(s.prompts))
        for s, v, _k in rows
    ]
    return ServedAttempt(
        attempt,
        learner,
        exam_spec(session=session, attempt=attempt),
        items,
        events,
        form_fingerprint(served) == attempt.fingerprint,
    )


def search_attempts(
    *, session: Session, query: str, number: int, size: int = 50
) -> Page[tuple[ExamAttempt, str, str]]:
    """Every attempt, newest first, found by the learner's name or e-mail (any case) or by the
    exam's id, a page at a time, with the learner's name and e-mail."""
    statement = select(ExamAttempt, User.name, User.email).join(
        User, col(User.id) == col(ExamAttempt.user_id)
    )
    if query.strip():
        pattern = contains(text=query.strip())
        statement = statement.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
                ExamAttempt.exam_id == query.strip().lower(),
            )
        )
    statement = statement.order_by(col(ExamAttempt.started_at).desc(), col(ExamAttempt.id).desc())
    page = page_of(session=session, statement=statement, number=number, size=size)
    rows = [(attempt, name, email) for attempt, name, email in page.rows]
    return Page(rows, page.number, page.size, page.total)


def record_view(
    *, session: Session, attempt: ExamAttempt, number: int, now: datetime, client: Client
) -> None:
    """A question was shown: the trail and the time-per-question figures need it."""
    assert attempt.id is not None
    record_event(
        session=session, attempt_id=attempt.id, kind="viewed", now=now, client=client, slot=number
    )
    session.flush()


# --- item statistics -----------------------------------------------------------------------------

Which = Literal["first", "last", "all"]


@dataclass(frozen=True)
class ItemReport:
    item_id: int
    item_key: str
    topic: str
    stats: ItemStatistics
    choices: list[tuple[str, int]]  # option text (current version, first language), times chosen
    retired: bool
    random_guess: float | None = None  # 0..1, by the current version's type (None: not known)


def _counted_attempts(*, session: Session, exam_id: str, which: Which) -> list[ExamAttempt]:
    """The submitted attempts at an exam that statistics count: each learner's first, last,
    or all of them."""
    if session.get(Exam, exam_id) is None:
        raise NotFound(N_("There is no such exam."))
    attempts = session.exec(
        select(ExamAttempt)
        .where(ExamAttempt.exam_id == exam_id, col(ExamAttempt.submitted_at).is_not(None))
        .order_by(col(ExamAttempt.started_at))
    ).all()
    if which == "all":
        return list(attempts)
    chosen: dict[int, ExamAttempt] = {}
    for a in attempts:
        if which == "last" or a.user_id not in chosen:
            chosen[a.user_id] = a
    return list(chosen.values())


def exam_statistics(
    *, session: Session, exam_id: str, which: Which, lang: str
) -> tuple[list[ItemReport], TestStatistics, int]:
    """Statistics over the submitted attempts at an exam: each learner's first, last, or all.

    Each slot counts its fraction times the maximum mark of the item version it served, so that
    the figures are Moodle's for items of unequal marks.
    """
    attempts = _counted_attempts(session=session, exam_id=exam_id, which=which)
    ids = [a.id for a in attempts]
    rows = session.exec(
        select(AttemptSlot, Item)
        .join(ItemVersion, col(ItemVersion.id) == col(AttemptSlot.item_version_id))
        .join(Item, col(Item.id) == col(ItemVersion.item_id))
        .where(col(AttemptSlot.attempt_id).in_(ids))
    ).all()
    served = {
        v.id: ItemSpec.model_validate(v.spec).mark
        for v in session.exec(
            select(ItemVersion).where(
                col(ItemVersion.id).in_({slot.item_version_id for slot, _ in rows})
            )
        )
    }
    by_attempt: dict[int, dict[str, tuple[float, float]]] = defaultdict(dict)
    by_slot: dict[int, dict[int, tuple[float, float]]] = defaultdict(dict)
    items: dict[str, Item] = {}
    for slot, item in rows:
        items[item.key] = item
        cell = (slot.mark or 0.0, served.get(slot.item_version_id, 1.0))
        by_attempt[slot.attempt_id][item.key] = cell
        by_slot[slot.attempt_id][slot.number] = cell
    current = {
        v.item_id: ItemSpec.model_validate(v.spec)
        for v in session.exec(
            select(ItemVersion).where(
                col(ItemVersion.id).in_([i.current_version_id for i in items.values()])
            )
        )
    }
    chosen_counts: dict[str, Counter[str]] = defaultdict(Counter)
    for slot, item in rows:
        spec = current.get(item.id or 0)
        if spec is not None and slot.response is not None:
            chosen_counts[item.key].update(get_item_type(spec.type).chosen_options(slot.response))
    keys = sorted(items)
    item_stats, _ = _analyse(keys, [[by_attempt[a].get(k) for k in keys] for a in by_attempt])
    # Test statistics by position: every attempt has every position, as Moodle does for
    # random questions, so that alpha is defined on random forms.
    positions = sorted({n for marks in by_slot.values() for n in marks})
    _, test = _analyse(
        [str(p) for p in positions], [[by_slot[a].get(p) for p in positions] for a in by_slot]
    )
    reports = []
    for stats in item_stats:
        item = items[stats.item]
        assert item.id is not None
        spec = current.get(item.id)
        labels = dict((text_in(spec, lang).options or {}).items()) if spec else {}
        choices = [(labels.get(o, o), n) for o, n in chosen_counts[stats.item].most_common()]
        guess = get_item_type(spec.type).random_guess_score(spec) if spec else None
        reports.append(
            ItemReport(
                item.id, item.key, item.topic, stats, choices, item.retired_at is not None, guess
            )
        )
    return reports, test, len(by_attempt)


def _analyse(
    columns: list[str], cells: list[list[tuple[float, float] | None]]
) -> tuple[list[ItemStatistics], TestStatistics]:
    """Statistics of (fraction, maximum mark) cells."""
    return analyse(
        columns,
        [[None if c is None else c[0] for c in row] for row in cells],
        cell_max_marks=[[None if c is None else c[1] for c in row] for row in cells],
    )


def attempt_scores(*, session: Session, exam_id: str, which: Which) -> list[float]:
    """The total score in percent of each attempt the statistics count, for their distribution."""
    attempts = _counted_attempts(session=session, exam_id=exam_id, which=which)
    return [a.score_percent for a in attempts if a.score_percent is not None]


def retire_item(
    *, session: Session, item_id: int, reason: str, actor_id: int, now: datetime
) -> Item:
    """Take an item out of the draw; attempts that used it keep it as it was."""
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(N_("There is no such item."))
    if item.retired_at is not None:
        raise Conflict(N_("This item is retired already."))
    if not reason.strip():
        raise Conflict(N_("Give a reason for retiring the item."))
    item.retired_at = now
    audit.record(
        session=session,
        action="item.retired",
        subject=f"item:{item.bank_id}/{item.key}",
        now=now,
        actor_id=actor_id,
        data={"reason": reason.strip()},
    )
    session.flush()
    return item
