"""E-mail through an outbox: ``queue_mail`` writes the message with its cause, a job sends it.

A message is rendered when it is queued, in the recipient's language, and written in the
caller's transaction: it exists exactly when its cause does (a reset link made, a certificate
issued). ``flask --app elearn mail send`` (``elearn.jobs.mail``) delivers it over SMTP and
first asks every registered reminder source to queue what has fallen due. The same cause never
queues two messages: it names itself with a ``dedupe_key``. See docs/decisions/0018.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from elearn.jobs import outbox
from elearn.models import MailAttachment, MailMessage, User
from elearn.services.paging import Page, page_of

if TYPE_CHECKING:
    from flask import Flask


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST", "application/pdf"
    data: bytes


ReminderSource = Callable[[Session, datetime], int]
# Registered at import by the modules that own a kind of reminder (like the item-type registry);
# the sender calls each one before it sends.
_REMINDER_SOURCES: list[ReminderSource] = []


def register_reminder_source(fn: ReminderSource) -> None:
    """Have the sender call ``fn(session, now)`` before each pass; it queues what is due (by
    ``dedupe_key``, so calling it again queues nothing new) and returns how many it queued."""
    if fn not in _REMINDER_SOURCES:
        _REMINDER_SOURCES.append(fn)


def reminder_sources() -> tuple[ReminderSource, ...]:
    return tuple(_REMINDER_SOURCES)


class BadAddress(ValueError):
    """An address no message can be sent to (empty, no @, a line break that would forge headers)."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
INFO_KEY = "elearn.mail"  # where a session carries the site (see elearn.db.open_session)


def checked_address(*, address: str) -> str:
    address = address.strip()
    if not address or "@" not in address or _CONTROL.search(address) or len(address) > 254:
        raise BadAddress(f"not an e-mail address: {address!r}")
    return address


