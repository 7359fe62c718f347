"""The outbox rules shared by every sender (xAPI statements, e-mail): claim, retry, refuse.

An outbox row (``elearn.models.OutboxFields``) is written with its cause. A sender claims due
rows in a short committed unit of work (a lease in ``claimed_until``, with ``SKIP LOCKED`` on
PostgreSQL; SQLite's write transactions take turns), talks to the far side while no database
transaction is open, then records the outcome: sent, wait (a doubling delay), or refused with
the reason (kept, never dropped). Two senders never hold the same row while its lease runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from elearn.models import OutboxFields

Row = TypeVar("Row", bound=OutboxFields)
NOTE_LENGTH = 500


@dataclass(frozen=True)
class Backoff:
    """How long a row waits after a failure: doubling from ``minimum`` up to ``maximum``."""

    minimum: float = 30.0
    maximum: float = 3600.0

    def delay(self, tries: int, retry_after: float | None = None) -> timedelta:
        seconds = min(self.maximum, self.minimum * 2 ** max(0, tries - 1))
        if retry_after is not None and math.isfinite(retry_after) and retry_after >= 0:
            seconds = max(seconds, min(retry_after, 24 * 3600))
        return timedelta(seconds=seconds)


def pending(model: type[OutboxFields]) -> Any:
    """Neither sent nor refused."""
    return and_(col(model.sent_at).is_(None), col(model.rejected_at).is_(None))


def claim(
    session: Session, model: type[Row], *, now: datetime, limit: int, lease: timedelta
) -> list[Row]:
    """Take up to ``limit`` due rows, oldest first, for ``lease``; a concurrent sender skips them.
    The caller commits at once (the claim is what another sender sees)."""
    query = (
        select(model)
        .where(
            pending(model),
            col(model.next_try_at) <= now,
            or_(col(model.claimed_until).is_(None), col(model.claimed_until) < now),
        )
        .order_by(model.id)  # type: ignore[attr-defined]
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query).all())
    for row in rows:
        row.claimed_until = now + lease
    session.flush()
    return rows


def mark_sent(row: OutboxFields, now: datetime, note: str = "") -> None:
    row.sent_at, row.claimed_until, row.last_error = now, None, note[:NOTE_LENGTH] or None
    row.tries += 1


def mark_waiting(
    row: OutboxFields,
    now: datetime,
    backoff: Backoff,
    error: str,
    retry_after: float | None = None,
) -> None:
    """A failure that may pass (the far side down, busy, "try later"): try again later."""
    row.tries += 1
    row.next_try_at = now + backoff.delay(row.tries, retry_after)
    row.claimed_until, row.last_error = None, error[:NOTE_LENGTH]


def mark_refused(row: OutboxFields, now: datetime, reason: str) -> None:
    """The far side refuses this row for good: it is kept, with the reason, and not sent again."""
    row.tries += 1
    row.rejected_at, row.claimed_until, row.last_error = now, None, reason[:NOTE_LENGTH]


def release(row: OutboxFields) -> None:
    """Give back a claimed row that was not tried (the pass stopped first)."""
    row.claimed_until = None


@dataclass(frozen=True)
class OutboxStatus:
    waiting: int
    sent: int
    rejected: int
    oldest_waiting: datetime | None
    next_try_at: datetime | None
    last_error: str | None


def status(session: Session, model: type[OutboxFields]) -> OutboxStatus:
    waiting_rows = pending(model)
    # Five figures of one table in one query (sqlmodel's select types at most four columns).
    waiting, sent, rejected, oldest, next_try = session.execute(
        sa.select(
            func.count().filter(waiting_rows),
            func.count(col(model.sent_at)),
            func.count(col(model.rejected_at)),
            func.min(model.created_at).filter(waiting_rows),
            func.min(model.next_try_at).filter(waiting_rows),
        ).select_from(model)
    ).one()
    first_error = session.exec(
        select(model.last_error)
        .where(waiting_rows, col(model.last_error).is_not(None))
        .order_by(model.id)  # type: ignore[attr-defined]
        .limit(1)
    ).first()
    return OutboxStatus(waiting, sent, rejected, oldest, next_try, first_error)


def rejected(session: Session, model: type[Row], *, limit: int = 50) -> list[Row]:
    return list(
        session.exec(
            select(model)
            .where(col(model.rejected_at).is_not(None))
            .order_by(model.id)  # type: ignore[attr-defined]
            .limit(limit)
        ).all()
    )


def requeue_rejected(session: Session, model: type[OutboxFields], *, now: datetime) -> int:
    """Offer the refused rows again (after someone fixed what was refused)."""
    rows = rejected(session, model, limit=100_000)
    for row in rows:
        row.rejected_at, row.next_try_at = None, now
    session.flush()
    return len(rows)
