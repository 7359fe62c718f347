"""Events: create them, list them, register (signed in or as a guest), the waiting list, check-in,
materials, evaluations, reminders and the deletion of guests' data.

Capacity holds under concurrency because every change of places first takes the event's row:
on SQLite every writing request begins IMMEDIATE (one writer at a time), on PostgreSQL
``SELECT ... FOR UPDATE`` on the event row serialises the registrations of one event.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from elearn.domain import events as rules
from elearn.domain.errors import N_, Conflict, InvalidAnswer, NotFound
from elearn.domain.events import ACTIVE, SessionTime
from elearn.domain.staff import normalise_email
from elearn.models import (
    Event,
    EventEvaluation,
    EventMaterial,
    EventOrganiser,
    EventRegistration,
    EventSession,
    OrgUnit,
    StoredFile,
    User,
)
from elearn.services import event_mail, files
from elearn.services.event_mail import Links

ORGANISING = ("organiser", "admin")


@dataclass(frozen=True)
class Site:
    """What links need: the public address and the app's secret (personal links are HMACs)."""

    base_url: str
    secret: bytes

    def links(self, reg: EventRegistration) -> Links:
        token = rules.personal_token(self.secret, reg.nonce)
        check = rules.check_in_token(self.secret, reg.nonce)
        base = self.base_url.rstrip("/")
        return Links(
            event=f"{base}/events/{reg.event_id}",
            personal=f"{base}/events/registration/{token}",
            confirm=f"{base}/events/registration/{token}/confirm",
            check_in=f"{base}/organise/events/{reg.event_id}/check-in/{check}",
        )


@dataclass(frozen=True)
class Draft:
    """An event as the organiser's form gives it."""

    kind: str
    language: str
    title: dict[str, str]
    description: dict[str, str]
    sessions: list[SessionTime]
    deadline: datetime  # aware
    place: str = ""
    online_url: str = ""
    capacity_in_person: int = 0
    capacity_online: int = 0
    audience_types: list[str] = field(default_factory=list)
    audience_units: list[int] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)  # labels, in the event's language
    contact_name: str = ""
    contact_email: str = ""


@dataclass(frozen=True)
class EventView:
    event: Event
    sessions: list[EventSession]
    taken: dict[str, int]  # places held per mode (confirmed and pending)
    waiting: dict[str, int]

    @property
    def modes(self) -> list[str]:
        return rules.modes_of(self.event.place, self.event.online_url)

    def capacity(self, mode: str) -> int:
        e = self.event
        return e.capacity_in_person if mode == "in_person" else e.capacity_online

    def free(self, mode: str) -> int:
        return max(0, self.capacity(mode) - self.taken.get(mode, 0))

    def full(self) -> bool:
        return all(self.free(m) == 0 for m in self.modes)


@dataclass(frozen=True)
class Person:
    """Who registers: a signed-in user (``user_id``) or a guest."""

    name: str
    email: str
    organisation: str
    org_type: str | None
    user_id: int | None = None
    unit_path: tuple[int, ...] = ()


@dataclass(frozen=True)
class Registered:
    registration: EventRegistration
    created: bool  # False: the address had a registration already (its owner was told)


# --- organising ---------------------------------------------------------------------------------


