"""What every use case around an attempt shares: the exam spec it was served under, its trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from elearn.domain.content import ExamSpec
from elearn.models import AttemptEvent, ExamAttempt, ExamVersion


@dataclass(frozen=True)
class Client:
    """Where a request came from, for the attempt's trail."""

    address: str | None = None
    agent: str | None = None


NO_CLIENT = Client()  # work that no request asked for: cron, the command line, tests


def exam_spec(*, session: Session, attempt: ExamAttempt) -> ExamSpec:
    """The exam as it stood when the attempt started (its version), not as it stands now."""
    version = session.get(ExamVersion, attempt.exam_version_id)
    assert version is not None
    return ExamSpec.model_validate(version.spec)


def record_event(
    *,
    session: Session,
    attempt_id: int,
    kind: str,
    now: datetime,
    client: Client,
    slot: int | None = None,
) -> AttemptEvent:
    """One entry of the attempt's trail (started, viewed, saved, submitted, scored)."""
    event = AttemptEvent(
        attempt_id=attempt_id,
        at=now,
        kind=kind,
        slot=slot,
        address=client.address,
        agent=(client.agent or "")[:300] or None,
    )
    session.add(event)
    return event
