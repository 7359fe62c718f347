"""``flask bank``: question banks imported from and exported to other systems' formats."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.clock import utcnow
from elearn.content.bank_export import BankExportError, export_bank
from elearn.content.bank_import import import_into_bank
from elearn.content.formats import EXPORTERS, IMPORTERS
from elearn.content.loader import load_configured
from elearn.domain.content import LANGUAGES

group = GROUPS["bank"]

IMPORT_FORMATS = tuple(IMPORTERS)
EXPORT_FORMATS = tuple(EXPORTERS)


@group.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", required=True, type=click.Choice(IMPORT_FORMATS))
@click.option(
    "--bank",
    "bank_id",
    required=True,
    help="The bank folder in question_banks/ (created from the file when it does not exist).",
)
@click.option("--language", "--lang", "lang", required=True, type=click.Choice(LANGUAGES))
@click.option("--dry-run", is_flag=True, help="Report what would be imported; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
def bank_import(
    source: Path, fmt: str, bank_id: str, lang: str, dry_run: bool, as_json: bool
) -> None:
    """Import items into a reviewable file question_banks/BANK/items/imported-<name>.yaml."""
    report = import_into_bank(
        content=load_configured(current_app.config),
        banks_dir=Path(current_app.config["QUESTION_BANKS_DIR"]),
        bank_id=bank_id,
        source=source,
        fmt=fmt,
        lang=lang,
        dry_run=dry_run,
        today=utcnow().date(),
    )
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for note in report.notes:
            click.echo(note)
    sys.exit(0 if report.ok else 1)


@group.command("export")
@click.argument("bank_id", metavar="BANK")
@click.option("--format", "fmt", required=True, type=click.Choice(EXPORT_FORMATS))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The file to write (a .zip for qti3).",
)
@click.option(
    "--language",
    "lang",
    type=click.Choice(LANGUAGES),
    help="The language to write (default: the bank's first).",
)
def bank_export(bank_id: str, fmt: str, out: Path, lang: str | None) -> None:
    """Export a bank's items (and, for qti3, its exams) in one language."""
    try:
        done = export_bank(
            content=load_configured(current_app.config),
            bank_id=bank_id,
            fmt=fmt,
            lang=lang,
            out=out,
        )
    except BankExportError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(exc.message) from None
    for item_id, reason in done.skipped:
        click.echo(f"skipped {item_id}: {reason}")
    exams = f" and {done.exams} exam(s)" if done.exams is not None else ""
    click.echo(
        f"exported {done.items} item(s){exams} of bank {bank_id} ({done.lang}, {fmt}) to {out}"
        + (f"; skipped {len(done.skipped)}" if done.skipped else "")
    )
