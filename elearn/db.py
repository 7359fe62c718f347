"""The engine, and one database session per request with one commit, here and nowhere else.

The unit of work: ``App.dispatch_request`` commits the request's session when the view returns
(whatever status it answers with); an exception skips the commit, and the error handlers roll
back. One handler then commits a record of its own: the audit entry of a refused certifier's
action on their own case (``keep_after_error``, decision 0013). A GET or HEAD commits only when
its view is marked ``@writes_on_get(reason)``; any other GET that changed rows is rolled back and
reported (raised where ``FAIL_ON_GET_WRITES`` is set, as in the tests).

On SQLite only requests that write take the write lock: a request that only reads (a GET or HEAD
whose view has no ``@writes_on_get``) begins ``DEFERRED`` and never blocks a writer; every other
request, command and job begins ``IMMEDIATE`` (see docs/performance.md).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from flask.typing import ResponseReturnValue
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, create_engine

F = TypeVar("F", bound=Callable[..., Any])
READS = frozenset({"GET", "HEAD", "OPTIONS"})
WROTE = "elearn.wrote"  # session.info key: set once the session has sent a change
BUSY_TIMEOUT_MS = 5000  # how long a SQLite write waits for the lock before "database is locked"
_APPLIED_BUSY = "elearn.busy_timeout_ms"  # on the DBAPI connection's info: the value it has now
# A shorter wait for the lock in this context (a save that retries within its own budget).
_busy_wait: ContextVar[int | None] = ContextVar("elearn_busy_wait", default=None)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _private_sqlite_file(url: str) -> None:
    """Make a new SQLite database file readable by its owner only (0600, like the secret key):
    it holds password hashes and session tokens. SQLite gives its -wal and -shm files the same
    mode. An existing file is left as it is."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    create_private_file(Path(database))


def create_private_file(path: Path) -> None:
    """An empty file only its owner may read and write (0600), unless the file exists already."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process made it first: theirs
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def json_text(value: Any) -> str:
    """JSON for a JSON column: never NaN or Infinity, which are no JSON (PostgreSQL refuses them,
    and SQLite would keep text that no JSON reader takes back): ValueError instead."""
    return json.dumps(value, allow_nan=False)


READ_ONLY = "elearn_read_only"  # an execution option: a transaction that will not write


@contextlib.contextmanager
def lock_wait(milliseconds: int) -> Iterator[None]:
    """Within the block a SQLite transaction that begins waits at most ``milliseconds`` for the
    write lock (instead of the engine's busy timeout); other databases ignore it."""
    token = _busy_wait.set(max(1, int(milliseconds)))
    try:
        yield
    finally:
        _busy_wait.reset(token)


def is_locked(exc: BaseException) -> bool:
    """The database refused because another connection holds its lock (SQLite's SQLITE_BUSY)."""
    text_ = str(getattr(exc, "orig", None) or exc).lower()
    return "database is locked" in text_ or "database table is locked" in text_


def make_engine(url: str, echo: bool = False, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """An engine with SQLite tuned for a web app: WAL, foreign keys, busy timeout, and
    transactions that begin IMMEDIATE unless the connection is READ_ONLY (then DEFERRED)."""
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            json_serializer=json_text,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control from pysqlite so that BEGIN IMMEDIATE is ours to send.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in (
                "journal_mode=WAL",
                "synchronous=NORMAL",
                f"busy_timeout={busy_timeout_ms}",
                "foreign_keys=ON",
            ):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()
            # SQLite's lower() folds ASCII only; searches must find "Øyvind" by "øyvind", as on
            # PostgreSQL, so lower() is Python's.
            dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            # A deferred transaction that reads then writes fails at once under WAL with
            # "database is locked"; IMMEDIATE waits for the lock instead (see recipes). So every
            # transaction that may write begins IMMEDIATE. Work that only reads (READ_ONLY: pages
            # that only read, a sign-in's password check, ``audit verify``) begins deferred: under
            # WAL it reads one snapshot and neither takes nor waits for the write lock.
            if connection.get_execution_options().get(READ_ONLY):
                connection.exec_driver_sql("BEGIN DEFERRED")
                return
            _set_busy_timeout(connection, _busy_wait.get() or busy_timeout_ms)
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url,
        echo=echo,
        pool_size=2,
        max_overflow=2,
        pool_pre_ping=True,
        json_serializer=json_text,
    )


def _set_busy_timeout(connection: Any, milliseconds: int) -> None:
    """Give the connection this busy timeout, when it has another one: a connection setting
    like the pragmas on connect, sent on the DBAPI connection (not a statement of the work)."""
    dbapi = connection.connection  # the pool's proxy: its info lives as long as the connection
    if dbapi.info.get(_APPLIED_BUSY) == milliseconds:
        return
    cursor = dbapi.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(milliseconds)}")
    cursor.close()
    dbapi.info[_APPLIED_BUSY] = milliseconds


SESSION_INFO = "elearn.session_info"


def open_session(app: Flask, **kwargs: Any) -> Session:
    """A new session that carries what services read from ``session.info`` (xAPI settings)."""
    info = dict(app.extensions.get(SESSION_INFO, {}))
    kwargs.setdefault("bind", app.extensions["elearn.engine"])
    return Session(info=info, **kwargs)


