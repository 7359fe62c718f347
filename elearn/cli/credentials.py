"""``flask credentials verify``: check a signed credential offline, failing closed."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import click
import jwt

from elearn.cli import GROUPS
from elearn.clock import utcnow
from elearn.domain import credentials as vc

group = GROUPS["credentials"]


def _read(source: str) -> str:
    """A file's text, or an http(s) URL's body."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=10) as response:
            return str(response.read().decode("utf-8"))
    return Path(source).read_text(encoding="utf-8")


def _kid(token: str) -> str:
    """The kid a JWT's header names (read before the signature is checked, for printing)."""
    return str(jwt.get_unverified_header(token).get("kid"))


@group.command("verify")
@click.argument("credential_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--jwks", "jwks_source", required=True, help="A JWKS file, or its https/http URL.")
@click.option(
    "--status/--no-status",
    "check_status",
    default=True,
    show_default=True,
    help="Also check the revocation list named in the credential.",
)
@click.option(
    "--status-list",
    "status_source",
    default=None,
    help="The revocation list as a file (or URL), for checking fully offline.",
)
def credentials_verify(
    credential_file: Path, jwks_source: str, check_status: bool, status_source: str | None
) -> None:
    """Verify a credential offline with the published keys; print holder, achievement, validity."""
    token = credential_file.read_text(encoding="utf-8").strip()
    try:
        key_set = json.loads(_read(jwks_source))
        payload = vc.verify_credential(token, key_set)
    except vc.CredentialInvalid as exc:
        click.echo(f"NOT VALID: {exc.reason}")
        sys.exit(1)
    except (OSError, ValueError) as exc:
        click.echo(f"cannot read the keys: {exc}", err=True)
        sys.exit(2)
    revoked = False
    status = payload.get("credentialStatus") or {}
    if check_status and status.get("statusListCredential"):
        try:
            source = status_source or status["statusListCredential"]
            list_payload = vc.verify_credential(_read(source).strip(), key_set)
            if list_payload.get("id") != status["statusListCredential"]:
                raise ValueError("that is not the credential's status list")
            revoked = vc.status_bit(
                list_payload["credentialSubject"]["encodedList"], int(status["statusListIndex"])
            )
        except (OSError, ValueError, KeyError, vc.CredentialInvalid) as exc:
            click.echo(f"status unknown: {exc}", err=True)
    standing = vc.standing(payload, revoked, utcnow())
    subject = payload["credentialSubject"]
    click.echo(f"signature: valid ({_kid(token)})")
    click.echo(f"holder: {subject.get('name')}")
    click.echo(f"achievement: {subject['achievement']['name']}")
    click.echo(f"issuer: {payload['issuer']['name']}")
    click.echo(f"valid from: {payload.get('validFrom')}")
    click.echo(f"valid until: {payload.get('validUntil') or 'does not expire'}")
    click.echo(f"status: {standing.state}")
    sys.exit(0 if standing.state == "valid" else 1)
