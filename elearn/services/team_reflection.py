"""Team reflection sessions: a manager schedules one for a unit after a course (an event of
the unit), participants answer the questions (sharing what they choose), and the manager
records the next steps the unit agreed."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlmodel import Session, col, select

from elearn.content.markdown import render
from elearn.domain import team_reflection as rules
from elearn.domain.errors import N_, InvalidAnswer, NotFound
from elearn.domain.events import SessionTime
from elearn.domain.localize import pick
from elearn.models import (
    Event,
    OrgUnit,
    TeamReflection,
    TeamReflectionAnswer,
    UnitNextStep,
    User,
)
from elearn.services import events, learning, next_steps

TAG = re.compile(r"<[^>]+>")


def course_prompts(*, session: Session, course_id: str, lang: str) -> list[str]:
    """The reflection prompts of the course's modules, as plain text, in order."""
    view = learning.load_course(session=session, course_id=course_id)
    out = []
    for module in view.modules:
        body = pick(module.body, lang, view.spec.default_language).value
        for segment in render(body):
            if segment.kind == "reflection":
                text = " ".join(TAG.sub(" ", segment.html).split())
                if text:
                    out.append(text)
    return out[: rules.MAX_PROMPTS]


def schedule(
    *,
    session: Session,
    unit_id: int,
    course_id: str,
    title: str,
    start: SessionTime,
    place: str,
    actor_id: int,
    lang: str,
    now: datetime,
) -> TeamReflection:
    """An event for the unit's staff (its audience is the unit) and the session's questions."""
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise NotFound(N_("There is no such unit."))
    prompts = course_prompts(session=session, course_id=course_id, lang=lang)
    if not place.strip():
        raise InvalidAnswer(N_("Say where the session is held."))
    draft = events.Draft(
        kind="workshop",
        language=lang if lang in ("nb", "da", "en") else "nb",
        title={lang: title},
        description={lang: title},
        sessions=[start],
        deadline=start.utc()[0],
        place=place,
        capacity_in_person=500,
        audience_units=[unit_id],
    )
    event = events.create_event(
        session=session, draft=draft, organiser_ids=[], created_by=actor_id, now=now
    )
    assert event.id is not None
    row = TeamReflection(
        unit_id=unit_id,
        course_id=course_id,
        event_id=event.id,
        prompts=prompts,
        created_by_id=actor_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def for_units(*, session: Session, unit_ids: Sequence[int]) -> list[tuple[TeamReflection, Event]]:
    return list(
        session.exec(
            select(TeamReflection, Event)
            .join(Event, col(Event.id) == col(TeamReflection.event_id))
            .where(col(TeamReflection.unit_id).in_(list(unit_ids)))
            .order_by(col(Event.starts_at).desc())
        )
    )


def of_user(*, session: Session, user: User) -> list[tuple[TeamReflection, Event]]:
    """The sessions of the person's unit and the units above it."""
    path, _type = events.unit_path_of(session=session, unit_id=user.org_unit_id)
    return for_units(session=session, unit_ids=path)


def check_member(*, session: Session, reflection_id: int, user: User) -> TeamReflection:
    row = session.get(TeamReflection, reflection_id)
    path, _type = events.unit_path_of(session=session, unit_id=user.org_unit_id)
    if row is None or row.unit_id not in path:
        raise NotFound(N_("There is no such reflection session."))
    return row


def check_unit(*, session: Session, reflection_id: int, unit_id: int) -> TeamReflection:
    row = session.get(TeamReflection, reflection_id)
    if row is None or row.unit_id != unit_id:
        raise NotFound(N_("There is no such reflection session."))
    return row


def answers(*, session: Session, reflection_id: int) -> list[tuple[TeamReflectionAnswer, User]]:
    return list(
        session.exec(
            select(TeamReflectionAnswer, User)
            .join(User, col(User.id) == col(TeamReflectionAnswer.user_id))
            .where(TeamReflectionAnswer.reflection_id == reflection_id)
            .order_by(col(TeamReflectionAnswer.key), col(User.name))
        )
    )


def visible_answers(
    *, session: Session, reflection_id: int, viewer_id: int | None
) -> list[tuple[TeamReflectionAnswer, User]]:
    """Own answers and shared ones (``viewer_id`` None: the manager, who sees shared only)."""
    rows = answers(session=session, reflection_id=reflection_id)
    plain = {
        r.id: rules.Answer(user_id=r.user_id, key=r.key, text=r.answer, shared=r.shared)
        for r, _u in rows
    }
    keep = {
        id(a)
        for a in (
            rules.visible(plain.values(), viewer_id=viewer_id)
            if viewer_id is not None
            else rules.shared(plain.values())
        )
    }
    return [(r, u) for r, u in rows if id(plain[r.id]) in keep]


def save_answers(
    *,
    session: Session,
    reflection: TeamReflection,
    user_id: int,
    given: Mapping[str, tuple[str, bool]],
    now: datetime,
) -> None:
    """The participant's answers (text, shared) by key; an unknown key is refused."""
    allowed = set(rules.keys(len(reflection.prompts)))
    if any(k not in allowed for k in given):
        raise InvalidAnswer(N_("There is no such question in this session."))
    existing = {
        a.key: a
        for a in session.exec(
            select(TeamReflectionAnswer).where(
                TeamReflectionAnswer.reflection_id == reflection.id,
                TeamReflectionAnswer.user_id == user_id,
            )
        )
    }
    for key, (text, shared) in given.items():
        row = existing.get(key) or TeamReflectionAnswer(
            reflection_id=reflection.id or 0, user_id=user_id, key=key, answer="", updated_at=now
        )
        row.answer, row.shared, row.updated_at = text, shared and bool(text.strip()), now
        session.add(row)
    session.flush()


def add_action(
    *,
    session: Session,
    unit_id: int,
    reflection_id: int,
    course_id: str,
    title: str,
    owner: str,
    due_on: date,
    actor_id: int,
    now: datetime,
) -> UnitNextStep:
    """A next step agreed at the session: one of the unit's next steps (``next_steps``), shown
    on the unit's page and in its report beside completion, marked with the session."""
    if not title.strip():
        raise InvalidAnswer(N_("Say what the next step is."))
    return next_steps.add_step(
        session=session,
        unit_id=unit_id,
        course_id=course_id,
        action=title.strip(),
        owner=owner.strip(),
        due=due_on,
        actor_id=actor_id,
        now=now,
        reflection_id=reflection_id,
    )


def actions_for(*, session: Session, reflection_id: int) -> list[UnitNextStep]:
    return list(
        session.exec(
            select(UnitNextStep)
            .where(UnitNextStep.reflection_id == reflection_id)
            .order_by(col(UnitNextStep.due), col(UnitNextStep.id))
        )
    )