@contextlib.contextmanager
def reading_session(app: Flask) -> Iterator[Session]:
    """A session that only reads (DEFERRED on SQLite: it never takes the write lock), for slow
    work that comes before a write, such as checking a password, or a job's planning. Whatever
    it would change is rolled back at the end."""
    with open_session(app, bind=app.extensions["elearn.read_engine"]) as session:
        try:
            yield session
        finally:
            session.rollback()


# --- noticing writes ------------------------------------------------------------------------------


def _changes(session: Session) -> bool:
    """Rows added, deleted or changed in the session and not flushed yet."""
    return bool(
        session.new
        or session.deleted
        or any(session.is_modified(row, include_collections=False) for row in session.dirty)
    )


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if _changes(session):
        session.info[WROTE] = True


def _on_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:  # bulk statements skip the flush
        state.session.info[WROTE] = True


def wrote(session: Session) -> bool:
    """Whether the session has changed anything in its transaction, flushed or not."""
    return bool(session.info.get(WROTE)) or _changes(session)


def _forget_writes(session: Session) -> None:
    session.info.pop(WROTE, None)


# --- the request's session ----------------------------------------------------------------------


def _only_reads() -> bool:
    """This request's session only reads: a GET or HEAD whose view is not marked
    ``@writes_on_get``, or a view whose writes are done by jobs (``@writes_in_jobs``)."""
    if not has_request_context():
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "writes_in_jobs", None):
        return True
    return request.method in READS and not getattr(view, "writes_on_get", None)


def get_session() -> Session:
    """The request's session, opened on first use: on SQLite a request that only reads begins
    DEFERRED (no write lock), any other IMMEDIATE."""
    if "db_session" not in g:
        options: dict[str, Any] = {"expire_on_commit": False}
        if _only_reads():
            options["bind"] = current_app.extensions["elearn.read_engine"]
        session = open_session(current_app, **options)
        event.listen(session, "before_flush", _before_flush)
        event.listen(session, "do_orm_execute", _on_execute)
        for end in ("after_commit", "after_rollback"):
            event.listen(session, end, _forget_writes)
        g.db_session = session
    found: Session = g.db_session
    return found


def ping(session: Session) -> None:
    """Ask the database for the smallest answer: it is there and takes queries."""
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]


def rollback_request() -> None:
    """Undo whatever the request changed (error handlers call it); opens no session."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.rollback()


def keep_after_error(write: Callable[[Session], object]) -> bool:
    """After an error rolled the request back, keep the one record that must outlive it (the
    audit entry of a refused action, decision 0013): ``write`` it and commit it alone. Returns
    whether it was kept; a refused commit is logged and rolled back, never an error of its own."""
    session = get_session()
    session.rollback()
    try:
        write(session)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        current_app.logger.exception("could not keep a record after an error on %s", request.path)
        return False
    return True


class UndocumentedWrite(RuntimeError):
    """A GET changed rows without a ``@writes_on_get`` reason: a bug, and never committed."""


class CommitFailed(Exception):
    """The database refused the request's commit; everything the request did is rolled back."""


def writes_on_get(reason: str) -> Callable[[F], F]:
    """Marks a view whose GET may write, with the reason (documented in DESIGN.md)."""

    def mark(view: F) -> F:
        view.writes_on_get = reason  # type: ignore[attr-defined]
        return view

    return mark


def writes_in_jobs(reason: str) -> Callable[[F], F]:
    """Marks a view whose writes are done by a job that commits its own parts (a long import):
    the request's own session only reads, begins DEFERRED, and commits nothing."""

    def mark(view: F) -> F:
        view.writes_in_jobs = reason  # type: ignore[attr-defined]
        return view

    return mark


def end_of_view(app: Flask, view: Callable[..., Any]) -> None:
    """Commit the request's work once its view has returned; a GET without a reason to write
    commits nothing, and changes it made are rolled back and reported."""
    session: Session | None = g.get("db_session")
    if session is None:
        return
    reads = request.method in READS and not getattr(view, "writes_on_get", None)
    if reads or getattr(view, "writes_in_jobs", None):
        if wrote(session):
            session.rollback()
            problem = (
                f"{request.method} {request.path} ({request.endpoint}) changed rows without "
                "@writes_on_get: rolled back"
            )
            if app.config["FAIL_ON_GET_WRITES"]:
                raise UndocumentedWrite(problem)
            app.logger.error(problem)
        return
    try:
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        raise CommitFailed(str(exc)) from exc


class App(Flask):
    """Flask with the request's unit of work: one commit, after the view returned normally."""

    def dispatch_request(self) -> ResponseReturnValue:
        result = super().dispatch_request()
        rule = request.url_rule
        if rule is not None and rule.endpoint in self.view_functions:
            end_of_view(self, self.view_functions[rule.endpoint])
        return result


def _close_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()


def init_app(app: Flask) -> None:
    engine = make_engine(
        app.config["DATABASE_URL"],
        app.config["SQL_ECHO"],
        int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", BUSY_TIMEOUT_MS)),
    )
    app.extensions["elearn.engine"] = engine
    # Parsed content that never changes under its key, for this app's sessions (services/attempts).
    app.extensions.setdefault(SESSION_INFO, {})["elearn.specs"] = {}
    # The same engine and pool; its transactions begin DEFERRED on SQLite (requests that read).
    app.extensions["elearn.read_engine"] = engine.execution_options(**{READ_ONLY: True})
    app.teardown_appcontext(_close_session)


def engine_of(app: Flask) -> Engine:
    engine: Engine = app.extensions["elearn.engine"]
    return engine
