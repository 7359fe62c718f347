"""``flask sittings``: scheduled sittings."""

from __future__ import annotations

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.clock import utcnow
from elearn.jobs.sittings import prepare_sittings

group = GROUPS["sittings"]


@group.command("prepare")
def sittings_prepare() -> None:
    """Draw the form of every booked candidate who has none yet (run it from cron)."""
    drawn = prepare_sittings(current_app, now=utcnow())
    click.echo(f"drew {drawn} form(s) for scheduled sittings")
