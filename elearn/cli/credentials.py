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


# Exit codes, documented in --help: scripts tell "do not trust" from "could not tell".
VALID, NOT_VALID, KEYS_UNREADABLE, STATUS_UNKNOWN = 0, 1, 2, 3


@group.command(
    "verify",
    epilog="""\b
Exit status:
  0  valid: the signature holds, the revocation list says not revoked, and it is in date
  1  not valid: bad signature, tampered, unknown key, revoked, expired or not yet valid
  2  the keys (--jwks) cannot be read: nothing could be checked
  3  status unknown: the signature holds, but the revocation list is missing, unreachable,
     tampered, signed by another key, or does not hold the credential's index
     (a STATUS_RETRIEVAL_ERROR in the Bitstring Status List spec); never reported as valid""",
)
@click.argument("credential_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--jwks", "jwks_source", required=True, help="A JWKS file, or its https/http URL.")
@click.option(
    "--status/--no-status",
    "check_status",
    default=True,
    show_default=True,
    help="Also check the revocation list named in the credential (--no-status: signature and "
    "dates only, said so in the output).",
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
    """Verify a credential offline with the published keys; print holder, achievement, validity.

    Fails closed: a revocation status that cannot be established is reported as unknown
    (exit 3), never as valid.
    """
    token = credential_file.read_text(encoding="utf-8").strip()
    try:
        key_set = json.loads(_read(jwks_source))
        payload = vc.verify_credential(token, key_set)
    except vc.CredentialInvalid as exc:
        click.echo(f"NOT VALID: {exc.reason}")
        sys.exit(NOT_VALID)
    except (OSError, ValueError) as exc:
        click.echo(f"cannot read the keys: {exc}", err=True)
        sys.exit(KEYS_UNREADABLE)
    revoked = False
    unknown: str | None = None
    status = payload.get("credentialStatus")
    if check_status and status is not None:
        try:
            revoked = _revoked(status, status_source, key_set, _issuer_of(payload))
        except vc.StatusUnknown as exc:
            unknown = str(exc)
    standing = vc.standing(payload, revoked, utcnow())
    state: str = standing.state
    if unknown is not None and state == "valid":
        state = "status unknown"
    subject = payload["credentialSubject"]
    click.echo(f"signature: valid ({_kid(token)})")
    click.echo(f"holder: {subject.get('name')}")
    click.echo(f"achievement: {subject['achievement']['name']}")
    click.echo(f"issuer: {payload['issuer']['name']}")
    click.echo(f"valid from: {payload.get('validFrom')}")
    click.echo(f"valid until: {payload.get('validUntil') or 'does not expire'}")
    if unknown is not None:
        click.echo(f"revocation: cannot be established: {unknown}")
    elif not check_status:
        click.echo("revocation: not checked (--no-status)")
    click.echo(f"status: {state}")
    if state == "valid":
        sys.exit(VALID)
    sys.exit(STATUS_UNKNOWN if state == "status unknown" else NOT_VALID)


def _issuer_of(payload: dict[str, object]) -> object:
    """The issuer's id, whether the credential names it as a URL or as a Profile."""
    issuer = payload.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _revoked(
    status: object, source: str | None, key_set: dict[str, object], issuer: object
) -> bool:
    """Whether the credential's bit is set in its revocation list, verified with the same keys
    and published by the credential's own issuer."""
    try:
        if not isinstance(status, dict):
            raise ValueError("credentialStatus is not an object")
        list_url = status["statusListCredential"]
        index = int(status["statusListIndex"])
    except (KeyError, TypeError, ValueError) as exc:
        raise vc.StatusUnknown(f"the credential's status entry is unreadable ({exc})") from None
    try:
        text = _read(source or str(list_url)).strip()
    except (OSError, ValueError) as exc:  # URLError is an OSError; a missing file too
        raise vc.StatusUnknown(f"the revocation list cannot be read ({exc})") from None
    try:
        listing = vc.verify_credential(text, key_set)
    except vc.CredentialInvalid as exc:
        raise vc.StatusUnknown(f"the revocation list does not verify ({exc.reason})") from None
    if listing.get("id") != list_url:
        raise vc.StatusUnknown("that is not the credential's revocation list")
    if _issuer_of(listing) != issuer:
        raise vc.StatusUnknown("the revocation list is another issuer's")
    types = listing.get("type") or []
    subject = listing.get("credentialSubject")
    if "BitstringStatusListCredential" not in types or not isinstance(subject, dict):
        raise vc.StatusUnknown("that is not a revocation list")
    if subject.get("statusPurpose") != "revocation":
        raise vc.StatusUnknown("that list is not for revocation")
    try:
        return vc.status_bit(str(subject.get("encodedList")), index)
    except ValueError as exc:
        raise vc.StatusUnknown(f"the revocation list cannot answer ({exc})") from None