def create_event(
    *, session: Session, draft: Draft, organiser_ids: Sequence[int], created_by: int, now: datetime
) -> Event:
    """Check and store a new event with its sessions; its creator organises it."""
    if draft.kind not in rules.KINDS:
        raise InvalidAnswer(N_("Choose a kind of event from the list."))
    if draft.language not in rules.LANGUAGES:
        raise InvalidAnswer(N_("Choose a language from the list."))
    if not any(draft.title.values()):
        raise InvalidAnswer(N_("Give the event a title."))
    if any(t not in rules.ORG_TYPES for t in draft.audience_types):
        raise InvalidAnswer(N_("Choose organisation types from the list."))
    times = rules.check_schedule(draft.sessions, draft.deadline, now)
    rules.check_capacity(
        draft.place, draft.online_url, draft.capacity_in_person, draft.capacity_online
    )
    for unit_id in draft.audience_units:
        if session.get(OrgUnit, unit_id) is None:
            raise InvalidAnswer(N_("There is no such unit."))
    questions = [
        {"id": f"q{i + 1}", "label": {draft.language: label.strip()}}
        for i, label in enumerate(draft.questions)
        if label.strip()
    ]
    event = Event(
        kind=draft.kind,
        language=draft.language,
        title={k: v for k, v in draft.title.items() if v},
        description={k: v for k, v in draft.description.items() if v},
        place=draft.place,
        online_url=draft.online_url,
        capacity_in_person=draft.capacity_in_person if draft.place else 0,
        capacity_online=draft.capacity_online if draft.online_url else 0,
        registration_deadline=draft.deadline,
        starts_at=times[0][0],
        ends_at=max(end for _s, end, _t in times),
        audience_types=list(draft.audience_types),
        audience_units=list(draft.audience_units),
        questions=questions,
        contact_name=draft.contact_name,
        contact_email=draft.contact_email,
        created_by_id=created_by,
        created_at=now,
    )
    session.add(event)
    session.flush()
    assert event.id is not None
    for start, end, tz in times:
        session.add(EventSession(event_id=event.id, starts_at=start, ends_at=end, tz=tz))
    for user_id in {created_by, *organiser_ids}:
        session.add(EventOrganiser(event_id=event.id, user_id=user_id))
    session.flush()
    return event


def organised_by(*, session: Session, user_id: int, is_admin: bool) -> list[Event]:
    query = select(Event).order_by(col(Event.starts_at).desc())
    if not is_admin:
        query = query.join(EventOrganiser, EventOrganiser.event_id == Event.id).where(  # type: ignore[arg-type]
            EventOrganiser.user_id == user_id
        )
    return list(session.exec(query))


def check_organiser(*, session: Session, event_id: int, user_id: int, is_admin: bool) -> Event:
    """The event, if this user organises it (an admin organises all); else 'not found'."""
    event = session.get(Event, event_id)
    if event is None or (not is_admin and session.get(EventOrganiser, (event_id, user_id)) is None):
        raise NotFound(N_("There is no such event."))
    return event


def cancel_event(*, session: Session, event_id: int, site: Site, now: datetime) -> int:
    """Cancel the event and tell everyone registered or waiting; returns how many were told."""
    event = _locked(session, event_id)
    if event.cancelled_at is not None:
        raise Conflict(N_("The event is already cancelled."))
    event.cancelled_at = now
    sessions = sessions_of(session=session, event_id=event_id)
    told = 0
    for reg in session.exec(
        select(EventRegistration).where(
            EventRegistration.event_id == event_id,
            col(EventRegistration.status).in_(("confirmed", "pending", "waiting")),
        )
    ):
        event_mail.cancelled_by_organiser(
            session=session, event=event, sessions=sessions, reg=reg, links=site.links(reg), now=now
        )
        told += 1
    session.flush()
    return told


# --- reading ------------------------------------------------------------------------------------


def sessions_of(*, session: Session, event_id: int) -> list[EventSession]:
    return list(
        session.exec(
            select(EventSession)
            .where(EventSession.event_id == event_id)
            .order_by(col(EventSession.starts_at))
        )
    )


def _counts(session: Session, event_ids: Sequence[int]) -> dict[int, tuple[Counter, Counter]]:
    out: dict[int, tuple[Counter[str], Counter[str]]] = {
        i: (Counter(), Counter()) for i in event_ids
    }
    if not event_ids:
        return out
    for event_id, mode, status in session.exec(
        select(EventRegistration.event_id, EventRegistration.mode, EventRegistration.status).where(
            col(EventRegistration.event_id).in_(event_ids),
            col(EventRegistration.status).in_((*ACTIVE, "waiting")),
        )
    ):
        taken, waiting = out[event_id]
        (taken if status in ACTIVE else waiting)[mode] += 1
    return out


def view(*, session: Session, event_id: int) -> EventView:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(N_("There is no such event."))
    taken, waiting = _counts(session, [event_id])[event_id]
    return EventView(event, sessions_of(session=session, event_id=event_id), taken, waiting)


