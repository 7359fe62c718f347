"""``flask --app elearn ...`` commands, one module per command group, thin over the layers below.

A command parses its options, calls a service, a ``content`` function or a job, and prints. What
writes to the database goes through ``elearn.jobs`` (a job, or its ``unit_of_work``).

Every app start registers the groups, but a group's module (with its imports: alembic, the
format parsers, the jobs) is imported only when that group is run or asked for its commands.
"""

from __future__ import annotations

from importlib import import_module

import click
from flask import Flask
from flask.cli import AppGroup

from elearn.cli.demo import command as demo_command


class LazyGroup(AppGroup):
    """A group whose commands are defined in ``elearn.cli.<name>``, imported on first use."""

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help=help_text)
        self.module = f"{__name__}.{name}"

    def _load(self) -> None:
        import_module(self.module)  # its decorators add the commands to this group, once

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, cmd_name)


GROUPS = {
    name: LazyGroup(name, text)
    for name, text in (
        ("db", "Database schema (alembic migrations)."),
        ("content", "Course and question-bank files."),
        ("users", "User accounts."),
        ("exams", "Exams and attempts."),
        ("keys", "Credential signing keys in instance/keys/."),
        ("credentials", "Signed credentials (Open Badges 3.0)."),
        ("certificates", "Issued certificates."),
        ("staff", "Staff and organisation units."),
        ("report", "Reports."),
        ("audit", "The audit log: seal, verify, prune, export."),
        ("bank", "Question banks: import from and export to other systems."),
        ("xapi", "Learning records (xAPI) sent to a Learning Record Store."),
        ("sittings", "Scheduled sittings: draw their forms ahead."),
        ("privacy", "Personal data: retention, a person's export and erasure."),
        ("events", "Events: guests' data, reminders."),
        ("mail", "E-mail: deliver the outbox over SMTP, see what waits."),
    )
}


def init_app(app: Flask) -> None:
    """Register every command group, and the ``demo`` command, on the app's ``flask`` command."""
    for group in GROUPS.values():
        app.cli.add_command(group)
    app.cli.add_command(demo_command)
