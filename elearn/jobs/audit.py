"""The audit sealer and the log's other batch work: seal, verify, prune (``flask audit ...``).

Requests only insert entries; sealing happens here, a batch per unit of work, so the write lock
(SQLite) is held for one batch at a time and learners' saves slip in between. Run it from cron
(``flask --app elearn audit seal``, every minute) or as a service (``audit seal --every 10``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from elearn.clock import utcnow
from elearn.domain import credentials as vc
from elearn.domain.audit import Checkpoint
from elearn.jobs import reading, unit_of_work
from elearn.services import audit
from elearn.services.certificates import authority_of

if TYPE_CHECKING:
    from flask import Flask


def seal(
    app: Flask,
    *,
    now: Callable[[], datetime] = utcnow,
    size: int = audit.SEAL_BATCH,
    max_batches: int | None = None,
) -> int:
    """Seal every waiting entry, a batch (and a signed checkpoint) per transaction."""
    authority = authority_of(app=app)
    total = batches = 0
    while max_batches is None or batches < max_batches:
        moment = now()
        with unit_of_work(app) as session:
            sealed = audit.seal_batch(
                session=session,
                now=moment,
                key=authority.current_key(now=moment, algorithm=vc.EDDSA),
                size=size,
            )
        total += sealed
        batches += 1
        if sealed < size:
            break
    return total


def verify(app: Flask, *, outside: Checkpoint | None = None) -> audit.LogCheck:
    keys = authority_of(app=app).public_keys()
    with reading(app) as session:
        return audit.verify_log(session=session, public_key=keys, outside=outside)


def prune(app: Flask, *, before: datetime, now: Callable[[], datetime] = utcnow) -> audit.Pruned:
    """Seal what waits, then prune behind the newest checkpoint older than ``before``."""
    seal(app, now=now)
    authority = authority_of(app=app)
    moment = now()
    with unit_of_work(app) as session:
        result = audit.prune(
            session=session,
            before=before,
            now=moment,
            key=authority.current_key(now=moment, algorithm=vc.EDDSA),
        )
    seal(app, now=now)  # the prune's own entry
    return result


def latest_checkpoint(app: Flask) -> Checkpoint | None:
    with unit_of_work(app) as session:
        return audit.latest_checkpoint(session=session)