def upcoming(
    *,
    session: Session,
    now: datetime,
    kind: str | None = None,
    language: str | None = None,
    mode: str | None = None,
) -> list[EventView]:
    """Events not yet over and not cancelled, soonest first, filtered."""
    query = select(Event).where(Event.ends_at > now, col(Event.cancelled_at).is_(None))
    if kind:
        query = query.where(Event.kind == kind)
    if language:
        query = query.where(Event.language == language)
    if mode == "online":
        query = query.where(Event.online_url != "")
    elif mode == "in_person":
        query = query.where(Event.place != "")
    found = list(session.exec(query.order_by(col(Event.starts_at)).limit(200)))
    ids = [e.id for e in found if e.id is not None]
    counts = _counts(session, ids)
    by_event: dict[int, list[EventSession]] = {i: [] for i in ids}
    if ids:
        for s in session.exec(
            select(EventSession)
            .where(col(EventSession.event_id).in_(ids))
            .order_by(col(EventSession.starts_at))
        ):
            by_event[s.event_id].append(s)
    return [EventView(e, by_event[e.id or 0], *counts[e.id or 0]) for e in found]


def unit_path_of(*, session: Session, unit_id: int | None) -> tuple[tuple[int, ...], str | None]:
    """A unit and its ancestors, and the organisation type of the top one."""
    path: list[int] = []
    org_type = None
    seen = 0
    while unit_id is not None and seen < 50:
        unit = session.get(OrgUnit, unit_id)
        if unit is None:
            break
        path.append(unit_id)
        org_type = unit.org_type
        unit_id = unit.parent_id
        seen += 1
    return tuple(path), org_type


def registration_of_user(
    *, session: Session, event_id: int, user_id: int
) -> EventRegistration | None:
    return session.exec(
        select(EventRegistration).where(
            EventRegistration.event_id == event_id,
            EventRegistration.user_id == user_id,
            EventRegistration.status != "cancelled",
        )
    ).first()


def by_token(*, session: Session, token: str, secret: bytes) -> EventRegistration:
    """The registration a personal link names; a forged or altered link is 'not found'."""
    nonce = rules.nonce_of(token, secret)
    reg = None
    if nonce is not None:
        reg = session.exec(
            select(EventRegistration).where(EventRegistration.nonce == nonce)
        ).first()
    if reg is None:
        raise NotFound(N_("This link is not valid. Use the link in your latest e-mail."))
    return reg


# --- registering --------------------------------------------------------------------------------


