"""``flask keys``: the credential signing keys in instance/keys/."""

from __future__ import annotations

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.clock import utcnow

group = GROUPS["keys"]


@group.command("rotate")
def keys_rotate() -> None:
    """Make a new signing key; earlier keys stay published so old certificates still verify."""
    key = current_app.extensions["elearn.authority"].rotate(utcnow())
    click.echo(f"new signing key {key.kid}")
