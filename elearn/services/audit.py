"""Append to the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from elearn.domain.audit import GENESIS, AuditRecord, entry_hash
from elearn.models import AuditEntry


def record(
    *,
    session: Session,
    action: str,
    subject: str,
    now: datetime,
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
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
