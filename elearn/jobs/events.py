"""Events batch work: release unconfirmed guests' places, queue reminders, delete guests' data."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from elearn.domain.privacy import periods
from elearn.jobs import unit_of_work
from elearn.services import events

if TYPE_CHECKING:
    from flask import Flask


def purge_guests(app: Flask, *, now: datetime) -> int:
    """Delete guests' registrations older than the retention period after their event (the one
    rule: RETENTION["guest_registrations"], docs/privacy.md); returns how many."""
    days = periods(app.config["RETENTION"])["guest_registrations"]
    with unit_of_work(app) as session:
        return events.purge_guest_registrations(session, now, days=days)


def reminders(app: Flask, *, now: datetime) -> int:
    """Release expired holds and queue due reminders (what the mail sender does each round)."""
    with unit_of_work(app) as session:
        return events.reminder_source(session, now)
