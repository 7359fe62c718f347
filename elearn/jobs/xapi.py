"""Sending the xAPI outbox to the LRS (``xapi flush``), and offering refused statements again.

Services write each statement with its event (``elearn.services.xapi``); this job sends what
waits, oldest first, in batches. A row is marked sent only after the LRS has answered that it
stored it; when the LRS is down, slow or answers an error, the batch waits with a growing delay
(``Retry-After`` is honoured). A batch the LRS refuses is sent again one statement at a time, so
that one malformed statement is set aside with the reason (``rejected``) and the others go. A
statement keeps the id it was written with, so the LRS can drop a repeat after a lost reply
("409 Conflict" means it has it).

Each batch is two units of work with the LRS asked between them: the claim, committed, and the
outcome, committed. No session is open while the LRS answers, so on SQLite no write lock is held
and no learner's save waits for a slow LRS.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from elearn.domain.xapi import XAPI_VERSION
from elearn.jobs import unit_of_work
from elearn.models import XapiStatement
from elearn.services import outbox
from elearn.services.xapi import XapiSettings, requeue_rejected

if TYPE_CHECKING:
    import httpx
    from flask import Flask


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
            headers={"X-Experience-API-Version": XAPI_VERSION},
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
        import httpx  # loaded by __init__ already; named here for its exception types

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


def flush(
    app: Flask,
    *,
    settings: XapiSettings,
    clock: Callable[[], datetime],
    max_batches: int = 1000,
    transport: httpx.BaseTransport | None = None,
) -> FlushReport:
    """Send what waits until nothing is due, the LRS fails, or ``max_batches`` went.

    A statement is marked sent in the unit of work after the LRS stored it, so a crash between
    the two sends it again, with its id, once its claim has run out.
    """
    report = FlushReport()
    client = LrsClient(settings, transport)
    try:
        for _ in range(max_batches):
            # Claimed rows stay loaded after the commit, so they are read and changed while no
            # session is open; the outcome's unit of work then saves them.
            with unit_of_work(app, expire_on_commit=False) as session:
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
            with unit_of_work(app) as session:
                session.add_all(rows)
            if report.problem:
                break
    finally:
        client.close()
    return report


def _claim(session: Session, settings: XapiSettings, now: datetime) -> list[XapiStatement]:
    """Take the next due batch for this flush; a concurrent flush skips what another holds."""
    lease = timedelta(seconds=settings.timeout * 3 + 60)
    return outbox.claim(session, XapiStatement, now=now, limit=settings.batch_size, lease=lease)


def _sent(rows: list[XapiStatement], now: datetime, report: FlushReport, note: str = "") -> None:
    for row in rows:
        outbox.mark_sent(row, now, note)
        report.sent += 1


def _wait(
    settings: XapiSettings,
    rows: list[XapiStatement],
    now: datetime,
    reply: Reply,
    report: FlushReport,
) -> None:
    for row in rows:
        outbox.mark_waiting(row, now, settings.backoff, reply.describe(), reply.retry_after)
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
            outbox.mark_refused(row, clock(), reply.describe())
            report.rejected += 1
        else:
            _wait(settings, rows[index:], clock(), reply, report)
            return


def requeue(app: Flask, *, now: datetime) -> int:
    """Offer the statements the LRS refused to it again; returns how many."""
    with unit_of_work(app) as session:
        return requeue_rejected(session=session, now=now)
