"""``exams close-overdue`` (cron): close what ran out of time and issue what became due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from elearn.jobs import unit_of_work
from elearn.services.certificates import authority_of, issue_due
from elearn.services.exams import close_overdue

if TYPE_CHECKING:
    from flask import Flask


@dataclass(frozen=True)
class Closing:
    closed: int  # attempts submitted and scored because their time ran out
    issued: int  # certificates issued, for these passes or for earlier approved ones


def close_and_issue(app: Flask, *, now: datetime) -> Closing:
    """Submit every overdue attempt, then issue every due certificate, in one transaction."""
    authority = authority_of(app=app)
    with unit_of_work(app) as session:
        closed = close_overdue(session=session, authority=authority, now=now)
        issued = issue_due(session=session, authority=authority, now=now)
    return Closing(closed=closed, issued=len(issued))
