"""Every e-mail about events, in one place: what is queued, to whom, with which template.

Messages go to the outbox (``elearn.services.mail``) in the caller's transaction. Each call also
notes the message in ``session.info["event_mail"]`` so that tests and the demo can see what was
queued without reading the outbox. Templates: ``templates/mail/events/<name>.*``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from elearn.domain.events import localized
from elearn.domain.ical import IcalSession, invitation
from elearn.models import Event, EventRegistration, EventSession
from elearn.services import mail

NOTED = "event_mail"


@dataclass(frozen=True)
class Links:
    """Absolute addresses the messages carry (made by the caller, which knows the site)."""

    event: str
    personal: str = ""
    confirm: str = ""
    check_in: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Noted:
    to: str
    template: str
    lang: str
    context: dict[str, Any]
    attachments: tuple[Any, ...]
    dedupe_key: str | None


def _queue(
    session: Session,
    *,
    to: str,
    template: str,
    lang: str,
    context: dict[str, Any],
    now: datetime,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    dedupe_key: str | None = None,
    reply_to: str | None = None,
) -> None:
    files = tuple(mail.Attachment(n, t, d) for n, t, d in attachments)
    mail.queue_mail(
        session,
        to=to,
        template=f"events/{template}",
        lang=lang,
        context=context,
        attachments=files,
        dedupe_key=dedupe_key,
        reply_to=reply_to or None,
        now=now,
    )
    session.info.setdefault(NOTED, []).append(Noted(to, template, lang, context, files, dedupe_key))


TZ_NAMES = {
    "Europe/Oslo": {"nb": "norsk tid", "da": "norsk tid", "en": "Norwegian time"},
    "Europe/Copenhagen": {"nb": "dansk tid", "da": "dansk tid", "en": "Danish time"},
}


def when(*, sessions: Sequence[EventSession], lang: str) -> list[str]:
    """Each session as the recipient reads it, in the session's own time zone."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_date

    locale = {"nb": "nb_NO", "da": "da_DK"}.get(lang, "en_GB")
    out = []
    for s in sessions:
        zone = ZoneInfo(s.tz)
        start, end = s.starts_at.astimezone(zone), s.ends_at.astimezone(zone)
        day = format_date(start.date(), "full", locale=locale)
        label = TZ_NAMES.get(s.tz, {}).get(lang, s.tz)
        if start.date() == end.date():
            out.append(f"{day}, {start:%H:%M}\u2013{end:%H:%M} ({label})")
        else:
            last = format_date(end.date(), "full", locale=locale)
            out.append(f"{day}, {start:%H:%M} \u2013 {last}, {end:%H:%M} ({label})")
    return out


def _context(event: Event, reg: EventRegistration, links: Links, **more: Any) -> dict[str, Any]:
    return {
        "name": reg.name,
        "title": localized(event.title, reg.language),
        "event_url": links.event,
        "personal_url": links.personal,
        "confirm_url": links.confirm,
        "check_in_url": links.check_in,
        "place": event.place,
        "mode": reg.mode,
        "status": reg.status,
        "contact_name": event.contact_name,
        "contact_email": event.contact_email,
        **more,
    }


def calendar_file(
    *,
    event: Event,
    sessions: Sequence[EventSession],
    reg: EventRegistration,
    links: Links,
    now: datetime,
    method: str = "REQUEST",
) -> bytes:
    """The .ics of the person's sessions (the online link only inside, for a registered person)."""
    location = event.place if reg.mode == "in_person" else event.online_url
    return invitation(
        sessions=[
            IcalSession(f"event-{event.id}-session-{s.id}@elearn", s.starts_at, s.ends_at, s.tz)
            for s in sessions
        ],
        title=localized(event.title, reg.language),
        description=localized(event.description, reg.language) + "\n\n" + links.personal,
        location=location,
        url=links.event,
        organiser_email=event.contact_email,
        stamp=now,
        method=method,
    )


def guest_confirm(
    *, session: Session, event: Event, reg: EventRegistration, links: Links, now: datetime
) -> None:
    """Double opt-in: the guest confirms the address before the place is theirs."""
    _queue(
        session,
        to=reg.email,
        template="confirm_address",
        lang=reg.language,
        now=now,
        context=_context(event, reg, links),
        reply_to=event.contact_email,
    )


def confirmation(
    *,
    session: Session,
    event: Event,
    sessions: Sequence[EventSession],
    reg: EventRegistration,
    links: Links,
    now: datetime,
    template: str = "confirmation",
) -> None:
    """Registered (or on the waiting list): the details, the personal link, and an .ics."""
    attachments: list[tuple[str, str, bytes]] = []
    if reg.status == "confirmed":
        ics = calendar_file(event=event, sessions=sessions, reg=reg, links=links, now=now)
        attachments.append(("invitation.ics", "text/calendar; method=REQUEST", ics))
    _queue(
        session,
        to=reg.email,
        template=template,
        lang=reg.language,
        now=now,
        context=_context(
            event,
            reg,
            links,
            when=when(sessions=sessions, lang=reg.language),
            online_url=event.online_url
            if reg.mode == "online" and reg.status == "confirmed"
            else "",
        ),
        attachments=attachments,
        reply_to=event.contact_email,
    )


def promoted(
    *,
    session: Session,
    event: Event,
    sessions: Sequence[EventSession],
    reg: EventRegistration,
    links: Links,
    now: datetime,
) -> None:
    confirmation(
        session=session,
        event=event,
        sessions=sessions,
        reg=reg,
        links=links,
        now=now,
        template="promoted",
    )


def cancelled_by_organiser(
    *,
    session: Session,
    event: Event,
    sessions: Sequence[EventSession],
    reg: EventRegistration,
    links: Links,
    now: datetime,
) -> None:
    attachments = []
    if reg.status == "confirmed":
        ics = calendar_file(
            event=event, sessions=sessions, reg=reg, links=links, now=now, method="CANCEL"
        )
        attachments.append(("cancelled.ics", "text/calendar; method=CANCEL", ics))
    _queue(
        session,
        to=reg.email,
        template="event_cancelled",
        lang=reg.language,
        now=now,
        context=_context(event, reg, links),
        attachments=attachments,
        dedupe_key=f"event-cancelled-{event.id}-{reg.id}",
        reply_to=event.contact_email,
    )


def reminder(
    *,
    session: Session,
    event: Event,
    sessions: Sequence[EventSession],
    reg: EventRegistration,
    links: Links,
    online_link: bool,
    now: datetime,
) -> None:
    """The day-before reminder, or the online link an hour before."""
    name = "online_link" if online_link else "reminder"
    _queue(
        session,
        to=reg.email,
        template=name,
        lang=reg.language,
        now=now,
        context=_context(
            event,
            reg,
            links,
            when=when(sessions=sessions, lang=reg.language),
            online_url=event.online_url if reg.mode == "online" else "",
        ),
        dedupe_key=f"event-{name}-{event.id}-{reg.id}",
        reply_to=event.contact_email,
    )


def existing(
    *, session: Session, event: Event, reg: EventRegistration, links: Links, now: datetime
) -> None:
    """Someone registered an address that already has a place: its owner gets the link again
    (the page says the same to everyone, so it does not reveal who is registered)."""
    _queue(
        session,
        to=reg.email,
        template="already_registered",
        lang=reg.language,
        now=now,
        context=_context(event, reg, links),
        reply_to=event.contact_email,
    )
