"""Retention, export and erasure from the command line (``flask --app elearn privacy ...``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from elearn.clock import utcnow
from elearn.domain.privacy import periods
from elearn.jobs import reading, unit_of_work
from elearn.services import privacy

if TYPE_CHECKING:
    from flask import Flask


def retention(
    app: Flask, *, dry_run: bool, now: Callable[[], datetime] = utcnow
) -> list[privacy.RuleResult]:
    days = periods(app.config["RETENTION"])
    if dry_run:
        with reading(app) as session:
            return privacy.retention(session=session, now=now(), days=days, dry_run=True)
    with unit_of_work(app) as session:
        return privacy.retention(session=session, now=now(), days=days, dry_run=False)


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
