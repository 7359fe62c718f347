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
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import and_, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from elearn.clock import utcnow
from elearn.models import MailAttachment, MailMessage, User


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


def checked_address(address: str) -> str:
    address = address.strip()
    if not address or "@" not in address or _CONTROL.search(address) or len(address) > 254:
        raise BadAddress(f"not an e-mail address: {address!r}")
    return address


def language_of(user: User | None, default: str | None = None) -> str:
    """The language to write to a user in: theirs, else the site's default."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if user is not None and user.locale in languages:
        return str(user.locale)
    if default is not None and default in languages:
        return default
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def public_link(endpoint: str, **values: Any) -> str:
    """An absolute link to a page of this site at ``PUBLIC_URL``, built without a request (the
    sender runs from cron), as the certificates build their public links."""
    from flask import current_app

    adapter = current_app.url_map.bind("localhost", script_name="/")
    path = adapter.build(endpoint, values)
    return str(current_app.config["PUBLIC_URL"]).rstrip("/") + path


def _message_id(public_url: str) -> str:
    host = urlsplit(public_url).hostname or "localhost"
    return f"<{uuid.uuid4().hex}@{host}>"


def render(template: str, lang: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, plain text and HTML of ``mail/<template>`` in ``lang``."""
    from flask import current_app
    from flask_babel import force_locale

    values = {
        "public_url": current_app.config["PUBLIC_URL"],
        "site_name": current_app.config.get("MAIL_SITE_NAME") or current_app.config["ISSUER_NAME"],
        "link": public_link,
        "lang": lang,
        **context,
    }
    # Straight from the environment: the pages' context processors need a request, and a
    # message is also rendered by the sender's reminder sources, from cron.
    env = current_app.jinja_env
    with force_locale(lang):
        subject = env.get_template(f"mail/{template}.subject.txt").render(values)
        text = env.get_template(f"mail/{template}.txt").render(values)
        html = env.get_template(f"mail/{template}.html").render(values)
    return " ".join(subject.split())[:300], text.strip() + "\n", html


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
    from flask import current_app

    to = checked_address(to)
    if reply_to is not None:
        reply_to = checked_address(reply_to)
    if unsubscribe_url is not None and _CONTROL.search(unsubscribe_url):
        raise ValueError("an unsubscribe address holds a control character")
    if lang not in current_app.config["LANGUAGES"]:
        lang = str(current_app.config["BABEL_DEFAULT_LOCALE"])
    if dedupe_key is not None and already_queued(session=session, dedupe_key=dedupe_key):
        return None
    now = now or utcnow()
    subject, text, html = render(
        template, lang, {"unsubscribe_url": unsubscribe_url, "to": to, **context}
    )
    row = MailMessage(
        dedupe_key=dedupe_key,
        message_id=_message_id(current_app.config["PUBLIC_URL"]),
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


@dataclass(frozen=True)
class MailStatus:
    waiting: int
    sent: int
    refused: int
    oldest_waiting: datetime | None
    next_try_at: datetime | None
    last_error: str | None


def status(*, session: Session) -> MailStatus:
    pending = and_(col(MailMessage.sent_at).is_(None), col(MailMessage.rejected_at).is_(None))
    waiting, sent, refused, oldest, next_try = session.execute(
        sa.select(
            func.count().filter(pending),
            func.count(col(MailMessage.sent_at)),
            func.count(col(MailMessage.rejected_at)),
            func.min(MailMessage.created_at).filter(pending),
            func.min(MailMessage.next_try_at).filter(pending),
        )
    ).one()
    first_error = session.exec(
        select(MailMessage.last_error)
        .where(pending, col(MailMessage.last_error).is_not(None))
        .order_by(col(MailMessage.id))
        .limit(1)
    ).first()
    return MailStatus(waiting, sent, refused, oldest, next_try, first_error)
