"""``flask audit``: seal, check, prune and export the audit log."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.domain.audit import Checkpoint, Problem, SealRefused
from elearn.jobs import audit as audit_jobs
from elearn.jobs import reading
from elearn.services.audit import checkpoints_json, export_lines

group = GROUPS["audit"]

EXIT_CODES = "; ".join(f"{p.exit_code} {p.name.lower().replace('_', ' ')}" for p in Problem)


@group.command("seal")
@click.option(
    "--every", type=click.IntRange(min=1), default=None, help="Keep sealing, every N seconds."
)
def audit_seal(every: int | None) -> None:
    """Seal the entries that wait, in order, and sign a checkpoint per batch."""
    while True:
        try:
            sealed = audit_jobs.seal(current_app)
        except SealRefused as error:
            click.echo(f"REFUSED: {error}; run 'audit verify'", err=True)
            sys.exit(1)
        checkpoint = audit_jobs.latest_checkpoint(current_app)
        head = f", checkpoint seq {checkpoint.seq} head {checkpoint.head}" if checkpoint else ""
        click.echo(f"sealed {sealed} entries{head}")
        if every is None:
            return
        time.sleep(every)


@group.command("verify", epilog=f"Exit codes: 0 ok; {EXIT_CODES}.")
@click.option(
    "--checkpoint",
    "outside",
    type=click.File("r"),
    default=None,
    help="A checkpoint kept outside elearn (a line from 'audit checkpoint'): check against it too.",
)
def audit_verify(outside: TextIO | None) -> None:
    """Check the log against its signed checkpoints; name the first entry that was edited,
    deleted or inserted, a cut-off tail or a forged checkpoint (each its own exit code)."""
    kept = None
    if outside is not None:
        try:
            kept = Checkpoint.from_json(outside.read().strip().splitlines()[-1])
        except (ValueError, IndexError) as error:
            raise click.BadParameter(str(error), param_hint="--checkpoint") from error
    result = audit_jobs.verify(current_app, outside=kept)
    if result.finding is not None:
        click.echo(f"BROKEN ({result.finding.problem.name.lower()}): {result.finding.message}")
        sys.exit(result.finding.problem.exit_code)
    pruned = f", pruned through seq {result.floor}" if result.floor else ""
    click.echo(
        f"ok: {result.sealed} sealed entries through seq {result.last_seq}, head {result.head}"
        f"{pruned}; {result.waiting} waiting to be sealed"
    )


@group.command("checkpoint")
def audit_checkpoint() -> None:
    """Print the newest signed checkpoint as one line, to keep outside elearn."""
    checkpoint = audit_jobs.latest_checkpoint(current_app)
    if checkpoint is None:
        click.echo("no checkpoint yet: run 'audit seal'", err=True)
        sys.exit(1)
    click.echo(checkpoint.to_json())


@group.command("prune")
@click.option(
    "--before",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Delete sealed entries older than this day (UTC), up to a signed checkpoint.",
)
def audit_prune(before: datetime) -> None:
    """Delete old entries behind a signed checkpoint; 'audit verify' still holds."""
    try:
        result = audit_jobs.prune(current_app, before=before.replace(tzinfo=UTC))
    except SealRefused as error:
        click.echo(f"REFUSED: {error}; run 'audit verify'", err=True)
        sys.exit(1)
    click.echo(
        f"pruned {result.deleted} entries; the log now starts after seq {result.through_seq}"
    )


@group.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A file to write; standard output when left out.",
)
@click.option("--checkpoints", is_flag=True, help="Export the signed checkpoints instead.")
def audit_export(out: Path | None, checkpoints: bool) -> None:
    """Every entry (or checkpoint) as JSON Lines, in chain order, with its hashes."""
    with reading(current_app) as session:
        lines = list(
            checkpoints_json(session=session) if checkpoints else export_lines(session=session)
        )
    text = "".join(line + "\n" for line in lines)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
