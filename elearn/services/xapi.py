"""Learning records to an LRS through an outbox: written with the event, sent by ``xapi flush``.

``record`` adds a statement in the same transaction as the event it describes, so a statement
exists exactly when its event does. Sending it is a batch job (``elearn.jobs.xapi``); here are
the settings, the events, and what the outbox holds. A statement keeps the id it was written
with, so the LRS can drop a repeat after a lost reply.

Off unless ``XAPI_ENDPOINT`` is set: then no statement is even written.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, select

from elearn.domain import xapi
from elearn.domain.content import CourseSpec, ExamSpec, ModuleSpec
from elearn.models import Certificate, ExamAttempt, User, XapiStatement
from elearn.services import outbox

INFO_KEY = "elearn.xapi"  # where a session carries the settings (see elearn.db.open_session)
STATEMENTS_PATH = "statements"


@dataclass(frozen=True)
class XapiSettings:
    endpoint: str  # the LRS's xAPI base, e.g. https://lrs.example.org/xapi/
    username: str
    password: str
    site: xapi.Site
    timeout: float = 10.0
    batch_size: int = 50
    retry_min: float = 30.0
    retry_max: float = 3600.0

    @property
    def statements_url(self) -> str:
        return self.endpoint.rstrip("/") + "/" + STATEMENTS_PATH

    @property
    def backoff(self) -> outbox.Backoff:
        return outbox.Backoff(self.retry_min, self.retry_max)

    def delay(self, tries: int, retry_after: float | None = None) -> timedelta:
        """Wait before the next try: doubling from ``retry_min`` up to ``retry_max``."""
        return self.backoff.delay(tries, retry_after)


def settings_from_config(*, config: Any) -> XapiSettings | None:
    """The settings when ``XAPI_ENDPOINT`` is set, else None; a bad value is a ValueError."""
    endpoint = (config.get("XAPI_ENDPOINT") or "").strip()
    if not endpoint:
        return None
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"XAPI_ENDPOINT must be an http(s) address, not {endpoint!r}")
    mode = config.get("XAPI_ACTOR", "mbox")
    if mode not in ("mbox", "account"):
        raise ValueError(f"XAPI_ACTOR must be 'mbox' or 'account', not {mode!r}")
    numbers = {
        "timeout": float(config.get("XAPI_TIMEOUT_SECONDS", 10)),
        "batch_size": int(config.get("XAPI_BATCH_SIZE", 50)),
        "retry_min": float(config.get("XAPI_RETRY_MIN_SECONDS", 30)),
        "retry_max": float(config.get("XAPI_RETRY_MAX_SECONDS", 3600)),
    }
    if any(not math.isfinite(v) or v <= 0 for v in numbers.values()):
        raise ValueError("XAPI_TIMEOUT_SECONDS, _BATCH_SIZE and _RETRY_*_SECONDS must be positive")
    return XapiSettings(
        endpoint=endpoint,
        username=config.get("XAPI_USERNAME") or "",
        password=config.get("XAPI_PASSWORD") or "",
        site=xapi.Site(public_url=config["PUBLIC_URL"], actor=mode),
        timeout=numbers["timeout"],
        batch_size=int(numbers["batch_size"]),
        retry_min=numbers["retry_min"],
        retry_max=numbers["retry_max"],
    )


def init_app(app: Any) -> None:
    """Give every session the settings, so that services queue statements (or not, when off)."""
    from elearn.db import SESSION_INFO

    settings = settings_from_config(config=app.config)
    app.extensions.setdefault(SESSION_INFO, {})[INFO_KEY] = settings


# --- writing -------------------------------------------------------------------------------------


def settings_of(*, session: Session) -> XapiSettings | None:
    settings: XapiSettings | None = session.info.get(INFO_KEY)
    return settings


def record(
    *, session: Session, now: datetime, build: Callable[[xapi.Site], dict[str, Any]]
) -> XapiStatement | None:
    """Queue the statement ``build`` makes, in the caller's transaction (once per id)."""
    settings = settings_of(session=session)
    if settings is None:
        return None
    statement = build(settings.site)
    existing = session.exec(
        select(XapiStatement).where(XapiStatement.statement_id == statement["id"])
    ).first()
    if existing is not None:
        return existing  # the same event again: its statement waits or went already
    row = XapiStatement(
        statement_id=statement["id"], statement=statement, created_at=now, next_try_at=now
    )
    session.add(row)
    session.flush()
    return row


