"""``flask content``: check, describe and sync the course and question-bank files."""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import asdict
from typing import Any

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.clock import utcnow
from elearn.content.integrity import similar_in_banks
from elearn.content.loader import ContentSet, load_configured
from elearn.domain.lint import Lint, lint_items
from elearn.domain.similarity import DEFAULT_THRESHOLD
from elearn.jobs.content import sync_files

group = GROUPS["content"]


@group.command("check")
def content_check() -> None:
    """Validate every course and question bank; print each problem as path:line: message."""
    content = load_configured(current_app.config)
    for problem in content.problems:
        click.echo(str(problem))
    for warning in content.warnings:
        click.echo(f"{warning.path}:{warning.line}: warning: {warning.message}")
    if content.problems:
        click.echo(f"{len(content.problems)} problem(s)", err=True)
        sys.exit(1)
    items = sum(len(b.items) for b in content.banks.values())
    exams = sum(len(b.exams) for b in content.banks.values())
    warned = f", {len(content.warnings)} warning(s)" if content.warnings else ""
    click.echo(
        f"ok: {len(content.courses)} course(s), {len(content.banks)} bank(s), "
        f"{items} item(s), {exams} exam(s){warned}"
    )


@group.command("similar")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Cosine similarity (0..1) of the items' stems and keyed answers at which to list a pair.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable.")
def content_similar(threshold: float, as_json: bool) -> None:
    """Pairs of items of one bank whose stems or keyed answers are near-duplicates, with how
    they are kept apart (one enemy group, or reviewed as distinct) or not."""
    content = load_configured(current_app.config)
    rows = similar_in_banks(content, threshold)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row.score:.2f} {row.lang}  {row.bank}: {row.a} ~ {row.b}"
            f"  [{row.kept_apart or 'NOT KEPT APART'}]"
        )
    open_pairs = sum(1 for row in rows if not row.kept_apart)
    click.echo(f"{len(rows)} pair(s) at {threshold:g} or above; {open_pairs} not kept apart")


def _stats(content: ContentSet) -> dict[str, Any]:
    """The figures ``content stats`` prints, in the shape its --json promises."""
    return {
        "courses": [
            {"id": c.spec.id, "modules": len(c.modules), "languages": list(c.spec.languages)}
            for c in content.courses.values()
        ],
        "banks": [
            {
                "id": b.spec.id,
                "items": len(b.items),
                "by_topic": dict(sorted(Counter(i.spec.topic for i in b.items).items())),
                "by_type": dict(sorted(Counter(i.spec.type for i in b.items).items())),
                "by_language": dict(
                    sorted(Counter(lang for i in b.items for lang in i.spec.text).items())
                ),
                "by_pool": dict(sorted(Counter(i.spec.pool or "main" for i in b.items).items())),
                "cueing": {
                    lang: _cueing(lint_items([i.spec for i in b.items], lang))
                    for lang in b.spec.languages
                },
            }
            for b in content.banks.values()
        ],
        "exams": [
            {
                "id": e.spec.id,
                "bank": b.spec.id,
                "items": sum(entry.items for entry in e.spec.blueprint),
                "minutes": e.spec.time_limit_minutes,
                "draw": {entry.topic: entry.items for entry in e.spec.blueprint},
                "certificate": e.spec.certificate.issue,
                "pool": e.spec.pool or "main",
            }
            for b in content.banks.values()
            for e in b.exams
        ],
    }


def _cueing(lint: Lint) -> dict[str, Any]:
    """The item-writing figures of one bank and language, by what they measure."""
    return {
        "single_choice_items": lint.single_choice_items,
        "key_longest_share": lint.key_longest_share,
        "four_option_items": lint.four_option_items,
        "key_position_shares": {str(p): s for p, s in lint.key_position_shares.items()},
        "absolute_words_in_keys": lint.absolute_words_in_keys,
        "absolute_words_in_distractors": lint.absolute_words_in_distractors,
        "absolute_only_in_distractors_items": len(lint.absolute_only_in_distractors_items),
        "all_or_none_of_the_above_items": len(lint.all_or_none_of_the_above_items),
        "negative_stems_not_emphasised": len(lint.negative_stems_not_emphasised),
        "within_limits": lint.within_limits,
    }


@group.command("lint")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable, with the item ids.")
def content_lint(as_json: bool) -> None:
    """Cues in the items of each bank and language (longest key, key positions, absolute words,
    all/none of the above, negative stems); exits 1 when a bank misses a limit."""
    content = load_configured(current_app.config)
    results = [
        (bank.spec.id, lint_items([i.spec for i in bank.items], lang))
        for bank in content.banks.values()
        for lang in bank.spec.languages
    ]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {"bank": b, **asdict(lint), "within_limits": lint.within_limits}
                    for b, lint in results
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for bank_id, lint in results:
            verdict = "ok" if lint.within_limits else "NOT WITHIN LIMITS"
            positions = ", ".join(f"{p}: {s:.0%}" for p, s in lint.key_position_shares.items())
            click.echo(
                f"{bank_id} ({lint.language}): key longest {lint.key_longest_share:.0%} of "
                f"{lint.single_choice_items} single-choice; key positions {positions}; "
                f"absolute words {lint.absolute_words_in_keys} in keys, "
                f"{lint.absolute_words_in_distractors} in distractors: {verdict}"
            )
            for finding in lint.findings:
                click.echo(f"  - {finding}")
    if not all(lint.within_limits for _, lint in results):
        sys.exit(1)


@group.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable, in a stable shape.")
def content_stats(as_json: bool) -> None:
    """What the content files hold: courses, banks by topic, type and language, exams."""
    content = load_configured(current_app.config)
    stats = _stats(content)
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        for course in stats["courses"]:
            click.echo(
                f"course {course['id']}: {course['modules']} modules, "
                f"{'/'.join(course['languages'])}"
            )
        for bank in stats["banks"]:
            click.echo(f"bank {bank['id']}: {bank['items']} items {bank['by_topic']}")
        for exam in stats["exams"]:
            click.echo(f"exam {exam['id']}: {exam['items']} items, {exam['minutes']} min")
    if content.problems:
        click.echo(f"{len(content.problems)} problem(s): run 'content check'", err=True)
        sys.exit(1)


@group.command("sync")
def content_sync() -> None:
    """Load the files into the database; a broken file is refused and its old version stays."""
    outcome = sync_files(current_app, now=utcnow())
    problems, report = outcome.content.problems, outcome.report
    for problem in problems:
        click.echo(str(problem), err=True)
    for line in report.created:
        click.echo(f"created {line}")
    for line in report.updated:
        click.echo(f"updated {line}")
    for line in report.deactivated:
        click.echo(f"deactivated {line}")
    click.echo(
        f"synced: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.deactivated)} deactivated, {report.unchanged} unchanged"
    )
    if problems:
        click.echo(f"{len(problems)} problem(s): the files named were not loaded", err=True)
        sys.exit(1)