def _locked(session: Session, event_id: int) -> Event:
    """The event's row, locked for the rest of the transaction (PostgreSQL); SQLite's IMMEDIATE
    transaction already keeps every other writer out."""
    event = session.exec(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if event is None:
        raise NotFound(N_("There is no such event."))
    return event


def _taken(session: Session, event_id: int, mode: str) -> tuple[int, int]:
    taken = waiting = 0
    for status, confirmed in session.exec(
        select(EventRegistration.status, EventRegistration.confirmed_at).where(
            EventRegistration.event_id == event_id,
            EventRegistration.mode == mode,
            col(EventRegistration.status).in_((*ACTIVE, "waiting")),
        )
    ):
        if status in ACTIVE:
            taken += 1
        elif confirmed is not None:
            waiting += 1
    return taken, waiting


def _capacity(event: Event, mode: str) -> int:
    return event.capacity_in_person if mode == "in_person" else event.capacity_online


def _answers(event: Event, given: dict[str, str]) -> dict[str, str]:
    known = {q["id"] for q in event.questions}
    return {k: v.strip()[:1000] for k, v in given.items() if k in known and v.strip()}


def register(
    *,
    session: Session,
    event_id: int,
    person: Person,
    mode: str,
    answers: dict[str, str],
    lang: str,
    site: Site,
    now: datetime,
) -> Registered:
    """A place (or a place in the queue). A guest's place is held until the address is confirmed
    (24 hours); a signed-in user's is theirs at once. An address already registered gets its
    link again by e-mail, and the page answers as for a new registration."""
    event = _locked(session, event_id)
    release_expired(session=session, now=now, event_id=event_id, site=site)
    if not rules.registration_open(
        deadline=event.registration_deadline, cancelled=event.cancelled_at is not None, now=now
    ):
        raise Conflict(N_("Registration for this event is closed."))
    if mode not in rules.modes_of(event.place, event.online_url):
        raise InvalidAnswer(N_("Choose how you take part from the list."))
    if person.org_type is not None and person.org_type not in rules.ORG_TYPES:
        raise InvalidAnswer(N_("Choose an organisation type from the list."))
    if not rules.in_audience(
        audience_types=event.audience_types,
        audience_units=event.audience_units,
        org_type=person.org_type,
        unit_path=person.unit_path,
    ):
        raise Conflict(N_("This event is only for the organisations it names."))
    email = normalise_email(person.email)
    existing = session.exec(
        select(EventRegistration).where(
            EventRegistration.event_id == event_id,
            EventRegistration.email == email,
            EventRegistration.status != "cancelled",
        )
    ).first()
    if existing is not None:
        if person.user_id is None:
            event_mail.existing(
                session=session, event=event, reg=existing, links=site.links(existing), now=now
            )
        return Registered(existing, False)
    taken, queue = _taken(session, event_id, mode)
    status = rules.place_status(taken=taken, capacity=_capacity(event, mode), queue=queue)
    guest = person.user_id is None
    if guest and status == "confirmed":
        status = "pending"
    reg = EventRegistration(
        event_id=event_id,
        user_id=person.user_id,
        nonce=secrets.token_hex(12),
        name=person.name,
        email=email,
        organisation=person.organisation,
        org_type=person.org_type,
        mode=mode,
        answers=_answers(event, answers),
        language=lang if lang in rules.LANGUAGES else event.language,
        status=status,
        held_until=now + rules.GUEST_HOLD if guest else None,
        created_at=now,
        confirmed_at=None if guest else now,
        guest=guest,
    )
    session.add(reg)
    session.flush()
    if guest:
        event_mail.guest_confirm(
            session=session, event=event, reg=reg, links=site.links(reg), now=now
        )
    else:
        event_mail.confirmation(
            session=session,
            event=event,
            sessions=sessions_of(session=session, event_id=event_id),
            reg=reg,
            links=site.links(reg),
            now=now,
        )
    return Registered(reg, True)


def confirm_guest(*, session: Session, token: str, site: Site, now: datetime) -> EventRegistration:
    """The guest's address is theirs: a held place becomes theirs, a queued one counts."""
    reg = by_token(session=session, token=token, secret=site.secret)
    event = _locked(session, reg.event_id)
    release_expired(session=session, now=now, event_id=reg.event_id, site=site)
    if reg.status == "cancelled":
        raise Conflict(
            N_("The place was held for 24 hours and has been released. Please register again.")
        )
    if reg.confirmed_at is not None:
        return reg
    reg.confirmed_at = now
    reg.held_until = None
    if reg.status == "pending":
        reg.status = "confirmed"
    session.flush()
    sessions = sessions_of(session=session, event_id=event.id or 0)
    event_mail.confirmation(
        session=session, event=event, sessions=sessions, reg=reg, links=site.links(reg), now=now
    )
    _promote(session, event, reg.mode, site, now)
    return reg


def change(
    *,
    session: Session,
    token: str,
    mode: str,
    answers: dict[str, str],
    site: Site,
    now: datetime,
) -> EventRegistration:
    """Change the mode (if a place is free in it) and the answers."""
    reg = by_token(session=session, token=token, secret=site.secret)
    event = _locked(session, reg.event_id)
    if reg.status == "cancelled":
        raise Conflict(N_("This registration is cancelled."))
    if event.cancelled_at is not None or now >= event.starts_at:
        raise Conflict(N_("This registration can no longer be changed."))
    if mode not in rules.modes_of(event.place, event.online_url):
        raise InvalidAnswer(N_("Choose how you take part from the list."))
    reg.answers = _answers(event, answers)
    if mode != reg.mode:
        old = reg.mode
        if reg.status in ACTIVE:
            taken, queue = _taken(session, event.id or 0, mode)
            if rules.place_status(taken=taken, capacity=_capacity(event, mode), queue=queue) != (
                "confirmed"
            ):
                raise Conflict(N_("There is no free place for that way of taking part."))
        reg.mode = mode
        session.flush()
        _promote(session, event, old, site, now)
    session.flush()
    return reg


def cancel_registration(
    *, session: Session, token: str, site: Site, now: datetime
) -> EventRegistration:
    """Give the place up; the first in line gets it."""
    reg = by_token(session=session, token=token, secret=site.secret)
    event = _locked(session, reg.event_id)
    if reg.status == "cancelled":
        return reg
    reg.status, reg.cancelled_at, reg.held_until = "cancelled", now, None
    session.flush()
    _promote(session, event, reg.mode, site, now)
    return reg


def _promote(
    session: Session, event: Event, mode: str, site: Site, now: datetime
) -> list[EventRegistration]:
    """Give free places to the confirmed people waiting longest, and tell them."""
    if event.cancelled_at is not None or now >= event.starts_at:
        return []
    taken, _queue = _taken(session, event.id or 0, mode)
    free = _capacity(event, mode) - taken
    if free <= 0:
        return []
    lucky = list(
        session.exec(
            select(EventRegistration)
            .where(
                EventRegistration.event_id == event.id,
                EventRegistration.mode == mode,
                EventRegistration.status == "waiting",
                col(EventRegistration.confirmed_at).is_not(None),
            )
            .order_by(col(EventRegistration.created_at), col(EventRegistration.id))
            .limit(free)
        )
    )
    sessions = sessions_of(session=session, event_id=event.id or 0) if lucky else []
    for reg in lucky:
        reg.status, reg.promoted_at = "confirmed", now
        event_mail.promoted(
            session=session, event=event, sessions=sessions, reg=reg, links=site.links(reg), now=now
        )
    session.flush()
    return lucky


def release_expired(
    *, session: Session, now: datetime, site: Site, event_id: int | None = None
) -> int:
    """Release the places (and queue places) of guests who did not confirm within 24 hours,
    and promote those waiting. Returns how many were released."""
    query = select(EventRegistration).where(
        EventRegistration.guest,
        col(EventRegistration.confirmed_at).is_(None),
        col(EventRegistration.status).in_(("pending", "waiting")),
        col(EventRegistration.held_until) <= now,
    )
    if event_id is not None:
        query = query.where(EventRegistration.event_id == event_id)
    expired = list(session.exec(query))
    touched: set[tuple[int, str]] = set()
    for reg in expired:
        reg.status, reg.cancelled_at, reg.held_until = "cancelled", now, None
        touched.add((reg.event_id, reg.mode))
    session.flush()
    for eid, mode in sorted(touched):
        event = session.get(Event, eid)
        if event is not None:
            _promote(session, event, mode, site, now)
    return len(expired)


# --- reminders (a reminder source of the mail sender) -------------------------------------------


def queue_reminders(*, session: Session, now: datetime, site: Site) -> int:
    """Queue the day-before reminders and the online links an hour before that are due; each
    event is marked, and each message has a dedupe key, so nothing is sent twice."""
    queued = 0
    release_expired(session=session, now=now, site=site)
    for kind, ahead, mark in (
        ("day", timedelta(days=1), "reminded_day_at"),
        ("link", timedelta(hours=1), "reminded_link_at"),
    ):
        due = session.exec(
            select(Event).where(
                col(Event.cancelled_at).is_(None),
                Event.starts_at > now,
                Event.starts_at <= now + ahead,
                col(getattr(Event, mark)).is_(None),
            )
        )
        for event in due:
            sessions = sessions_of(session=session, event_id=event.id or 0)
            query = select(EventRegistration).where(
                EventRegistration.event_id == event.id, EventRegistration.status == "confirmed"
            )
            if kind == "link":
                query = query.where(EventRegistration.mode == "online")
            for reg in session.exec(query):
                event_mail.reminder(
                    session=session,
                    event=event,
                    sessions=sessions,
                    reg=reg,
                    links=site.links(reg),
                    online_link=kind == "link",
                    now=now,
                )
                queued += 1
            setattr(event, mark, now)
    session.flush()
    return queued


# --- the organiser's view -----------------------------------------------------------------------


def participants(*, session: Session, event_id: int) -> list[EventRegistration]:
    return list(
        session.exec(
            select(EventRegistration)
            .where(EventRegistration.event_id == event_id)
            .order_by(col(EventRegistration.status), col(EventRegistration.name))
        )
    )


def participants_table(
    *, event: Event, rows: Sequence[EventRegistration]
) -> tuple[list[str], list[list[object]]]:
    """The participants with their answers, as the CSV export has them."""
    labels = [rules.localized(q["label"], event.language) for q in event.questions]
    header = [
        "name",
        "email",
        "organisation",
        "organisation_type",
        "mode",
        "status",
        "registered_at",
        "checked_in_at",
        *labels,
    ]
    body: list[list[object]] = [
        [
            r.name,
            r.email,
            r.organisation,
            r.org_type or "",
            r.mode,
            r.status,
            r.created_at.isoformat(),
            r.checked_in_at.isoformat() if r.checked_in_at else "",
            *[r.answers.get(q["id"], "") for q in event.questions],
        ]
        for r in rows
    ]
    return header, body


def check_in(
    *, session: Session, event_id: int, registration_id: int, now: datetime, undo: bool = False
) -> EventRegistration:
    """Mark a confirmed participant as present (or not, with ``undo``)."""
    reg = session.get(EventRegistration, registration_id)
    if reg is None or reg.event_id != event_id:
        raise NotFound(N_("There is no such registration."))
    if reg.status != "confirmed":
        raise Conflict(N_("Only confirmed participants can be checked in."))
    reg.checked_in_at = None if undo else (reg.checked_in_at or now)
    session.flush()
    return reg


def by_check_in_token(
    *, session: Session, event_id: int, token: str, secret: bytes
) -> EventRegistration:
    nonce = rules.nonce_of(token, secret, purpose="check-in")
    reg = None
    if nonce is not None:
        reg = session.exec(
            select(EventRegistration).where(EventRegistration.nonce == nonce)
        ).first()
    if reg is None or reg.event_id != event_id:
        raise NotFound(N_("This code is not valid for this event."))
    return reg


@dataclass(frozen=True)
class Summary:
    registered: int
    by_mode: dict[str, int]
    by_org_type: dict[str, int]
    attended: int
    no_shows: int
    waiting: int
    cancelled: int
    evaluations: int
    mean_rating: float | None
    comments: list[tuple[str, str]]


def summary(*, session: Session, event_id: int) -> Summary:
    rows = participants(session=session, event_id=event_id)
    confirmed = [r for r in rows if r.status == "confirmed"]
    attended = sum(1 for r in confirmed if r.checked_in_at is not None)
    evals = list(session.exec(select(EventEvaluation).where(EventEvaluation.event_id == event_id)))
    return Summary(
        registered=len(confirmed),
        by_mode=dict(Counter(r.mode for r in confirmed)),
        by_org_type=dict(Counter(r.org_type or "" for r in confirmed)),
        attended=attended,
        no_shows=len(confirmed) - attended,
        waiting=sum(1 for r in rows if r.status == "waiting"),
        cancelled=sum(1 for r in rows if r.status == "cancelled"),
        evaluations=len(evals),
        mean_rating=sum(e.rating for e in evals) / len(evals) if evals else None,
        comments=[(e.useful, e.improve) for e in evals if e.useful or e.improve],
    )


# --- after the event ----------------------------------------------------------------------------


def add_material(
    *,
    session: Session,
    event_id: int,
    title: str,
    upload: files.Upload,
    instance_path: str,
    max_bytes: int,
    actor_id: int,
    now: datetime,
) -> EventMaterial:
    stored = files.store(
        session=session, instance_path=instance_path, upload=upload, now=now, max_bytes=max_bytes
    )
    material = EventMaterial(
        event_id=event_id,
        file_id=stored.id or 0,
        title=title.strip() or stored.filename,
        uploaded_by_id=actor_id,
        uploaded_at=now,
    )
    session.add(material)
    session.flush()
    return material


def materials(*, session: Session, event_id: int) -> list[tuple[EventMaterial, StoredFile]]:
    return [
        (m, f)
        for m, f in session.exec(
            select(EventMaterial, StoredFile)
            .join(StoredFile, StoredFile.id == EventMaterial.file_id)  # type: ignore[arg-type]
            .where(EventMaterial.event_id == event_id)
            .order_by(col(EventMaterial.uploaded_at))
        )
    ]


def material(*, session: Session, event_id: int, material_id: int) -> EventMaterial:
    found = session.get(EventMaterial, material_id)
    if found is None or found.event_id != event_id:
        raise NotFound(N_("There is no such file."))
    return found


def may_see_materials(
    *,
    session: Session,
    event_id: int,
    user_id: int | None,
    is_admin: bool,
    token: str | None,
    secret: bytes,
) -> bool:
    """Participants (by their link or their account) and the event's organisers."""
    if user_id is not None:
        if is_admin or session.get(EventOrganiser, (event_id, user_id)) is not None:
            return True
        reg = registration_of_user(session=session, event_id=event_id, user_id=user_id)
        if reg is not None and reg.status == "confirmed":
            return True
    if token:
        nonce = rules.nonce_of(token, secret)
        if nonce is not None:
            reg = session.exec(
                select(EventRegistration).where(EventRegistration.nonce == nonce)
            ).first()
            return reg is not None and reg.event_id == event_id and reg.status == "confirmed"
    return False


def evaluate(
    *,
    session: Session,
    token: str,
    rating: int,
    useful: str,
    improve: str,
    secret: bytes,
    now: datetime,
) -> EventEvaluation:
    """A participant's evaluation, once the event has started; a second one replaces the first."""
    reg = by_token(session=session, token=token, secret=secret)
    event = session.get(Event, reg.event_id)
    assert event is not None
    if reg.status != "confirmed" or now < event.starts_at:
        raise Conflict(N_("The evaluation opens for participants when the event has begun."))
    if not 1 <= rating <= 5:
        raise InvalidAnswer(N_("Choose a rating from 1 to 5."))
    found = session.exec(
        select(EventEvaluation).where(EventEvaluation.registration_id == reg.id)
    ).first()
    if found is None:
        found = EventEvaluation(
            registration_id=reg.id, event_id=reg.event_id, rating=rating, submitted_at=now
        )
        session.add(found)
    found.rating, found.useful, found.improve, found.submitted_at = rating, useful, improve, now
    session.flush()
    return found


def evaluation_of(*, session: Session, registration_id: int) -> EventEvaluation | None:
    return session.exec(
        select(EventEvaluation).where(EventEvaluation.registration_id == registration_id)
    ).first()


# --- records ------------------------------------------------------------------------------------


def attended(*, session: Session, user_id: int) -> list[tuple[Event, EventRegistration]]:
    """Events a user was checked in at: part of their learning record."""
    return [
        (e, r)
        for r, e in session.exec(
            select(EventRegistration, Event)
            .join(Event, Event.id == EventRegistration.event_id)  # type: ignore[arg-type]
            .where(
                EventRegistration.user_id == user_id,
                col(EventRegistration.checked_in_at).is_not(None),
            )
            .order_by(col(Event.starts_at).desc())
        )
    ]


# --- privacy ------------------------------------------------------------------------------------


def due_guest_registrations(*, session: Session, now: datetime, days: int) -> list[int]:
    """Guests' registrations of events that ended ``days`` ago or more."""
    old_events = select(Event.id).where(Event.ends_at <= now - timedelta(days=days))
    return [
        i
        for i in session.exec(
            select(EventRegistration.id).where(
                EventRegistration.guest, col(EventRegistration.event_id).in_(old_events)
            )
        )
        if i is not None
    ]


def purge_guest_registrations(session: Session, now: datetime, *, days: int = 365) -> int:
    """Delete guests' registrations of events that ended ``days`` ago or more (the one rule for
    guests' data; the privacy issue folds it into its retention rules). Evaluations stay,
    without the link to the person. Returns how many were deleted."""
    ids = due_guest_registrations(session=session, now=now, days=days)
    if not ids:
        return 0
    session.exec(  # type: ignore[call-overload]
        update(EventEvaluation)
        .where(col(EventEvaluation.registration_id).in_(ids))
        .values(registration_id=None)
    )
    session.exec(delete(EventRegistration).where(col(EventRegistration.id).in_(ids)))  # type: ignore[call-overload]
    session.flush()
    return len(ids)


def organisation_types(*, session: Session) -> list[OrgUnit]:
    return list(
        session.exec(select(OrgUnit).where(col(OrgUnit.parent_id).is_(None)).order_by(OrgUnit.name))
    )


def set_org_type(*, session: Session, unit_id: int, org_type: str | None) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None or unit.parent_id is not None:
        raise NotFound(N_("There is no such top-level unit."))
    if org_type is not None and org_type not in rules.ORG_TYPES:
        raise InvalidAnswer(N_("Choose an organisation type from the list."))
    unit.org_type = org_type
    session.flush()
    return unit


def user_person(*, session: Session, user_id: int) -> Person:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("There is no such user."))
    path, org_type = unit_path_of(session=session, unit_id=user.org_unit_id)
    organisation = ""
    if path:
        top = session.get(OrgUnit, path[-1])
        organisation = top.name if top else ""
    return Person(user.name, user.email, organisation, org_type, user.id, path)