# --- the events ---------------------------------------------------------------------------------

Make = Callable[[xapi.Site, xapi.Learner, str], dict[str, Any]]


def _queue(session: Session, user_id: int, languages: list[str], now: datetime, make: Make) -> None:
    """Queue ``make(site, learner, language)`` when xAPI is on (and look nothing up when off)."""
    if settings_of(session=session) is None:
        return
    user = session.get(User, user_id)
    assert user is not None
    who = xapi.Learner(user_id=user_id, email=user.email, name=user.name)
    lang = user.locale if user.locale and user.locale in languages else languages[0]
    record(session=session, now=now, build=lambda site: make(site, who, lang))


def module_completed(
    *, session: Session, user_id: int, course: CourseSpec, module: ModuleSpec, now: datetime
) -> None:
    _queue(
        session,
        user_id,
        [course.default_language, *course.languages],
        now,
        lambda site, who, lang: xapi.module_completed(
            site,
            who,
            course_id=course.id,
            course_title=course.title,
            module_id=module.id,
            module_title=module.title,
            lang=lang,
            when=now,
        ),
    )


def course_completed(*, session: Session, user_id: int, course: CourseSpec, now: datetime) -> None:
    _queue(
        session,
        user_id,
        [course.default_language, *course.languages],
        now,
        lambda site, who, lang: xapi.course_completed(
            site, who, course_id=course.id, course_title=course.title, lang=lang, when=now
        ),
    )


def exam_attempted(*, session: Session, attempt: ExamAttempt, exam: ExamSpec) -> None:
    assert attempt.id is not None
    attempt_id, started = attempt.id, attempt.started_at
    _queue(
        session,
        attempt.user_id,
        [attempt.language],
        started,
        lambda site, who, lang: xapi.exam_attempted(
            site,
            who,
            exam_id=attempt.exam_id,
            exam_title=exam.title,
            attempt_id=attempt_id,
            lang=lang,
            when=started,
        ),
    )


def exam_scored(
    *, session: Session, attempt: ExamAttempt, exam: ExamSpec, marks: float, max_marks: float
) -> None:
    assert attempt.id is not None and attempt.submitted_at is not None
    assert attempt.score_percent is not None and attempt.passed is not None
    attempt_id, submitted = attempt.id, attempt.submitted_at
    percent, passed = attempt.score_percent, attempt.passed
    _queue(
        session,
        attempt.user_id,
        [attempt.language],
        submitted,
        lambda site, who, lang: xapi.exam_scored(
            site,
            who,
            exam_id=attempt.exam_id,
            exam_title=exam.title,
            attempt_id=attempt_id,
            lang=lang,
            started=attempt.started_at,
            submitted=submitted,
            percent=percent,
            marks=marks,
            max_marks=max_marks,
            passed=passed,
        ),
    )


def certificate_earned(*, session: Session, certificate: Certificate, title: xapi.Names) -> None:
    _queue(
        session,
        certificate.user_id,
        [certificate.language],
        certificate.issued_at,
        lambda site, who, lang: xapi.certificate_earned(
            site,
            who,
            exam_id=certificate.exam_id,
            title=title,
            code=certificate.code,
            attempt_id=certificate.attempt_id,
            lang=lang,
            when=certificate.issued_at,
        ),
    )


# --- looking -------------------------------------------------------------------------------------


OutboxStatus = outbox.OutboxStatus


def status(*, session: Session) -> OutboxStatus:
    return outbox.status(session, XapiStatement)


def rejected(*, session: Session, limit: int = 50) -> list[XapiStatement]:
    return outbox.rejected(session, XapiStatement, limit=limit)


def requeue_rejected(*, session: Session, now: datetime) -> int:
    """Offer the rejected statements to the LRS again (after its operator fixed what it refused)."""
    return outbox.requeue_rejected(session, XapiStatement, now=now)
