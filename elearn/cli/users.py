"""``flask users``: user accounts."""

from __future__ import annotations

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.clock import utcnow
from elearn.domain.errors import AccountError
from elearn.jobs import unit_of_work
from elearn.services import accounts

group = GROUPS["users"]


@group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    default=["learner"],
    show_default=True,
    type=click.Choice(["learner", "manager", "certifier", "admin"]),
)
@click.option(
    "--unit", default=None, help="Organisation unit path, e.g. 'Eksempel kommune/Innkjøp'."
)
@click.password_option(help="Prompted for when not given.")
def users_create(
    email: str, name: str, roles: tuple[str, ...], unit: str | None, password: str
) -> None:
    """Create a user account."""
    if len(password) < current_app.config["PASSWORD_MIN_LENGTH"]:
        raise click.UsageError(
            f"the password needs at least {current_app.config['PASSWORD_MIN_LENGTH']} characters"
        )
    with unit_of_work(current_app) as session:
        try:
            unit_id = accounts.ensure_unit_path(session=session, path=unit).id if unit else None
            user = accounts.create_user(
                session=session,
                email=email,
                name=name,
                password=password,
                now=utcnow(),
                roles=roles,
                org_unit_id=unit_id,
            )
        except AccountError as exc:
            field = f"--{exc.field}: " if exc.field else ""
            raise click.ClickException(f"{field}{exc}") from None
        created = user.email
    click.echo(f"created {created} ({', '.join(roles)})")
