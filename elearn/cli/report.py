"""``flask report item-stats``: item analysis from a marks file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from elearn.cli import GROUPS
from elearn.domain.statistics import (
    MarksFileError,
    analyse,
    items_csv,
    read_marks_csv,
    summary_dict,
)

group = GROUPS["report"]


@group.command("item-stats")
@click.option(
    "--marks",
    "marks_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV: attempt,<item id>,... one row per attempt, marks 0..1.",
)
@click.option(
    "--summary",
    "summary_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the test's statistics here as JSON.",
)
def report_item_stats(marks_file: Path, summary_file: Path | None) -> None:
    """Item analysis as Moodle's quiz statistics define it; per-item CSV to standard output."""
    try:
        items, _attempts, marks = read_marks_csv(marks_file.read_text(encoding="utf-8-sig"))
    except MarksFileError as exc:
        click.echo(f"{marks_file}:{exc.line}: {exc.message}", err=True)
        sys.exit(1)
    except UnicodeDecodeError:
        raise click.ClickException(f"{marks_file}: not UTF-8 text") from None
    item_stats, test_stats = analyse(items, marks)
    click.echo(items_csv(item_stats), nl=False)
    if summary_file is not None:
        summary_file.write_text(
            json.dumps(summary_dict(test_stats), indent=2) + "\n", encoding="utf-8"
        )
