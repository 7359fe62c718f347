"""iCalendar invitations (RFC 5545) for an event's sessions, in the sessions' own time zones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

PRODID = "-//elearn//events//EN"


@dataclass(frozen=True)
class IcalSession:
    uid: str
    start: datetime  # aware UTC
    end: datetime
    tz: str


def invitation(
    *,
    sessions: Sequence[IcalSession],
    title: str,
    description: str,
    location: str,
    url: str,
    organiser_email: str,
    stamp: datetime,
    method: str = "REQUEST",
) -> bytes:
    """One VEVENT per session with DTSTART;TZID=<its zone> and the zone's VTIMEZONE."""
    from icalendar import Calendar, Event, vCalAddress

    cal = Calendar.new(prodid=PRODID, method=method)
    for s in sessions:
        zone = ZoneInfo(s.tz)
        event = Event.new(
            uid=s.uid,
            start=s.start.astimezone(zone),
            end=s.end.astimezone(zone),
            summary=title,
            description=description,
            location=location or None,
            url=url or None,
            stamp=stamp,
        )
        if method == "CANCEL":
            event.add("status", "CANCELLED")
        if organiser_email:
            event.add("organizer", vCalAddress(f"mailto:{organiser_email}"))
        cal.add_component(event)
    if sessions:
        cal.add_missing_timezones(
            first_date=min(s.start for s in sessions).date(),
            last_date=max(s.end for s in sessions).date(),
        )
    return bytes(cal.to_ical())
