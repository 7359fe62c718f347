"""``flask demo``: the demo municipality, users and certificates for trying elearn out."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from elearn.clock import utcnow
from elearn.jobs.demo import RefusedInProduction, create_demo_data
from elearn.services.demo import DEMO_PASSWORD


@click.command("demo")
@with_appcontext
def command() -> None:
    """Create the demo municipality and users (password: elearn-demo). Refused in production."""
    try:
        created = create_demo_data(current_app, now=utcnow())
    except RefusedInProduction as exc:
        click.echo(f"refused: {exc}", err=True)
        sys.exit(1)
    for email in created:
        click.echo(f"created {email}")
    click.echo(f"demo users ready (password: {DEMO_PASSWORD})")
