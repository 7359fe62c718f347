"""Events: the rules of sessions, audiences, places and personal links, without a database.

An event has one or more sessions held in a time zone (stored in UTC with the zone's name), a
capacity per mode (in person, online), a registration deadline no later than the first start,
and an audience (open, or organisation types or units). A registration is confirmed while a
place is free in its mode, otherwise it waits; a cancelled place goes to the first in line.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from elearn.domain.errors import N_, InvalidAnswer

KINDS = ("information", "webinar", "workshop", "network")
MODES = ("in_person", "online")
ORG_TYPES = ("municipality", "county", "state", "public", "private")
TIME_ZONES = ("Europe/Oslo", "Europe/Copenhagen")
LANGUAGES = ("nb", "da", "en")
GUEST_HOLD = timedelta(hours=24)  # an unconfirmed guest's place is held this long
ACTIVE = ("pending", "confirmed")  # statuses that take a place
MAX_SESSIONS = 10


@dataclass(frozen=True)
class SessionTime:
    """A session as the organiser gives it: local wall-clock times in a named zone."""

    start: datetime  # naive, in ``tz``
    end: datetime
    tz: str

    def utc(self) -> tuple[datetime, datetime]:
        zone = ZoneInfo(self.tz)
        return (
            self.start.replace(tzinfo=zone).astimezone(UTC),
            self.end.replace(tzinfo=zone).astimezone(UTC),
        )


def check_schedule(
    sessions: Sequence[SessionTime], deadline: datetime, now: datetime
) -> list[tuple[datetime, datetime, str]]:
    """The sessions in UTC, in order; refuses none, past, backwards or overlapping sessions and
    a registration deadline after the first start (``deadline`` is aware)."""
    if not sessions:
        raise InvalidAnswer(N_("An event needs at least one session."))
    if len(sessions) > MAX_SESSIONS:
        raise InvalidAnswer(N_("An event has at most ten sessions."))
    out = []
    for s in sessions:
        if s.tz not in TIME_ZONES:
            raise InvalidAnswer(N_("Choose a time zone from the list."))
        start, end = s.utc()
        if end <= start:
            raise InvalidAnswer(N_("A session must end after it starts."))
        if start <= now:
            raise InvalidAnswer(N_("A session cannot start in the past."))
        out.append((start, end, s.tz))
    out.sort()
    for (_s1, e1, _t1), (s2, _e2, _t2) in pairwise(out):
        if s2 < e1:
            raise InvalidAnswer(N_("The sessions overlap."))
    if deadline > out[0][0]:
        raise InvalidAnswer(N_("The registration deadline must be before the first session."))
    if deadline <= now:
        raise InvalidAnswer(N_("The registration deadline has already passed."))
    return out


def check_capacity(place: str, online_url: str, in_person: int, online: int) -> None:
    """A place and/or an online link, each with a capacity of at least one."""
    if not place and not online_url:
        raise InvalidAnswer(N_("Give a place, an online link, or both."))
    if online_url and not online_url.startswith(("https://", "http://")):
        raise InvalidAnswer(N_("The online link must start with https://."))
    for given, capacity in ((place, in_person), (online_url, online)):
        if given and not 1 <= capacity <= 100_000:
            raise InvalidAnswer(N_("Give a capacity of at least one for each way to take part."))


def modes_of(place: str, online_url: str) -> list[str]:
    return [m for m, on in zip(MODES, (bool(place), bool(online_url)), strict=True) if on]


def localized(texts: Mapping[str, str], lang: str, fallback: Sequence[str] = LANGUAGES) -> str:
    """The text in ``lang``, else in the first language of ``fallback`` that has one."""
    if texts.get(lang):
        return texts[lang]
    for other in fallback:
        if texts.get(other):
            return texts[other]
    return next((t for t in texts.values() if t), "")


def in_audience(
    *,
    audience_types: Iterable[str],
    audience_units: Iterable[int],
    org_type: str | None,
    unit_path: Sequence[int] = (),
) -> bool:
    """Open when no rule is set; else the person's organisation type or one of their units (the
    unit and its ancestors, ``unit_path``) must be named."""
    types, units = set(audience_types), set(audience_units)
    if not types and not units:
        return True
    return (org_type is not None and org_type in types) or bool(units.intersection(unit_path))


def place_status(*, taken: int, capacity: int, queue: int) -> str:
    """``confirmed`` while a place is free and nobody waits before; otherwise ``waiting``."""
    return "confirmed" if taken < capacity and queue == 0 else "waiting"


def registration_open(*, deadline: datetime, cancelled: bool, now: datetime) -> bool:
    return not cancelled and now < deadline


def _mac(secret: bytes, purpose: str, nonce: str) -> str:
    digest = hmac.new(secret, f"{purpose}:{nonce}".encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def personal_token(secret: bytes, nonce: str) -> str:
    """The personal link's token: the nonce and its HMAC (see, change, cancel)."""
    return f"{nonce}.{_mac(secret, 'event-registration', nonce)}"


def check_in_token(secret: bytes, nonce: str) -> str:
    """The QR code's token: another HMAC of the same nonce, so that the organiser who opens it
    gets the check-in page and not the power to change the registration."""
    return f"{nonce}.{_mac(secret, 'event-check-in', nonce)}"


def nonce_of(token: str, secret: bytes, *, purpose: str = "registration") -> str | None:
    """The nonce of a genuine token, or None (compared in constant time)."""
    nonce, _, mac = token.partition(".")
    if not nonce or len(nonce) > 32 or not mac:
        return None
    make = check_in_token if purpose == "check-in" else personal_token
    return nonce if hmac.compare_digest(make(secret, nonce), token) else None


def retention_passed(*, ended_at: datetime, now: datetime, days: int) -> bool:
    return now >= ended_at + timedelta(days=days)
