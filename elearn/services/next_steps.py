"""A unit's agreed next steps after a course (KS's team reflection: "agree the next step for
the unit"): recorded by its manager, shown on the unit's page and in its report."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from elearn.domain.errors import N_, DomainError, NotFound
from elearn.models import UnitNextStep
from elearn.services import audit

EXPORT_HEADER = ("unit", "course", "action", "owner", "due", "done")


def add_step(
    *,
    session: Session,
    unit_id: int,
    course_id: str,
    action: str,
    owner: str,
    due: date,
    actor_id: int,
    now: datetime,
    reflection_id: int | None = None,
) -> UnitNextStep:
    """Record a next step for a unit the caller manages (the caller checked the scope)."""
    if due < now.date():
        raise DomainError(N_("The due date has passed: choose today or a later day."))
    step = UnitNextStep(
        unit_id=unit_id,
        course_id=course_id,
        action=action,
        owner=owner,
        due=due,
        reflection_id=reflection_id,
        created_by_id=actor_id,
        created_at=now,
    )
    session.add(step)
    session.flush()
    audit.record(
        session=session,
        action="unit.next_step_added",
        subject=f"unit:{unit_id}",
        now=now,
        actor_id=actor_id,
        data={"step": step.id, "course": course_id, "due": due.isoformat()},
    )
    return step


def set_done(
    *, session: Session, unit_id: int, step_id: int, done: bool, actor_id: int, now: datetime
) -> UnitNextStep:
    """Mark a step of this unit done (or not done again); a step of another unit is not found."""
    step = session.get(UnitNextStep, step_id)
    if step is None or step.unit_id != unit_id:
        raise NotFound(N_("There is no such next step in this unit."))
    if (step.done_at is not None) == done:
        return step  # already so: a second click changes nothing
    step.done_at = now if done else None
    session.add(step)
    session.flush()
    audit.record(
        session=session,
        action="unit.next_step_done" if done else "unit.next_step_reopened",
        subject=f"unit:{unit_id}",
        now=now,
        actor_id=actor_id,
        data={"step": step_id},
    )
    return step


def steps_for(*, session: Session, unit_ids: Iterable[int]) -> list[UnitNextStep]:
    """The steps of these units, open ones first, then by due date."""
    ids = list(unit_ids)
    if not ids:
        return []
    return list(
        session.exec(
            select(UnitNextStep)
            .where(col(UnitNextStep.unit_id).in_(ids))
            .order_by(
                col(UnitNextStep.done_at).is_not(None),
                col(UnitNextStep.due),
                col(UnitNextStep.id),
            )
        )
    )


def export_rows(*, steps: list[UnitNextStep], unit_names: dict[int, str]) -> list[list[Any]]:
    return [
        [
            unit_names.get(s.unit_id, ""),
            s.course_id,
            s.action,
            s.owner,
            s.due.isoformat(),
            s.done_at.date().isoformat() if s.done_at else "",
        ]
        for s in steps
    ]
