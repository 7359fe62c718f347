"""Delivering the e-mail outbox over SMTP (``mail send``), after queuing the reminders now due.

Services queue each message with its cause (``elearn.services.mail``). A pass first calls every
registered reminder source (each queues what is due, once per cause), then claims a batch of
due messages (``elearn.jobs.outbox``: a lease, ``SKIP LOCKED`` on PostgreSQL), sends them one by
one over one SMTP connection, and records each outcome in its own short unit of work at once:

- accepted by the server: sent;
- a recipient or message refused for good (5xx): kept as refused, with the server's answer;
- the server down, slow, or "try later" (4xx): waits with a doubling delay; after
  ``MAIL_GIVE_UP_HOURS`` it is kept as refused with the last answer.

A message is claimed before it is sent and marked right after, so two senders never send the
same one; a crash between the server's "250" and the mark is the one window in which it goes
twice (docs/decisions/0018). No database transaction is open while the server is asked.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlmodel import col

from elearn.jobs import outbox, unit_of_work
from elearn.models import MailAttachment, MailMessage
from elearn.services import mail

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)
SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    security: str  # starttls | tls | none
    username: str
    password: str
    sender: str  # "Name <address>"
    reply_to: str | None = None
    ca_file: str | None = None
    timeout: float = 30.0
    batch_size: int = 20
    backoff: outbox.Backoff = field(default_factory=lambda: outbox.Backoff(60.0, 3600.0))
    give_up_after: timedelta = timedelta(hours=72)

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.sender)[1]


def default_sender(config: Any) -> str:
    host = urlsplit(str(config["PUBLIC_URL"])).hostname or "localhost"
    if "." not in host:  # 127.0.0.1 has dots; "localhost" makes no usable domain
        host = "localhost.localdomain"
    return str(Address(str(config["ISSUER_NAME"]), "noreply", host))


def settings_from_config(*, config: Any) -> MailSettings | None:
    """The SMTP settings when ``MAIL_HOST`` is set, else None; a bad value is a ValueError."""
    host = (config.get("MAIL_HOST") or "").strip()
    if not host:
        return None
    security = str(config.get("MAIL_SECURITY", "starttls")).lower()
    if security not in SECURITY:
        raise ValueError(f"MAIL_SECURITY must be one of {', '.join(SECURITY)}, not {security!r}")
    port = int(config.get("MAIL_PORT") or (465 if security == "tls" else 587))
    sender = config.get("MAIL_FROM") or default_sender(config)
    if "@" not in parseaddr(sender)[1]:
        raise ValueError(
            f"MAIL_FROM must be an address such as 'elearn <kurs@example.no>', not {sender!r}"
        )
    numbers = {
        "timeout": float(config.get("MAIL_TIMEOUT_SECONDS", 30)),
        "batch": float(config.get("MAIL_BATCH_SIZE", 20)),
        "min": float(config.get("MAIL_RETRY_MIN_SECONDS", 60)),
        "max": float(config.get("MAIL_RETRY_MAX_SECONDS", 3600)),
        "give_up": float(config.get("MAIL_GIVE_UP_HOURS", 72)),
    }
    if any(not value > 0 for value in numbers.values()):
        raise ValueError("MAIL_TIMEOUT_SECONDS, _BATCH_SIZE, _RETRY_*_SECONDS, _GIVE_UP_HOURS > 0")
    return MailSettings(
        host=host,
        port=port,
        security=security,
        username=config.get("MAIL_USERNAME") or "",
        password=config.get("MAIL_PASSWORD") or "",
        sender=sender,
        reply_to=config.get("MAIL_REPLY_TO") or None,
        ca_file=config.get("MAIL_CA_FILE") or None,
        timeout=numbers["timeout"],
        batch_size=int(numbers["batch"]),
        backoff=outbox.Backoff(numbers["min"], numbers["max"]),
        give_up_after=timedelta(hours=numbers["give_up"]),
    )


# --- the message ---------------------------------------------------------------------------------


def build_message(
    row: MailMessage, attachments: list[mail.Attachment], settings: MailSettings, now: datetime
) -> EmailMessage:
    """The MIME message: text and HTML as alternatives, then the attachments (mixed)."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = row.message_id
    reply_to = row.reply_to or settings.reply_to
    if reply_to:
        message["Reply-To"] = reply_to
    if row.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message["Content-Language"] = row.lang
    message.set_content(row.body_text)
    message.add_alternative(row.body_html, subtype="html")
    for attachment in attachments:
        maintype, subtype, params = _content_type(attachment.content_type)
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=params,
        )
    return message


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    kind, *rest = [part.strip() for part in value.split(";")]
    maintype, _, subtype = kind.partition("/")
    params = dict(p.split("=", 1) for p in rest if "=" in p)
    return maintype or "application", subtype or "octet-stream", params


# --- the server ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str  # sent | refused | wait
    detail: str = ""


class Stop(Exception):
    """The server cannot take any message now (down, refusing us, a broken connection)."""