class Site:
    """What rendering a message needs from the app: its templates and translations, languages,
    public address and clock. Services reach it through ``session.info`` (as the xAPI settings),
    so that they read neither ``current_app`` nor a clock of their own."""

    def __init__(self, app: Flask, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock
        self.languages: tuple[str, ...] = tuple(app.config["LANGUAGES"])
        self.default_language = str(app.config["BABEL_DEFAULT_LOCALE"])
        self.public_url = str(app.config["PUBLIC_URL"]).rstrip("/")
        self.name = str(app.config.get("MAIL_SITE_NAME") or app.config["ISSUER_NAME"])

    def language(self, wanted: str | None) -> str:
        return wanted if wanted in self.languages and wanted else self.default_language

    def link(self, endpoint: str, **values: Any) -> str:
        """An absolute link at ``PUBLIC_URL``, built without a request (the sender runs from
        cron), the way the certificates build their public links."""
        adapter = self.app.url_map.bind("localhost", script_name="/")
        return self.public_url + adapter.build(endpoint, values)

    def message_id(self) -> str:
        host = urlsplit(self.public_url).hostname or "localhost"
        return f"<{uuid.uuid4().hex}@{host}>"

    def render(self, template: str, lang: str, context: dict[str, Any]) -> tuple[str, str, str]:
        """Subject, plain text and HTML of ``mail/<template>`` in ``lang``."""
        from flask_babel import force_locale

        values = {
            "public_url": self.public_url,
            "site_name": self.name,
            "link": self.link,
            "lang": lang,
            **context,
        }
        # A context of its own, so that the locale forced here never leaks into a request's;
        # straight from the environment, as the pages' context processors need a request.
        with self.app.app_context(), force_locale(lang):
            env = self.app.jinja_env
            subject = env.get_template(f"mail/{template}.subject.txt").render(values)
            text = env.get_template(f"mail/{template}.txt").render(values)
            html = env.get_template(f"mail/{template}.html").render(values)
        return " ".join(subject.split())[:300], text.strip() + "\n", html


def init_app(app: Flask) -> None:
    """Give every session the site, so that services can queue messages."""
    from elearn.clock import utcnow
    from elearn.db import SESSION_INFO

    app.extensions.setdefault(SESSION_INFO, {})[INFO_KEY] = Site(app, utcnow)


def site_of(*, session: Session) -> Site:
    site = session.info.get(INFO_KEY)
    if not isinstance(site, Site):
        raise RuntimeError("a session from elearn.db.open_session carries the mail site")
    return site


def setting(*, session: Session, name: str) -> Any:
    """A configuration value, for a reminder source (it gets only a session and the time)."""
    return site_of(session=session).app.config[name]


def language_of(*, session: Session, user: User | None) -> str:
    """The language to write to a user in: theirs, else the site's default."""
    return site_of(session=session).language(user.locale if user is not None else None)


def public_link(*, session: Session, endpoint: str, **values: Any) -> str:
    """An absolute link to a page of this site at ``PUBLIC_URL`` (for a message's context)."""
    return site_of(session=session).link(endpoint, **values)


def queue_mail(
    session: Session,
    *,
    to: str,
    template: str,
    lang: str,
    context: dict[str, Any],
    attachments: Sequence[Attachment] = (),
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    unsubscribe_url: str | None = None,
    reply_to: str | None = None,
    now: datetime | None = None,
) -> MailMessage | None:
    """Render ``mail/<template>`` in ``lang`` and queue it in the caller's transaction (flushed,
    not committed). A ``dedupe_key`` queued before: nothing is queued and None is returned."""
    site = site_of(session=session)
    to = checked_address(address=to)
    if reply_to is not None:
        reply_to = checked_address(address=reply_to)
    if unsubscribe_url is not None and _CONTROL.search(unsubscribe_url):
        raise ValueError("an unsubscribe address holds a control character")
    lang = site.language(lang)
    if dedupe_key is not None and already_queued(session=session, dedupe_key=dedupe_key):
        return None
    now = now or site.clock()
    subject, text, html = site.render(
        template, lang, {"unsubscribe_url": unsubscribe_url, "to": to, **context}
    )
    row = MailMessage(
        dedupe_key=dedupe_key,
        message_id=site.message_id(),
        to_address=to,
        template=template,
        lang=lang,
        subject=subject,
        body_text=text,
        body_html=html,
        reply_to=reply_to,
        unsubscribe_url=unsubscribe_url,
        created_at=now,
        next_try_at=max(now, not_before) if not_before is not None else now,
    )
    try:
        # A savepoint: a concurrent transaction that queued the same key first makes this one
        # queue nothing, and leaves the caller's transaction usable.
        with session.begin_nested():
            session.add(row)
            session.flush()
            assert row.id is not None
            for position, attachment in enumerate(attachments):
                session.add(
                    MailAttachment(
                        message_id=row.id,
                        position=position,
                        filename=attachment.filename,
                        content_type=attachment.content_type,
                        data=attachment.data,
                    )
                )
            session.flush()
    except IntegrityError:
        if dedupe_key is not None and already_queued(session=session, dedupe_key=dedupe_key):
            return None
        raise
    return row


def rehearse(*, session: Session, template: str, lang: str, context: dict[str, Any]) -> None:
    """Render a message and keep nothing: the work ``queue_mail`` does, for a path that must
    take as long as one that sends (an unknown address asking for a reset link)."""
    site = site_of(session=session)
    site.render(template, site.language(lang), {"unsubscribe_url": None, "to": "", **context})


def already_queued(*, session: Session, dedupe_key: str) -> bool:
    return (
        session.exec(select(MailMessage.id).where(MailMessage.dedupe_key == dedupe_key)).first()
        is not None
    )


def attachments_of(*, session: Session, message_id: int) -> list[Attachment]:
    rows = session.exec(
        select(MailAttachment)
        .where(MailAttachment.message_id == message_id)
        .order_by(col(MailAttachment.position))
    ).all()
    return [Attachment(r.filename, r.content_type, bytes(r.data)) for r in rows]


# --- looking -------------------------------------------------------------------------------------


def status(*, session: Session) -> outbox.OutboxStatus:
    """How many messages wait, went and were refused (the shared outbox figures)."""
    return outbox.status(session, MailMessage)


def refused(*, session: Session, limit: int = 50) -> list[MailMessage]:
    return outbox.rejected(session, MailMessage, limit=limit)


def retry_refused(*, session: Session, message_ids: Sequence[int], now: datetime) -> int:
    """Make refused messages wait to be sent again: those named, or all; returns how many."""
    if not message_ids:
        return outbox.requeue_rejected(session, MailMessage, now=now)
    rows = session.exec(
        select(MailMessage).where(
            col(MailMessage.id).in_(list(message_ids)), col(MailMessage.rejected_at).is_not(None)
        )
    ).all()
    for row in rows:
        row.rejected_at, row.next_try_at = None, now
    session.flush()
    return len(rows)


STATES = ("waiting", "refused", "sent")


def message_page(
    *, session: Session, state: str | None, number: int, size: int = 50
) -> Page[MailMessage]:
    """The outbox, newest first, a page at a time; ``state`` one of STATES or None for all."""
    statement = select(MailMessage)
    if state == "waiting":
        statement = statement.where(outbox.pending(MailMessage))
    elif state == "refused":
        statement = statement.where(col(MailMessage.rejected_at).is_not(None))
    elif state == "sent":
        statement = statement.where(col(MailMessage.sent_at).is_not(None))
    statement = statement.order_by(col(MailMessage.id).desc())
    return page_of(session=session, statement=statement, number=number, size=size)


def message(*, session: Session, message_id: int) -> MailMessage | None:
    return session.get(MailMessage, message_id)


def state_of(*, row: MailMessage) -> str:
    if row.sent_at is not None:
        return "sent"
    return "refused" if row.rejected_at is not None else "waiting"
