"""``flask mail``: deliver the e-mail outbox (``send``, from cron or ``--loop``), and look at it."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.clock import utcnow
from elearn.jobs import mail as sender
from elearn.jobs import reading

group = GROUPS["mail"]


def _settings() -> sender.MailSettings | None:
    """The SMTP settings, or None without MAIL_HOST; a bad one ends the command, named."""
    try:
        return sender.settings_from_config(config=current_app.config)
    except ValueError as error:
        raise click.ClickException(str(error)) from None


def _summary(report: sender.SendReport) -> str:
    return (
        f"queued {report.queued} reminder(s), sent {report.sent}, refused {report.refused},"
        f" waiting to try again {report.waiting}"
    )


@group.command("send")
@click.option("--loop", is_flag=True, help="Keep sending, a pass every MAIL_LOOP_SECONDS.")
@click.option("--max-messages", default=10_000, show_default=True, type=click.IntRange(min=1))
def mail_send(loop: bool, max_messages: int) -> None:
    """Queue the reminders now due and send what waits; exits 1 when the server failed."""
    settings = _settings()
    if settings is None:
        report = sender.SendReport()
        sender.queue_reminders(current_app, now=utcnow(), report=report)
        click.echo(
            f"queued {report.queued} reminder(s); MAIL_HOST is not set, so nothing is delivered:"
            " admins read the queued messages at /admin/mailbox"
        )
        for error in report.errors:
            click.echo(f"reminder source failed: {error}", err=True)
        sys.exit(1 if current_app.config["PRODUCTION"] or report.errors else 0)
    if loop:
        pause = float(current_app.config["MAIL_LOOP_SECONDS"])
        click.echo(f"sending to {settings.host}:{settings.port} every {pause:g} s; Ctrl-C stops")

        def said(report: sender.SendReport) -> None:
            if report.queued or report.sent or report.refused or report.waiting:
                click.echo(_summary(report))
            if report.problem:
                click.echo(f"the mail server failed: {report.problem}", err=True)

        try:
            sender.loop(current_app, settings=settings, clock=utcnow, pause=pause, on_pass=said)
        except KeyboardInterrupt:
            click.echo("stopped")
        return
    report = sender.send(current_app, settings=settings, clock=utcnow, max_messages=max_messages)
    click.echo(_summary(report))
    for error in report.errors:
        click.echo(f"reminder source failed: {error}", err=True)
    if report.problem:
        click.echo(
            f"the mail server {settings.host}:{settings.port} failed: {report.problem}", err=True
        )
    if report.problem or report.errors:
        sys.exit(1)


@group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable.")
def mail_status(as_json: bool) -> None:
    """How many messages wait, went and were refused; the reasons for refusals."""
    from elearn.services import mail

    with reading(current_app) as session:
        state = mail.status(session=session)
        refused = [
            {
                "id": r.id,
                "to": r.to_address,
                "template": r.template,
                "refused_at": r.rejected_at.isoformat() if r.rejected_at else None,
                "reason": r.last_error,
            }
            for r in mail.refused(session=session)
        ]
    settings = _settings()
    data = {
        "server": f"{settings.host}:{settings.port}" if settings else None,
        "waiting": state.waiting,
        "sent": state.sent,
        "refused": state.rejected,
        "oldest_waiting": state.oldest_waiting.isoformat() if state.oldest_waiting else None,
        "next_try_at": state.next_try_at.isoformat() if state.next_try_at else None,
        "last_error": state.last_error,
        "refusals": refused,
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    where = data["server"] or "no MAIL_HOST (development: /admin/mailbox)"
    click.echo(
        f"mail to {where}: {state.waiting} waiting, {state.sent} sent, {state.rejected} refused"
    )
    if state.oldest_waiting:
        click.echo(f"oldest waiting since {state.oldest_waiting:%Y-%m-%d %H:%M:%S} UTC")
    if state.last_error:
        click.echo(f"last error: {state.last_error}")
    for row in refused:
        click.echo(f"refused #{row['id']} to {row['to']} ({row['template']}): {row['reason']}")


@group.command("retry")
@click.argument("message_ids", nargs=-1, type=int)
def mail_retry(message_ids: tuple[int, ...]) -> None:
    """Send refused messages again (all of them, or those named by id), e.g. after the
    recipient's address or the mail server was fixed."""
    from elearn.jobs import unit_of_work
    from elearn.services import mail

    with unit_of_work(current_app) as session:
        count = mail.retry_refused(session=session, message_ids=message_ids, now=utcnow())
    click.echo(f"{count} message(s) will be sent by the next 'mail send'")