def questions(*, event: Event, lang: str) -> list[tuple[str, str]]:
    return [(q["id"], rules.localized(q["label"], lang)) for q in event.questions]


def organiser_ids(*, session: Session, emails: Sequence[str]) -> list[int]:
    """The users named as organisers; each must hold the organiser (or admin) role."""
    from elearn.models import UserRole

    ids = []
    for email in emails:
        user = session.exec(select(User).where(User.email == normalise_email(email))).first()
        roles = (
            set(session.exec(select(UserRole.role).where(UserRole.user_id == user.id)))
            if user
            else set()
        )
        if user is None or user.id is None or not roles.intersection(ORGANISING):
            raise InvalidAnswer(N_("Every organiser must be a user with the organiser role."))
        ids.append(user.id)
    return ids


@dataclass(frozen=True)
class UnitAttendance:
    event: Event
    registered: int  # staff of the units with a place
    attended: int  # of them, checked in


def attendance_in_units(*, session: Session, unit_ids: set[int]) -> list[UnitAttendance]:
    """Events the staff of these units registered for, with how many came: the manager's
    completion report shows them beside courses and exams."""
    if not unit_ids:
        return []
    staff = select(User.id).where(col(User.org_unit_id).in_(unit_ids))
    counts: dict[int, list[int]] = {}
    for event_id, checked in session.exec(
        select(EventRegistration.event_id, EventRegistration.checked_in_at).where(
            col(EventRegistration.user_id).in_(staff), EventRegistration.status == "confirmed"
        )
    ):
        pair = counts.setdefault(event_id, [0, 0])
        pair[0] += 1
        pair[1] += checked is not None
    if not counts:
        return []
    found = session.exec(
        select(Event).where(col(Event.id).in_(list(counts))).order_by(col(Event.starts_at).desc())
    )
    return [UnitAttendance(e, *counts[e.id or 0]) for e in found]


