"""Learning records to an LRS through an outbox: written with the event, sent by ``xapi flush``.

``record`` adds a statement in the same transaction as the event it describes, so a statement
exists exactly when its event does. ``flush`` sends what waits, oldest first, in batches: a row
is marked sent only after the LRS has answered that it stored it; when the LRS is down, slow or
answers an error, the batch waits with a growing delay (``Retry-After`` is honoured). A batch
the LRS refuses is sent again one statement at a time, so that one malformed statement is set
aside with the reason (``rejected``) and the others go. A statement keeps the id it was written
with, so the LRS can drop a repeat after a lost reply ("409 Conflict" means it has it).

Off unless ``XAPI_ENDPOINT`` is set: then no statement is even written.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from elearn.domain import xapi
from elearn.domain.content import CourseSpec, ExamSpec, ModuleSpec
from elearn.models import Certificate, ExamAttempt, User, XapiStatement

if TYPE_CHECKING:
    import httpx

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

    def delay(self, tries: int, retry_after: float | None = None) -> timedelta:
        """Wait before the next try: doubling from ``retry_min`` up to ``retry_max``."""
        seconds = min(self.retry_max, self.retry_min * 2 ** max(0, tries - 1))
        if retry_after is not None:
            seconds = max(seconds, min(retry_after, 24 * 3600))
        return timedelta(seconds=seconds)


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
    *, session: Session, attempt: ExamAttempt, exam: ExamSpec, marks: float, items: int
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
            items=items,
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


# --- sending -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int  # 0: no answer (refused, timed out, broken connection)
    detail: str = ""
    retry_after: float | None = None

    @property
    def stored(self) -> bool:
        return self.status in (200, 204)

    @property
    def refused(self) -> bool:
        """The LRS says the request itself is wrong; trying it again unchanged will not help."""
        return self.status in (400, 413, 422)

    def describe(self) -> str:
        what = f"HTTP {self.status}" if self.status else "no answer"
        return f"{what}: {self.detail}"[:500] if self.detail else what


class LrsClient:
    """The two calls elearn makes to an LRS: POST a batch, PUT one statement by its id."""

    def __init__(self, settings: XapiSettings, transport: httpx.BaseTransport | None = None):
        import httpx  # only `xapi flush` talks to an LRS: app servers start without it

        auth = (settings.username, settings.password) if settings.username else None
        self.url = settings.statements_url
        self.http = httpx.Client(
            auth=auth,
            timeout=settings.timeout,
            transport=transport,
            headers={"X-Experience-API-Version": xapi.XAPI_VERSION},
        )

    def close(self) -> None:
        self.http.close()

    def post(self, statements: list[dict[str, Any]]) -> Reply:
        return self._call("POST", self.url, statements)

    def put(self, statement: dict[str, Any]) -> Reply:
        return self._call("PUT", self.url, statement, {"statementId": statement["id"]})

    def _call(
        self, method: str, url: str, body: Any, params: dict[str, str] | None = None
    ) -> Reply:
        import httpx

        try:
            response = self.http.request(method, url, json=body, params=params)
        except httpx.TimeoutException:
            return Reply(0, "the LRS did not answer in time")
        except httpx.HTTPError as exc:
            return Reply(0, f"{type(exc).__name__}: {exc}")
        return Reply(
            response.status_code,
            " ".join(response.text.split())[:300] if response.status_code >= 300 else "",
            _retry_after(response.headers.get("Retry-After")),
        )


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None  # an HTTP date: rare from an LRS; the doubling delay applies
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


@dataclass
class FlushReport:
    sent: int = 0
    rejected: int = 0
    problem: str | None = None  # why sending stopped early (the LRS down, slow, refusing)


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _claim(session: Session, settings: XapiSettings, now: datetime) -> list[XapiStatement]:
    """Take the next due batch for this flush; a concurrent flush skips what another holds."""
    query = (
        select(XapiStatement)
        .where(
            col(XapiStatement.sent_at).is_(None),
            col(XapiStatement.rejected_at).is_(None),
            XapiStatement.next_try_at <= now,
            or_(col(XapiStatement.claimed_until).is_(None), col(XapiStatement.claimed_until) < now),
        )
        .order_by(col(XapiStatement.id))
        .limit(settings.batch_size)
    )
    if _is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query).all())
    lease = now + timedelta(seconds=settings.timeout * 3 + 60)
    for row in rows:
        row.claimed_until = lease
    session.commit()
    return rows


def flush(
    *,
    open_session: Callable[[], Session],
    client: LrsClient,
    settings: XapiSettings,
    clock: Callable[[], datetime],
    max_batches: int = 1000,
) -> FlushReport:
    """Send what waits until nothing is due, the LRS fails, or ``max_batches`` went.

    Commits as it goes (a batch job, not a request): a statement is marked sent in the
    transaction after the LRS stored it, so a crash between the two sends it again, with its id.
    """
    report = FlushReport()
    with open_session() as session:
        # Rows stay loaded after each commit, so that reading a statement to send it opens no
        # transaction: none is open while the LRS is asked (on SQLite one would hold the write
        # lock, and every learner's save would wait for a slow LRS).
        session.expire_on_commit = False
        for _ in range(max_batches):
            rows = _claim(session, settings, clock())
            if not rows:
                break
            reply = client.post([row.statement for row in rows])
            if reply.stored:
                _sent(rows, clock(), report)
            elif reply.refused or reply.status == 409:
                _one_by_one(client, settings, rows, clock, report)
            else:
                _wait(settings, rows, clock(), reply, report)
            session.commit()
            if report.problem:
                break
    return report


def _sent(rows: list[XapiStatement], now: datetime, report: FlushReport, note: str = "") -> None:
    for row in rows:
        row.sent_at, row.claimed_until, row.last_error = now, None, note or None
        row.tries += 1
        report.sent += 1


def _wait(
    settings: XapiSettings,
    rows: list[XapiStatement],
    now: datetime,
    reply: Reply,
    report: FlushReport,
) -> None:
    for row in rows:
        row.tries += 1
        row.next_try_at = now + settings.delay(row.tries, reply.retry_after)
        row.claimed_until, row.last_error = None, reply.describe()
    report.problem = reply.describe()


def _one_by_one(
    client: LrsClient,
    settings: XapiSettings,
    rows: list[XapiStatement],
    clock: Callable[[], datetime],
    report: FlushReport,
) -> None:
    for index, row in enumerate(rows):
        reply = client.put(row.statement)
        if reply.stored:
            _sent([row], clock(), report)
        elif reply.status == 409:  # it holds a statement with this id: ours, sent before
            _sent([row], clock(), report, "the LRS already held it (409)")
        elif reply.refused:
            row.tries += 1
            row.rejected_at, row.claimed_until = clock(), None
            row.last_error = reply.describe()
            report.rejected += 1
        else:
            _wait(settings, rows[index:], clock(), reply, report)
            return


# --- looking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxStatus:
    waiting: int
    sent: int
    rejected: int
    oldest_waiting: datetime | None
    next_try_at: datetime | None
    last_error: str | None


def status(*, session: Session) -> OutboxStatus:
    pending = and_(col(XapiStatement.sent_at).is_(None), col(XapiStatement.rejected_at).is_(None))
    # Five figures of one table in one query (sqlmodel's select types at most four columns).
    waiting, sent, rejected, oldest, next_try = session.execute(
        sa.select(
            func.count().filter(pending),
            func.count(col(XapiStatement.sent_at)),
            func.count(col(XapiStatement.rejected_at)),
            func.min(XapiStatement.created_at).filter(pending),
            func.min(XapiStatement.next_try_at).filter(pending),
        )
    ).one()
    first_error = session.exec(
        select(XapiStatement.last_error).where(pending).order_by(col(XapiStatement.id)).limit(1)
    ).first()
    return OutboxStatus(
        waiting=waiting,
        sent=sent,
        rejected=rejected,
        oldest_waiting=oldest,
        next_try_at=next_try,
        last_error=first_error,
    )


def rejected(*, session: Session, limit: int = 50) -> list[XapiStatement]:
    return list(
        session.exec(
            select(XapiStatement)
            .where(col(XapiStatement.rejected_at).is_not(None))
            .order_by(col(XapiStatement.id))
            .limit(limit)
        ).all()
    )


def requeue_rejected(*, session: Session, now: datetime) -> int:
    """Offer the rejected statements to the LRS again (after its operator fixed what it refused)."""
    rows = rejected(session=session, limit=100_000)
    for row in rows:
        row.rejected_at, row.next_try_at = None, now
    session.flush()
    return len(rows)
