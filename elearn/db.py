"""The engine and one database session per request, committed once by the view."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine


def make_engine(url: str, echo: bool = False) -> Engine:
    """An engine with SQLite tuned for a web app: WAL, foreign keys, busy timeout, IMMEDIATE."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 5}
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control from pysqlite so that BEGIN IMMEDIATE is ours to send.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in (
                "journal_mode=WAL",
                "synchronous=NORMAL",
                "busy_timeout=5000",
                "foreign_keys=ON",
            ):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            # A deferred transaction that reads then writes fails at once under WAL with
            # "database is locked"; IMMEDIATE waits for the lock instead (see recipes).
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, echo=echo, pool_size=2, max_overflow=2, pool_pre_ping=True)


SESSION_INFO = "elearn.session_info"


def open_session(app: Flask, **kwargs: Any) -> Session:
    """A new session that carries what services read from ``session.info`` (xAPI settings)."""
    info = dict(app.extensions.get(SESSION_INFO, {}))
    return Session(app.extensions["elearn.engine"], info=info, **kwargs)


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = open_session(current_app, expire_on_commit=False)
    session: Session = g.db_session
    return session


def _close_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()


def init_app(app: Flask) -> None:
    app.extensions["elearn.engine"] = make_engine(
        app.config["DATABASE_URL"], app.config["SQL_ECHO"]
    )
    app.teardown_appcontext(_close_session)


def engine_of(app: Flask) -> Engine:
    engine: Engine = app.extensions["elearn.engine"]
    return engine
