"""queue_mail: a message rendered in the recipient's language, queued in the caller's
transaction, once per cause; reminder sources registered for the sender."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlmodel import col, select

from elearn.clock import utcnow
from elearn.db import open_session
from elearn.models import MailMessage
from elearn.services import mail
from elearn.services.mail import Attachment, BadAddress, queue_mail

CONTEXT = {"name": "Kari", "reset_url": "https://example.org/reset/abc", "minutes": 60}


def messages(app: Flask) -> list[MailMessage]:
    with open_session(app) as session:
        return list(session.exec(select(MailMessage).order_by(col(MailMessage.id))).all())


@pytest.mark.parametrize(
    ("lang", "subject", "greeting"),
    [
        ("nb", "Tilbakestill passordet ditt", "Hei, Kari!"),
        ("da", "Nulstil din adgangskode", "Hej Kari"),
        ("en", "Reset your password", "Hello Kari,"),
        ("xx", "Tilbakestill passordet ditt", "Hei, Kari!"),  # unknown: the site's default
    ],
)
def test_a_message_is_rendered_in_the_recipients_language(
    app: Flask, lang: str, subject: str, greeting: str
) -> None:
    with open_session(app) as session:
        row = queue_mail(
            session, to="kari@example.org", template="password_reset", lang=lang, context=CONTEXT
        )
        assert row is not None
        assert row.subject == subject
        assert greeting in row.body_text and greeting in row.body_html
        assert "https://example.org/reset/abc" in row.body_text
        assert row.lang == (lang if lang != "xx" else "nb")
        assert row.message_id.startswith("<") and row.message_id.endswith("@127.0.0.1>")
        session.commit()


def test_html_is_escaped_and_text_is_not(app: Flask) -> None:
    with open_session(app) as session:
        row = queue_mail(
            session,
            to="kari@example.org",
            template="password_reset",
            lang="en",
            context={**CONTEXT, "name": "<b>Kari & Ola</b>"},
        )
        assert row is not None
        assert "&lt;b&gt;Kari &amp; Ola&lt;/b&gt;" in row.body_html
        assert "Hello <b>Kari & Ola</b>," in row.body_text


def test_the_message_is_flushed_in_the_callers_transaction_not_committed(app: Flask) -> None:
    with open_session(app) as session:
        row = queue_mail(
            session, to="kari@example.org", template="password_reset", lang="en", context=CONTEXT
        )
        assert row is not None and row.id is not None
        session.rollback()  # the cause failed: no message either
    assert messages(app) == []


def test_a_dedupe_key_queues_one_message(app: Flask) -> None:
    with open_session(app) as session:
        first = queue_mail(
            session,
            to="kari@example.org",
            template="password_reset",
            lang="en",
            context=CONTEXT,
            dedupe_key="reset:1",
        )
        again = queue_mail(
            session,
            to="kari@example.org",
            template="password_reset",
            lang="en",
            context=CONTEXT,
            dedupe_key="reset:1",
        )
        assert first is not None and again is None
        session.commit()
    with open_session(app) as session:  # and in a later transaction
        assert (
            queue_mail(
                session,
                to="kari@example.org",
                template="password_reset",
                lang="en",
                context=CONTEXT,
                dedupe_key="reset:1",
            )
            is None
        )
        session.commit()
    assert len(messages(app)) == 1


def test_attachments_reply_to_unsubscribe_and_not_before_are_kept(app: Flask) -> None:
    later = utcnow() + timedelta(hours=3)
    ics = Attachment("invite.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n")
    pdf = Attachment("c.pdf", "application/pdf", b"%PDF-1.7\x00\xff")
    with open_session(app) as session:
        row = queue_mail(
            session,
            to="kari@example.org",
            template="password_reset",
            lang="en",
            context=CONTEXT,
            attachments=[ics, pdf],
            not_before=later,
            unsubscribe_url="https://example.org/unsubscribe/x",
            reply_to="organiser@example.org",
        )
        assert row is not None and row.id is not None
        message_id = row.id
        session.commit()
    with open_session(app) as session:
        row = session.get(MailMessage, message_id)
        assert row is not None
        assert row.next_try_at == later
        assert row.reply_to == "organiser@example.org"
        assert "https://example.org/unsubscribe/x" in row.body_text
        assert mail.attachments_of(session=session, message_id=message_id) == [ics, pdf]


@pytest.mark.parametrize(
    "address",
    ["", "no-at-sign", "a@b.org\r\nBcc: everyone@example.org", "a\x00@b.org", "a@b.org\nX-Evil: 1"],
)
def test_an_address_that_could_forge_headers_is_refused(app: Flask, address: str) -> None:
    with open_session(app) as session, pytest.raises(BadAddress):
        queue_mail(session, to=address, template="password_reset", lang="en", context=CONTEXT)


def test_reminder_sources_are_registered_once() -> None:
    def source(session: object, now: object) -> int:
        return 0

    before = len(mail.reminder_sources())
    mail.register_reminder_source(source)  # type: ignore[arg-type]
    mail.register_reminder_source(source)  # type: ignore[arg-type]
    try:
        assert mail.reminder_sources()[-1] is source
        assert len(mail.reminder_sources()) == before + 1
    finally:
        mail._REMINDER_SOURCES.remove(source)  # type: ignore[arg-type]


def test_public_links_point_at_the_public_address(app: Flask) -> None:
    with open_session(app) as session:
        link = mail.public_link(session=session, endpoint="auth.reset", token="abc")
        assert link == "http://127.0.0.1:5000/reset/abc"


def test_a_message_can_be_queued_outside_an_app_context(app: Flask) -> None:
    """The site travels with the session: a job or a test needs no pushed context."""
    with open_session(app) as session:
        row = queue_mail(
            session, to="kari@example.org", template="password_reset", lang="da", context=CONTEXT
        )
        assert row is not None and row.subject == "Nulstil din adgangskode"


def test_two_transactions_queueing_one_cause_at_once_queue_one_message(app: Flask) -> None:
    """The second waits for the first (PostgreSQL: the unique key; SQLite: the write lock) and
    then queues nothing, its own transaction still usable."""
    import threading

    results: list[object] = []
    first = open_session(app)
    row = queue_mail(
        first,
        to="a@example.org",
        template="password_reset",
        lang="en",
        context=CONTEXT,
        dedupe_key="race:1",
    )
    assert row is not None

    def second() -> None:
        with open_session(app) as session:
            results.append(
                queue_mail(
                    session,
                    to="a@example.org",
                    template="password_reset",
                    lang="en",
                    context=CONTEXT,
                    dedupe_key="race:1",
                )
            )
            results.append(
                queue_mail(
                    session,
                    to="b@example.org",
                    template="password_reset",
                    lang="en",
                    context=CONTEXT,
                    dedupe_key="race:2",
                )
            )
            session.commit()

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=0.5)
    assert thread.is_alive()  # waiting for the first transaction
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert results[0] is None and results[1] is not None
    assert sorted(m.dedupe_key or "" for m in messages(app)) == ["race:1", "race:2"]
