"""``staff import``: a CSV of staff planned and, when clean and not a dry run, applied in parts
of a few hundred rows, each part committed on its own so that the write lock is never held for
long (a save waits at most one part; docs/performance.md)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from elearn.jobs import reading, unit_of_work
from elearn.services.staff_import import ImportPlan, apply_import, parts, plan_import

if TYPE_CHECKING:
    from flask import Flask

BATCH_ROWS = 300


def import_staff(
    app: Flask,
    *,
    text: str,
    dry_run: bool,
    now: datetime,
    actor_id: int | None = None,
    batch_rows: int | None = None,
) -> ImportPlan:
    """Plan the import (reading only), then apply it part by part unless it has errors or is a
    dry run. A failure stops at its part: the parts before it stay, and importing the same file
    again finishes the rest (a row already applied is unchanged)."""
    with reading(app) as session:
        plan = plan_import(session=session, text=text, actor_id=actor_id)
    if plan.errors or dry_run:
        return plan
    size = batch_rows or int(app.config.get("STAFF_IMPORT_BATCH_ROWS", BATCH_ROWS))
    pieces = parts(plan=plan, rows=size)
    for number, piece in enumerate(pieces, 1):
        with unit_of_work(app) as session:
            apply_import(
                session=session,
                plan=piece,
                actor_id=actor_id,
                now=now,
                part=(number, len(pieces)),
            )
    return plan
