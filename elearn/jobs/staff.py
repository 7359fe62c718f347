"""``staff import``: a CSV of staff planned and, when clean and not a dry run, applied whole."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from elearn.jobs import unit_of_work
from elearn.services.staff_import import ImportPlan, apply_import, plan_import

if TYPE_CHECKING:
    from flask import Flask


def import_staff(app: Flask, *, text: str, dry_run: bool, now: datetime) -> ImportPlan:
    """Plan the import and apply it in the same transaction unless it has errors or is a dry run."""
    with unit_of_work(app) as session:
        plan = plan_import(session=session, text=text)
        if not plan.errors and not dry_run:
            apply_import(session=session, plan=plan, actor_id=None, now=now)
    return plan
