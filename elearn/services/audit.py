"""Append to the hash-chained audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from elearn.domain.audit import GENESIS, AuditRecord, entry_hash, first_broken_link
from elearn.domain.staff import normalise_email
from elearn.models import AuditEntry, User

AUDIT_LOCK = 0x656C6561  # "elea": the advisory lock that orders appends on PostgreSQL


def record(
    *,
    session: Session,
    action: str,
    subject: str,
    now: datetime,
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    if session.get_bind().dialect.name == "postgresql":
        # One appender at a time, until its transaction ends: concurrent requests would read the
        # same tail and fork the chain (the unique prev_hash refuses that, failing the request).
        # SQLite needs no lock here: its BEGIN IMMEDIATE transactions already take turns.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})
    last = session.exec(
        select(AuditEntry.hash).order_by(col(AuditEntry.id).desc()).limit(1)
    ).first()
    prev = last or GENESIS
    rec = AuditRecord(at=now, actor_id=actor_id, action=action, subject=subject, data=data or {})
    entry = AuditEntry(
        at=now,
        actor_id=actor_id,
        action=action,
        subject=subject,
        data=rec.data,
        prev_hash=prev,
        hash=entry_hash(rec, prev),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainCheck:
    count: int
    head: str
    broken_at: int | None  # the id of the first entry that does not hold
    reason: str | None


def _ordered(session: Session) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))))


def verify_chain(*, session: Session) -> ChainCheck:
    """Recompute every hash and link; a changed, removed or inserted entry breaks the chain."""
    entries = _ordered(session)
    records = [
        (AuditRecord(e.at, e.actor_id, e.action, e.subject, e.data), e.prev_hash, e.hash)
        for e in entries
    ]
    position = first_broken_link(records)
    if position is not None:
        entry = entries[position]
        expected_prev = entries[position - 1].hash if position else GENESIS
        reason = (
            "its link to the previous entry is wrong (an entry before it was removed or inserted)"
            if entry.prev_hash != expected_prev
            else "its content does not match its hash (it was changed)"
        )
        return ChainCheck(len(entries), entries[-1].hash, entry.id, reason)
    return ChainCheck(len(entries), entries[-1].hash if entries else GENESIS, None, None)


def search(
    *, session: Session, person: str = "", exam: str = "", code: str = "", limit: int = 200
) -> list[AuditEntry]:
    """The newest entries about a person (by e-mail: as actor or subject), an exam or a
    certificate code; the filters combine, and all of them are applied by the database."""
    statement = select(AuditEntry)
    if person.strip():
        found = session.exec(select(User.id).where(User.email == normalise_email(person))).first()
        uid = found if found is not None else -1
        statement = statement.where(
            (col(AuditEntry.actor_id) == uid) | (col(AuditEntry.subject) == f"user:{uid}")
        )
    if exam.strip():
        statement = statement.where(AuditEntry.data["exam"].as_string() == exam.strip())  # type: ignore[index]
    if code.strip():
        statement = statement.where(AuditEntry.subject == f"certificate:{code.strip().upper()}")
    return list(session.exec(statement.order_by(col(AuditEntry.id).desc()).limit(limit)))


def export_lines(*, session: Session) -> list[str]:
    return [
        json.dumps(
            {
                "seq": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor_id,
                "action": e.action,
                "subject": e.subject,
                "data": e.data,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        for e in _ordered(session)
    ]
