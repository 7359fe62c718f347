"""``flask staff import``: staff and organisation units from CSV; a file with any bad row changes
nothing, a clean one is applied in parts of a few hundred rows (each committed on its own)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.clock import utcnow
from elearn.domain.staff import decode_staff_file
from elearn.jobs.staff import import_staff

group = GROUPS["staff"]


@group.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
def staff_import(csv_file: Path, dry_run: bool) -> None:
    """Import staff from CSV (name,email,unit,roles): nothing if any row is bad; else in parts
    of STAFF_IMPORT_BATCH_ROWS rows, and importing it twice changes nothing."""
    try:
        text = decode_staff_file(csv_file.read_bytes())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    plan = import_staff(current_app, text=text, dry_run=dry_run, now=utcnow())
    for error in plan.errors:
        click.echo(f"{csv_file}:{error.line}: {error.message}")
    for change in plan.changes:
        if change.action != "unchanged":
            details = "; ".join(change.details)
            click.echo(
                f"line {change.row.line}: {change.action} {change.row.email}"
                + (f" ({details})" if details else "")
            )
    for unit in plan.units_to_create:
        click.echo(f"new unit: {unit}")
    counts = plan.counts
    summary = (
        f"{counts['create']} to create, {counts['update']} to update, "
        f"{counts['unchanged']} unchanged, {counts['errors']} error(s)"
    )
    if plan.errors:
        click.echo(f"{summary}: nothing imported", err=True)
        sys.exit(1)
    click.echo(f"dry run: {summary}" if dry_run else f"imported: {summary}")
