"""``flask privacy``: retention (for cron), and a person's export or erasure by an administrator."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.domain.errors import DomainError
from elearn.jobs import privacy as jobs
from elearn.jobs import reading
from elearn.services import accounts

group = GROUPS["privacy"]


def _user_id(email: str) -> int:
    with reading(current_app) as session:
        user = accounts.find_user(session=session, email=email)
        if user is None or user.id is None:
            click.echo(f"no user with the e-mail address {email}", err=True)
            sys.exit(2)
        return user.id


@group.command("retention")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
def retention(dry_run: bool) -> None:
    """Apply the retention rules (RETENTION; docs/privacy.md). For cron, e.g. nightly."""
    results = jobs.retention(current_app, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for result in results:
        click.echo(f"{result.rule}: {verb} {result.count} ({result.description})")


@group.command("export")
@click.option("--user", "email", required=True, help="The person's e-mail address.")
@click.option("--by", "actor", required=True, help="The administrator answering the request.")
def export(email: str, actor: str) -> None:
    """Everything held about a person, as JSON on standard output (a request by post)."""
    data = jobs.export(current_app, user_id=_user_id(email), actor_id=_user_id(actor))
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@group.command("erase")
@click.option("--user", "email", required=True, help="The person's e-mail address.")
@click.option("--by", "actor", required=True, help="The administrator who decided.")
@click.option(
    "--scope",
    type=click.Choice(["default", "full"]),
    default="default",
    show_default=True,
    help="full: revoke valid certificates too.",
)
def erase(email: str, actor: str, scope: str) -> None:
    """Erase a person's data (the decision is recorded in the audit log)."""
    try:
        report = jobs.erase(
            current_app, user_id=_user_id(email), scope=scope, actor_id=_user_id(actor)
        )
    except (DomainError, ValueError) as refused:
        click.echo(f"REFUSED: {refused}", err=True)
        sys.exit(1)
    click.echo(
        f"erased ({scope}): {report.anonymised_attempts} attempts kept without identity; "
        f"certificates kept {report.certificates_kept}, withdrawn {report.certificates_withdrawn}; "
        f"deleted {report.deleted}"
    )