class Connection:
    """One SMTP session for a pass, opened when the first message is sent."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def open(self) -> smtplib.SMTP:
        if self.smtp is not None:
            return self.smtp
        s = self.settings
        try:
            smtp: smtplib.SMTP
            if s.security == "tls":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    smtp.starttls(context=self._context())
            if s.username:
                smtp.login(s.username, s.password)
        except (OSError, smtplib.SMTPException) as error:
            raise Stop(_describe(error)) from error
        self.smtp = smtp
        return smtp

    def send(self, message: EmailMessage, recipient: str) -> Outcome:
        smtp = self.open()
        try:
            refused = smtp.send_message(
                message, from_addr=self.settings.envelope_sender, to_addrs=[recipient]
            )
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            return _answer(code, text)
        except (smtplib.SMTPDataError, smtplib.SMTPNotSupportedError) as error:
            code = getattr(error, "smtp_code", 554)
            return _answer(code, getattr(error, "smtp_error", b""))
        except smtplib.SMTPSenderRefused as error:  # our own address: no message can go
            self.close()
            raise Stop(_describe(error)) from error
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise Stop(_describe(error)) from error
        if refused:  # only with several recipients; one is given
            code, text = next(iter(refused.values()))
            return _answer(code, text)
        return Outcome("sent")

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _answer(code: int, text: bytes | str) -> Outcome:
    detail = f"SMTP {code}: {_text(text)}".strip()
    return Outcome("refused" if 500 <= code < 600 else "wait", detail)


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"SMTP {error.smtp_code}: {_text(error.smtp_error)}"
    if isinstance(error, socket.timeout | TimeoutError):
        return "the mail server did not answer in time"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


# --- a pass --------------------------------------------------------------------------------------


@dataclass
class SendReport:
    queued: int = 0  # by the reminder sources
    sent: int = 0
    refused: int = 0
    waiting: int = 0  # tried and failed for now
    problem: str | None = None  # why the pass stopped early (the server down, refusing us)
    errors: list[str] = field(default_factory=list)  # reminder sources that failed


def queue_reminders(app: Flask, *, now: datetime, report: SendReport | None = None) -> int:
    """Call every registered reminder source, each in a unit of work of its own (one that fails
    is logged and the others still run)."""
    report = report if report is not None else SendReport()
    for source in mail.reminder_sources():
        name = f"{source.__module__}.{source.__qualname__}"
        try:
            with unit_of_work(app) as session:
                report.queued += source(session, now)
        except Exception as error:
            log.exception("reminder source %s failed", name)
            report.errors.append(f"{name}: {type(error).__name__}: {error}")
    return report.queued


def send(
    app: Flask,
    *,
    settings: MailSettings,
    clock: Callable[[], datetime],
    max_messages: int = 10_000,
    reminders: bool = True,
) -> SendReport:
    """One pass: queue due reminders, then send what is due until nothing is, the server
    fails, or ``max_messages`` were tried."""
    report = SendReport()
    if reminders:
        queue_reminders(app, now=clock(), report=report)
    connection = Connection(settings)
    tried = 0
    try:
        while tried < max_messages and report.problem is None:
            now = clock()
            # The lease outlasts a whole batch at the slowest the server may answer.
            lease = timedelta(seconds=settings.timeout * (settings.batch_size + 6) + 60)
            with unit_of_work(app, expire_on_commit=False) as session:
                rows = outbox.claim(
                    session,
                    MailMessage,
                    now=now,
                    limit=min(settings.batch_size, max_messages - tried),
                    lease=lease,
                )
                files = {
                    row.id: mail.attachments_of(session=session, message_id=row.id)
                    for row in rows
                    if row.id is not None
                }
            if not rows:
                break
            # One send may wait on the server several times (MAIL, RCPT, DATA): stop while there
            # is room for the slowest, so that no other sender's claim can overlap this one.
            deadline = now + lease - timedelta(seconds=5 * settings.timeout + 30)
            for index, row in enumerate(rows):
                if report.problem is not None or clock() >= deadline:
                    _release(app, rows[index:])
                    break
                tried += 1
                files_of_row = files.get(row.id or 0, [])
                _deliver(app, connection, settings, row, files_of_row, clock, report)
    finally:
        connection.close()
    return report


def _deliver(
    app: Flask,
    connection: Connection,
    settings: MailSettings,
    row: MailMessage,
    attachments: list[mail.Attachment],
    clock: Callable[[], datetime],
    report: SendReport,
) -> None:
    try:
        outcome = connection.send(
            build_message(row, attachments, settings, clock()), row.to_address
        )
    except Stop as stop:
        outcome = Outcome("wait", str(stop))
        report.problem = str(stop)
    now = clock()
    if outcome.kind == "sent":
        outbox.mark_sent(row, now)
        report.sent += 1
    elif outcome.kind == "refused":
        outbox.mark_refused(row, now, outcome.detail)
        report.refused += 1
    elif now - row.created_at >= settings.give_up_after:
        outbox.mark_refused(row, now, f"gave up after {row.tries + 1} tries: {outcome.detail}")
        report.refused += 1
    else:
        outbox.mark_waiting(row, now, settings.backoff, outcome.detail)
        report.waiting += 1
    with unit_of_work(app) as session:
        session.add(row)
        if outcome.kind == "sent" and attachments:
            # Delivered: the files (a certificate's PDF is ~56 KB) are not kept twice.
            session.execute(delete(MailAttachment).where(col(MailAttachment.message_id) == row.id))


def _release(app: Flask, rows: list[MailMessage]) -> None:
    with unit_of_work(app) as session:
        for row in rows:
            outbox.release(row)
            session.add(row)


def loop(
    app: Flask,
    *,
    settings: MailSettings,
    clock: Callable[[], datetime],
    pause: float,
    passes: int | None = None,
    on_pass: Callable[[SendReport], None] | None = None,
) -> None:
    """Send pass after pass, ``pause`` seconds apart, until stopped (or ``passes`` ran)."""
    done = 0
    while passes is None or done < passes:
        report = send(app, settings=settings, clock=clock)
        if on_pass is not None:
            on_pass(report)
        done += 1
        if passes is None or done < passes:
            time.sleep(pause)
