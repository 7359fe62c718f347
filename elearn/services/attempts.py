"""What every use case around an attempt shares: the exam spec it was served under, its trail."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlmodel import Session

from elearn.domain.content import ExamSpec
from elearn.models import AttemptEvent, ExamAttempt, ExamVersion

T = TypeVar("T")
# session.info key: the app's cache of parsed content that never changes under its key (an exam
# version, an item version, a bank at one content hash), shared by the sessions of one process.
SPECS = "elearn.specs"
SPECS_MAX = 4096  # entries kept; past this the cache starts again (content is small and rare)


def cached(*, session: Session, key: Hashable, make: Any) -> Any:
    """``make()`` once per process for a key whose content never changes; without the app's
    cache (a session opened by hand) simply ``make()``."""
    cache: dict[Hashable, Any] | None = session.info.get(SPECS)
    if cache is None:
        return make()
    try:
        return cache[key]
    except KeyError:
        if len(cache) >= SPECS_MAX:
            cache.clear()
        value = cache[key] = make()
        return value


@dataclass(frozen=True)
class Client:
    """Where a request came from, for the attempt's trail."""

    address: str | None = None
    agent: str | None = None


NO_CLIENT = Client()  # work that no request asked for: cron, the command line, tests


def exam_spec(*, session: Session, attempt: ExamAttempt) -> ExamSpec:
    """The exam as it stood when the attempt started (its version), not as it stands now.
    An exam version never changes: parsed once per process."""

    def load() -> ExamSpec:
        version = session.get(ExamVersion, attempt.exam_version_id)
        assert version is not None
        return ExamSpec.model_validate(version.spec)

    spec: ExamSpec = cached(
        session=session, key=("exam_version", attempt.exam_version_id), make=load
    )
    return spec


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


def record_events(
    *,
    session: Session,
    attempt_id: int,
    kinds: Iterable[str],
    now: datetime,
    client: Client,
    slot: int | None = None,
) -> None:
    """Several entries of the trail at one moment, in one statement."""
    rows = [
        {
            "attempt_id": attempt_id,
            "at": now,
            "kind": kind,
            "slot": slot,
            "address": client.address,
            "agent": (client.agent or "")[:300] or None,
        }
        for kind in kinds
    ]
    session.execute(insert(AttemptEvent), rows)
