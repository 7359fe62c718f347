"""Retention, export and erasure from the command line (``flask --app elearn privacy ...``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import col, func, select

from elearn.clock import utcnow
from elearn.domain.errors import N_
from elearn.domain.privacy import cutoff, periods
from elearn.jobs import audit as audit_jobs
from elearn.jobs import reading, unit_of_work
from elearn.models import AuditEntry
from elearn.services import privacy

AUDIT = N_("sealed audit entries (pruned behind a signed checkpoint)")

if TYPE_CHECKING:
    from flask import Flask


def retention(
    app: Flask, *, dry_run: bool, now: Callable[[], datetime] = utcnow
) -> list[privacy.RuleResult]:
    """Every retention rule, then the audit log's own: sealed entries older than its period are
    pruned behind a signed checkpoint (the chain still verifies from there)."""
    days = periods(app.config["RETENTION"])
    audit_before = cutoff(now(), days, "audit_entries")
    if dry_run:
        with reading(app) as session:
            results = privacy.retention(session=session, now=now(), days=days, dry_run=True)
            old = session.exec(
                select(func.count()).where(
                    col(AuditEntry.seq).is_not(None), col(AuditEntry.at) < audit_before
                )
            ).one()
        return [*results, privacy.RuleResult("audit_entries", AUDIT, int(old))]
    with unit_of_work(app) as session:
        results = privacy.retention(session=session, now=now(), days=days, dry_run=False)
    pruned = audit_jobs.prune(app, before=audit_before, now=now)
    return [*results, privacy.RuleResult("audit_entries", AUDIT, pruned.deleted)]


def export(app: Flask, *, user_id: int, actor_id: int | None) -> dict[str, Any]:
    with unit_of_work(app) as session:
        data = privacy.export_person(session=session, user_id=user_id)
        if actor_id is not None:
            privacy.log_export(
                session=session, user_id=user_id, actor_id=actor_id, now=utcnow(), form="json"
            )
        return data


def erase(app: Flask, *, user_id: int, scope: str, actor_id: int) -> privacy.ErasureReport:
    with unit_of_work(app) as session:
        return privacy.erase(
            session=session, user_id=user_id, scope=scope, actor_id=actor_id, now=utcnow()
        )
