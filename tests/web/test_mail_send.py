"""The e-mail sender against a real SMTP server on loopback (aiosmtpd, tests/smtp.py): what
arrives is parsed; the server down, refusing or busy loses nothing and sends nothing twice."""

from __future__ import annotations

import datetime as dt
import shutil
import ssl
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import col, select

from elearn.clock import utcnow
from elearn.db import engine_of, open_session
from elearn.jobs import mail as sender
from elearn.models import MailMessage
from elearn.services import mail
from elearn.services.mail import Attachment, queue_mail
from tests.conftest import Template, make_app
from tests.smtp import PASSWORD, USER, Server, serve

CONTEXT = {"name": "Kari", "reset_url": "https://example.org/reset/abc", "minutes": 60}


@pytest.fixture
def smtp() -> Iterator[Server]:
    with serve() as server:
        yield server


def settings(app: Flask, server: Server, **config: Any) -> sender.MailSettings:
    values = {
        **app.config,
        "MAIL_HOST": "127.0.0.1",
        "MAIL_PORT": server.port,
        "MAIL_SECURITY": "none",
        "MAIL_FROM": "Kurs <kurs@example.no>",
        "MAIL_TIMEOUT_SECONDS": 5,
        **config,
    }
    found = sender.settings_from_config(config=values)
    assert found is not None
    return found


def queue(app: Flask, count: int = 1, **options: Any) -> list[int]:
    ids = []
    with open_session(app) as session:
        for n in range(count):
            row = queue_mail(
                session,
                to=options.pop("to", None) or f"person{n}@example.org",
                template="password_reset",
                lang=options.get("lang", "en"),
                context=CONTEXT,
                **{k: v for k, v in options.items() if k != "lang"},
            )
            assert row is not None and row.id is not None
            ids.append(row.id)
        session.commit()
    return ids


def rows(app: Flask) -> list[MailMessage]:
    with open_session(app) as session:
        return list(session.exec(select(MailMessage).order_by(col(MailMessage.id))).all())


def send(
    app: Flask, mail_settings: sender.MailSettings, now: datetime | None = None, **kw: Any
) -> Any:
    """One pass; without the reminder sources unless asked (the demo data's assignment would
    queue messages of its own)."""
    kw.setdefault("reminders", False)
    return sender.send(app, settings=mail_settings, clock=lambda: now or utcnow(), **kw)


def test_a_message_arrives_as_text_and_html_with_its_headers_and_attachments(
    app: Flask, smtp: Server
) -> None:
    ics = Attachment("invitation.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n")
    pdf = Attachment("certificate.pdf", "application/pdf", b"%PDF-1.7\n\x00\xff\xfe binary")
    [message_id] = queue(
        app,
        to="kari@example.org",
        lang="nb",
        attachments=[ics, pdf],
        reply_to="arrangor@example.no",
        unsubscribe_url="https://kurs.example.no/unsubscribe/t0k",
    )
    report = send(app, settings(app, smtp, MAIL_REPLY_TO="svar@example.no"))
    assert (report.sent, report.refused, report.waiting, report.problem) == (1, 0, 0, None)

    [got] = smtp.received
    assert got.sender == "kurs@example.no" and got.recipients == ["kari@example.org"]
    m = got.message
    row = rows(app)[0]
    assert row.id == message_id and row.sent_at is not None and row.tries == 1
    assert m["From"] == "Kurs <kurs@example.no>" and m["To"] == "kari@example.org"
    assert m["Subject"] == "Tilbakestill passordet ditt"
    assert m["Message-ID"] == row.message_id
    assert m["Reply-To"] == "arrangor@example.no"  # the message's own wins over MAIL_REPLY_TO
    assert m["List-Unsubscribe"] == "<https://kurs.example.no/unsubscribe/t0k>"
    assert m["Auto-Submitted"] == "auto-generated"
    assert abs(m["Date"].datetime - utcnow()) < timedelta(minutes=1)
    assert m.get_content_type() == "multipart/mixed"
    alternative = next(p for p in m.iter_parts() if p.get_content_type() == "multipart/alternative")
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert "Hei, Kari!" in m.get_body(("plain",)).get_content()
    assert '<a href="https://example.org/reset/abc"' in m.get_body(("html",)).get_content()
    files = {a.get_filename(): a for a in m.iter_attachments()}
    assert files["certificate.pdf"].get_content() == pdf.data
    assert files["invitation.ics"].get_content_type() == "text/calendar"
    assert files["invitation.ics"].get_param("method") == "REQUEST"
    assert files["invitation.ics"].get_payload(decode=True) == ics.data
    # The files were kept until delivered, not after.
    with open_session(app) as session:
        assert mail.attachments_of(session=session, message_id=message_id) == []
    # Sent once: another pass sends nothing more.
    assert send(app, settings(app, smtp)).sent == 0 and len(smtp.received) == 1


def test_a_message_without_attachments_is_multipart_alternative_without_list_unsubscribe(
    app: Flask, smtp: Server
) -> None:
    queue(app)
    send(app, settings(app, smtp))
    m = smtp.received[0].message
    assert m.get_content_type() == "multipart/alternative"
    assert m["List-Unsubscribe"] is None and m["Reply-To"] is None


