"""Batch work outside a request (commands, cron): each job opens its sessions and commits them.

A request commits once, in the web layer; a job has no request, so it owns its transactions
through :func:`unit_of_work`, the only place in the jobs layer that commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from elearn.db import open_session, reading_session

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
    """A session that only reads: on SQLite it begins DEFERRED and never takes the write lock."""
    with reading_session(app) as session:
        yield session
