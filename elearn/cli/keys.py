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
    """Make a new signing key, published at once and signing after JWKS_MAX_AGE seconds (when
    no verifier's cached key set lacks it); earlier keys stay published for ever."""
    authority = authority_of(app=current_app)
    now = utcnow()
    key = authority.rotate(now=now)
    starts = next(r.sign_from for r in authority.records() if r.key.kid == key.kid)
    click.echo(f"new signing key {key.kid}")
    click.echo(f"published now; signs from {starts.isoformat(timespec='seconds')}")
