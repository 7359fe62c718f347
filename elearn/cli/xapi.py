"""``flask xapi``: the outbox of learning records and the Learning Record Store it goes to."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.clock import utcnow
from elearn.jobs import unit_of_work
from elearn.jobs import xapi as outbox
from elearn.services import xapi
from elearn.services.xapi import XapiSettings

group = GROUPS["xapi"]


def _settings() -> XapiSettings | None:
    """The LRS settings, or None after saying how to turn xAPI on."""
    settings = xapi.settings_from_config(config=current_app.config)
    if settings is None:
        click.echo("xAPI is off: set XAPI_ENDPOINT (and XAPI_USERNAME, XAPI_PASSWORD) to send")
    return settings


@group.command("flush")
@click.option("--max-batches", default=1000, show_default=True, type=click.IntRange(min=1))
def xapi_flush(max_batches: int) -> None:
    """Send the statements that wait to the LRS; exits 1 when the LRS could not take them."""
    settings = _settings()
    if settings is None:
        return
    report = outbox.flush(current_app, settings=settings, clock=utcnow, max_batches=max_batches)
    with unit_of_work(current_app) as session:
        state = xapi.status(session=session)
    click.echo(
        f"sent {report.sent}, rejected {report.rejected}, waiting {state.waiting}"
        + (f" (next try {state.next_try_at:%Y-%m-%d %H:%M:%S} UTC)" if state.waiting else "")
    )
    if report.problem:
        click.echo(f"the LRS at {settings.statements_url} failed: {report.problem}", err=True)
        sys.exit(1)


@group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable.")
def xapi_status(as_json: bool) -> None:
    """How many statements wait, went and were refused; the reasons for refusals."""
    with unit_of_work(current_app) as session:
        state = xapi.status(session=session)
        refused = [
            {"id": r.statement_id, "verb": r.statement["verb"]["id"], "error": r.last_error}
            for r in xapi.rejected(session=session)
        ]
    data = {
        "enabled": xapi.settings_from_config(config=current_app.config) is not None,
        "waiting": state.waiting,
        "sent": state.sent,
        "rejected": state.rejected,
        "oldest_waiting": state.oldest_waiting.isoformat() if state.oldest_waiting else None,
        "next_try_at": state.next_try_at.isoformat() if state.next_try_at else None,
        "last_error": state.last_error,
        "refused": refused,
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(
        f"xAPI {'on' if data['enabled'] else 'off'}: {state.waiting} waiting, {state.sent} sent,"
        f" {state.rejected} refused by the LRS"
    )
    if state.last_error:
        click.echo(f"last error: {state.last_error}")
    for row in refused:
        click.echo(f"refused {row['id']}: {row['error']}")


@group.command("requeue-rejected")
def xapi_requeue_rejected() -> None:
    """Offer the statements the LRS refused to it again (after fixing what it refused)."""
    count = outbox.requeue(current_app, now=utcnow())
    click.echo(f"{count} statement(s) will be sent by the next 'xapi flush'")
