"""Whether a learner may start an exam now, and if not, why and when."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from elearn.domain.content import ExamSpec


class Refusal(Enum):
    COURSE_NOT_COMPLETE = "course_not_complete"
    NOT_OPEN_YET = "not_open_yet"
    CLOSED = "closed"
    NO_ATTEMPTS_LEFT = "no_attempts_left"
    COOLDOWN = "cooldown"
    ALREADY_PASSED = "already_passed"


@dataclass(frozen=True)
class PastAttempt:
    started_at: datetime
    submitted_at: datetime | None
    passed: bool | None


@dataclass(frozen=True)
class Eligibility:
    allowed: bool
    refusal: Refusal | None = None
    opens_at: datetime | None = None  # when the next attempt may start, where that is known
    attempts_left: int | None = None  # None: unlimited


def eligibility(
    exam: ExamSpec,
    *,
    now: datetime,
    course_complete: bool,
    past: Sequence[PastAttempt],
    renewal_due: bool = False,
) -> Eligibility:
    """Rules in the order a learner would want to hear them. An attempt in progress is resumed,
    not judged here. ``renewal_due``: the learner's certificate has expired or soon will, so a
    pass no longer ends the attempts (recertification is taking the exam again)."""
    used = len(past)
    left = None if exam.attempts.max is None else max(0, exam.attempts.max - used)
    if exam.course is not None and not course_complete:
        return Eligibility(False, Refusal.COURSE_NOT_COMPLETE, attempts_left=left)
    if exam.opens is not None and now < exam.opens:
        return Eligibility(False, Refusal.NOT_OPEN_YET, exam.opens, left)
    if exam.closes is not None and now >= exam.closes:
        return Eligibility(False, Refusal.CLOSED, attempts_left=left)
    if any(p.passed for p in past):
        if not renewal_due:
            return Eligibility(False, Refusal.ALREADY_PASSED, attempts_left=left)
        # Recertification: the attempts before the last pass do not count against the new round.
        last_pass = max(p.started_at for p in past if p.passed)
        past = [p for p in past if p.started_at > last_pass]
        used = len(past)
        left = None if exam.attempts.max is None else max(0, exam.attempts.max - used)
    if left == 0:
        return Eligibility(False, Refusal.NO_ATTEMPTS_LEFT, attempts_left=0)
    finished = [p.submitted_at for p in past if p.submitted_at is not None]
    if finished and exam.attempts.cooldown_days:
        opens = max(finished) + timedelta(days=exam.attempts.cooldown_days)
        if now < opens:
            return Eligibility(False, Refusal.COOLDOWN, opens, left)
    return Eligibility(True, attempts_left=left)


def deadline(
    started_at: datetime, time_limit_minutes: int, extra_minutes: int = 0, extra_percent: int = 0
) -> datetime:
    """When an attempt closes: the time limit plus any extra time granted to the learner."""
    minutes = time_limit_minutes + extra_minutes + time_limit_minutes * extra_percent / 100
    return started_at + timedelta(minutes=minutes)