def test_a_server_that_is_down_loses_nothing_and_gets_it_later(app: Flask) -> None:
    server = Server()  # not started: nothing listens on its port
    ids = queue(app, 3)
    now = utcnow()
    report = send(app, settings(app, server), now)
    assert report.sent == 0 and report.problem and "Connection" in report.problem
    waiting = rows(app)
    assert [r.sent_at for r in waiting] == [None, None, None]
    assert all(r.rejected_at is None and r.claimed_until is None for r in waiting)
    # The message tried waits a minute; the others were not tried and wait their turn.
    assert waiting[0].tries == 1 and waiting[0].next_try_at == now + timedelta(seconds=60)
    assert waiting[0].last_error and "Connection" in waiting[0].last_error
    assert [r.tries for r in waiting[1:]] == [0, 0]
    server.start()
    try:
        assert send(app, settings(app, server), now + timedelta(seconds=10)).sent == 2
        assert send(app, settings(app, server), now + timedelta(seconds=61)).sent == 1
        assert sorted(str(r.message["Message-ID"]) for r in server.received) == sorted(
            r.message_id for r in rows(app)
        )
        assert all(r.sent_at is not None for r in rows(app)) and len(ids) == 3
    finally:
        server.stop()


def test_a_refused_recipient_is_kept_as_refused_with_the_reason(app: Flask, smtp: Server) -> None:
    smtp.handler.refuse["gone@example.org"] = "550 5.1.1 <gone@example.org>: no such user"
    queue(app, to="gone@example.org")
    queue(app, to="here@example.org")
    report = send(app, settings(app, smtp))
    assert (report.sent, report.refused) == (1, 1)
    gone, here = rows(app)
    assert gone.rejected_at is not None and gone.sent_at is None
    assert gone.last_error == "SMTP 550: 5.1.1 <gone@example.org>: no such user"
    assert here.sent_at is not None
    assert [r.recipients for r in smtp.received] == [["here@example.org"]]
    # Never tried again.
    assert send(app, settings(app, smtp), utcnow() + timedelta(days=1)).sent == 0
    result = app.test_cli_runner().invoke(args=["mail", "status"])
    assert "1 waiting" not in result.output and "1 sent, 1 refused" in result.output
    assert "gone@example.org (password_reset): SMTP 550" in result.output
    # The address was fixed on the server's side: the operator sends it again.
    smtp.handler.refuse.clear()
    result = app.test_cli_runner().invoke(args=["mail", "retry", str(gone.id)])
    assert "1 message(s)" in result.output
    assert send(app, settings(app, smtp)).sent == 1
    assert [r.recipients for r in smtp.received][-1] == ["gone@example.org"]
    assert app.test_cli_runner().invoke(args=["mail", "retry"]).output.startswith("0 message")


def test_a_busy_server_makes_the_message_wait_longer_each_time_then_give_up(
    app: Flask, smtp: Server
) -> None:
    smtp.handler.busy = "451 4.3.0 try again later"
    queue(app)
    created = rows(app)[0].created_at
    now, waits = created, []
    for _ in range(4):
        report = send(app, settings(app, smtp), now)
        assert report.waiting == 1 and report.problem is None
        row = rows(app)[0]
        waits.append((row.next_try_at - now).total_seconds())
        now = row.next_try_at
    assert waits == [60, 120, 240, 480] and row.last_error == "SMTP 451: 4.3.0 try again later"
    report = send(app, settings(app, smtp), created + timedelta(hours=72))
    assert report.refused == 1
    row = rows(app)[0]
    assert row.rejected_at is not None and row.last_error is not None
    assert row.last_error.startswith("gave up after 5 tries: SMTP 451")
    assert smtp.received == []


def test_a_message_not_before_a_time_waits_for_it(app: Flask, smtp: Server) -> None:
    later = utcnow() + timedelta(hours=1)
    queue(app, not_before=later)
    assert send(app, settings(app, smtp)).sent == 0
    assert send(app, settings(app, smtp), later).sent == 1


