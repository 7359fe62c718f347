"""``flask audit``: check and export the hash-chained audit log."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.jobs import unit_of_work
from elearn.services.audit import export_lines, verify_chain

group = GROUPS["audit"]


@group.command("verify")
def audit_verify() -> None:
    """Walk the chain; name the first entry that was changed, removed or inserted (exit 1)."""
    with unit_of_work(current_app) as session:
        result = verify_chain(session=session)
    if result.broken_at is not None:
        click.echo(f"BROKEN at entry {result.broken_at}: {result.reason}")
        sys.exit(1)
    click.echo(f"ok: {result.count} entries, head {result.head}")


@group.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A file to write; standard output when left out.",
)
def audit_export(out: Path | None) -> None:
    """Every entry as JSON Lines, in order, with its hashes."""
    with unit_of_work(current_app) as session:
        lines = export_lines(session=session)
    text = "".join(line + "\n" for line in lines)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
