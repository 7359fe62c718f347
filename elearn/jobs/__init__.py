"""Batch work outside a request (commands, cron): each job opens its sessions and commits them.

A request commits once, in the web layer; a job has no request, so it owns its transactions
through :func:`unit_of_work`, the only place in the jobs layer that commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from elearn.db import READ_ONLY, open_session

if TYPE_CHECKING:
    from flask import Flask
    from sqlmodel import Session


@contextmanager
def unit_of_work(app: Flask, **session_options: Any) -> Iterator[Session]:
    """A session for one unit of batch work: committed when the block ends, rolled back on error."""
    with open_session(app, **session_options) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


@contextmanager
def reading(app: Flask) -> Iterator[Session]:
    """A session for batch work that only reads (a full check, an export): on SQLite it takes no
    write lock, so learners' saves go on while it reads, and sees one snapshot throughout; it is
    rolled back at the end."""
    from sqlmodel import Session

    base = app.extensions["elearn.engine"]
    # One snapshot for the whole read (SQLite's deferred transaction under WAL gives one too), so
    # a sealer committing meanwhile does not look like tampering to a check.
    snapshot = {"isolation_level": "REPEATABLE READ"} if base.dialect.name == "postgresql" else {}
    engine = base.execution_options(**{READ_ONLY: True}, **snapshot)
    with Session(engine) as session:
        try:
            yield session
        finally:
            session.rollback()