@pytest.fixture
def second_sender(template_db: Template, app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """Another app (its own engine and connections) on the same database: a second server."""
    other = tmp_path / "second"
    for folder in ("keys", "pdf-signing"):
        if (tmp_path / folder).is_dir():
            shutil.copytree(tmp_path / folder, other / folder)
    other.mkdir(exist_ok=True)
    application = make_app(other, **template_db.content, DATABASE_URL=app.config["DATABASE_URL"])
    yield application
    engine_of(application).dispose()


def test_two_senders_at_once_send_each_message_exactly_once(
    app: Flask, second_sender: Flask, smtp: Server
) -> None:
    ids = queue(app, 60)
    barrier = threading.Barrier(2)
    reports: list[Any] = []

    def run(application: Flask) -> None:
        barrier.wait()
        reports.append(send(application, settings(application, smtp, MAIL_BATCH_SIZE=4)))

    threads = [threading.Thread(target=run, args=(a,)) for a in (app, second_sender)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    sent_ids = smtp.handler.message_ids()
    assert len(sent_ids) == len(set(sent_ids)) == len(ids) == 60
    assert sorted(sent_ids) == sorted(r.message_id for r in rows(app))
    assert all(r.sent_at is not None and r.tries == 1 for r in rows(app))
    assert sum(r.sent for r in reports) == 60
    assert all(r.sent > 0 for r in reports), "both senders took part"


def test_reminder_sources_run_before_sending_and_queue_once(app: Flask, smtp: Server) -> None:
    calls: list[datetime] = []

    def due_reminders(session: Any, now: datetime) -> int:
        calls.append(now)
        row = queue_mail(
            session,
            to="due@example.org",
            template="password_reset",
            lang="da",
            context=CONTEXT,
            dedupe_key="test-reminder:1",
            now=now,
        )
        return 0 if row is None else 1

    def broken(session: Any, now: datetime) -> int:
        raise RuntimeError("broken source")

    mail.register_reminder_source(broken)
    mail.register_reminder_source(due_reminders)
    try:
        first = send(app, settings(app, smtp), reminders=True)
        second = send(app, settings(app, smtp), reminders=True)
    finally:
        mail._REMINDER_SOURCES.remove(broken)
        mail._REMINDER_SOURCES.remove(due_reminders)
    # Every source ran (the demo's assignment queued its own), each message once.
    assert first.queued == first.sent >= 1 and (second.queued, second.sent) == (0, 0)
    assert len(calls) == 2
    assert [r.recipients for r in smtp.received].count(["due@example.org"]) == 1
    assert first.errors and "broken source" in first.errors[0]


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def test_starttls_and_a_password_are_used_and_a_wrong_password_loses_nothing(
    app: Flask, tmp_path: Path
) -> None:
    context, ca_file = _self_signed(tmp_path)
    with serve(tls=context) as server:
        queue(app)
        wrong = settings(
            app,
            server,
            MAIL_SECURITY="starttls",
            MAIL_CA_FILE=str(ca_file),
            MAIL_USERNAME=USER,
            MAIL_PASSWORD="wrong",
        )
        report = send(app, wrong)
        assert report.sent == 0 and report.problem and "SMTP 535" in report.problem
        assert rows(app)[0].sent_at is None and rows(app)[0].claimed_until is None
        right = settings(
            app,
            server,
            MAIL_SECURITY="starttls",
            MAIL_CA_FILE=str(ca_file),
            MAIL_USERNAME=USER,
            MAIL_PASSWORD=PASSWORD,
        )
        assert send(app, right, utcnow() + timedelta(minutes=2)).sent == 1
        assert len(server.received) == 1


def test_an_untrusted_certificate_is_not_sent_to(app: Flask, tmp_path: Path) -> None:
    context, _ca_file = _self_signed(tmp_path)
    with serve(tls=context) as server:
        queue(app)
        report = send(app, settings(app, server, MAIL_SECURITY="starttls"))
        assert report.sent == 0 and report.problem and "CERTIFICATE_VERIFY_FAILED" in report.problem
        assert server.received == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"MAIL_SECURITY": "ssl3"}, "MAIL_SECURITY"),
        ({"MAIL_FROM": "not an address"}, "MAIL_FROM"),
        ({"MAIL_RETRY_MIN_SECONDS": 0}, "_RETRY_"),
    ],
)
def test_bad_mail_settings_are_refused_with_the_setting_named(
    app: Flask, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sender.settings_from_config(config={**app.config, "MAIL_HOST": "smtp.example.no", **config})


def test_mail_send_names_a_bad_setting(app: Flask) -> None:
    app.config.update(MAIL_HOST="smtp.example.no", MAIL_SECURITY="ssl3")
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 1 and "MAIL_SECURITY must be one of" in result.output


def test_mail_send_without_a_mail_host_delivers_nothing_and_says_where_to_look(
    app: Flask,
) -> None:
    queue(app)
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "/admin/mailbox" in result.output
    assert rows(app)[0].sent_at is None


def test_mail_send_and_status_on_the_command_line(app: Flask, smtp: Server) -> None:
    queue(app, 2)
    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SECURITY="none")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0 and "sent " in result.output, result.output
    result = runner.invoke(args=["mail", "status", "--json"])
    assert '"waiting": 0' in result.output and '"refused": 0' in result.output
    assert len(smtp.received) == len(rows(app)) >= 2
    smtp.stop()
    queue(app, 1)
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 1 and "failed" in result.output


def test_the_long_running_mode_keeps_sending_pass_after_pass(app: Flask, smtp: Server) -> None:
    queue(app)
    seen: list[Any] = []
    queued_between = threading.Event()

    def after(report: Any) -> None:
        seen.append(report)
        if len(seen) == 1:
            queue(app, to="later@example.org")
            queued_between.set()

    sender.loop(app, settings=settings(app, smtp), clock=utcnow, pause=0, passes=2, on_pass=after)
    assert queued_between.is_set() and len(seen) == 2
    assert seen[0].sent >= 1 and seen[1].sent >= 1
    assert ["later@example.org"] in [r.recipients for r in smtp.received]
