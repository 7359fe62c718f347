"""``flask exams``: exams and attempts."""

from __future__ import annotations

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.clock import utcnow
from elearn.jobs.exams import close_and_issue

group = GROUPS["exams"]


@group.command("close-overdue")
def exams_close_overdue() -> None:
    """Submit and score every attempt whose time has run out (run it from cron)."""
    done = close_and_issue(current_app, now=utcnow())
    click.echo(f"closed {done.closed} overdue attempt(s); issued {done.issued} certificate(s)")
