"""Separation of duties in the database: the refusal of a certifier's own case, audited."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from elearn.domain.duties import REFUSED, OwnCase
from elearn.models import AuditEntry
from elearn.services import audit


def record_refusal(*, session: Session, refusal: OwnCase, now: datetime) -> AuditEntry:
    """The audit entry of a refused action on one's own case: who, on what, which action."""
    data: dict[str, str] = {"refused": refusal.action}
    if refusal.exam:
        data["exam"] = refusal.exam  # so that the audit page's exam filter finds it
    return audit.record(
        session=session,
        action=REFUSED,
        subject=refusal.subject,
        now=now,
        actor_id=refusal.actor_id,
        data=data,
    )
