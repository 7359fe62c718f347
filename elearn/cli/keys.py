"""``flask keys``: the credential signing keys in instance/keys/."""

from __future__ import annotations

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.clock import utcnow
from elearn.services.certificates import authority_of

group = GROUPS["keys"]


@group.command("rotate")
def keys_rotate() -> None:
    """Make a new signing key; earlier keys stay published so old certificates still verify."""
    key = authority_of(app=current_app).rotate(now=utcnow())
    click.echo(f"new signing key {key.kid}")
