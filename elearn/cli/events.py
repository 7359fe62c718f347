"""``flask events``: guests' data and reminders."""

from __future__ import annotations

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.clock import utcnow
from elearn.jobs.events import purge_guests, reminders

group = GROUPS["events"]


@group.command("purge-guests")
def events_purge_guests() -> None:
    """Delete guests' registrations RETENTION["guest_registrations"] after their event (cron)."""
    deleted = purge_guests(current_app, now=utcnow())
    click.echo(f"deleted {deleted} guest registration(s)")


@group.command("remind")
def events_remind() -> None:
    """Release unconfirmed guests' places after 24 hours and queue due reminders (the mail
    sender does this too)."""
    queued = reminders(current_app, now=utcnow())
    click.echo(f"queued {queued} reminder(s)")