def registrations_of(*, session: Session, user_id: int) -> list[tuple[Event, EventRegistration]]:
    """A user's registrations that are not cancelled, newest event first (their record)."""
    return [
        (e, r)
        for r, e in session.exec(
            select(EventRegistration, Event)
            .join(Event, Event.id == EventRegistration.event_id)  # type: ignore[arg-type]
            .where(EventRegistration.user_id == user_id, EventRegistration.status != "cancelled")
            .order_by(col(Event.starts_at).desc())
        )
    ]


# --- wiring: the site every session knows, and the reminder source ------------------------------

SITE_INFO = "elearn.events_site"
_SOURCE_REGISTERED: list[bool] = []


def init_app(app: Any) -> None:
    """Every session carries the site (public address, secret) so that a job given only a session
    (the mail sender's reminder sources) can make personal links; the reminders are registered
    with the mail sender once per process."""
    from elearn.db import SESSION_INFO

    secret = app.secret_key
    base = app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000"
    app.extensions.setdefault(SESSION_INFO, {})[SITE_INFO] = Site(
        base_url=base, secret=secret.encode() if isinstance(secret, str) else bytes(secret)
    )
    if not _SOURCE_REGISTERED:
        try:
            from elearn.services import mail  # type: ignore[attr-defined,unused-ignore]
        except ImportError:  # the outbox is not merged yet
            return
        mail.register_reminder_source(reminder_source)
        _SOURCE_REGISTERED.append(True)


def site_of(*, session: Session) -> Site:
    site: Site | None = session.info.get(SITE_INFO)
    if site is None:
        raise RuntimeError("events.init_app has not run for this session's app")
    return site


def reminder_source(session: Session, now: datetime) -> int:
    """The mail sender's hook: queue the events' due reminders and release expired holds."""
    return queue_reminders(session=session, now=now, site=site_of(session=session))
