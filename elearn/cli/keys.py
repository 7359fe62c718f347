"""``flask keys``: the credential signing keys in instance/keys/ (Ed25519 and RSA)."""

from __future__ import annotations

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.clock import utcnow
from elearn.domain import credentials as vc
from elearn.services.certificates import authority_of

group = GROUPS["keys"]


@group.command("rotate")
def keys_rotate() -> None:
    """Make new signing keys (Ed25519 and RSA), published at once and signing after
    JWKS_MAX_AGE seconds (when no verifier's cached key set lacks them); earlier keys stay
    published for ever, so old certificates still verify."""
    authority = authority_of(app=current_app)
    now = utcnow()
    for algorithm in (vc.EDDSA, vc.RS256):
        key = authority.rotate(now=now, algorithm=algorithm)
        starts = next(r.sign_from for r in authority.records() if r.key.kid == key.kid)
        click.echo(f"new signing key {key.kid} ({algorithm})")
        click.echo(f"published now; signs from {starts.isoformat(timespec='seconds')}")
