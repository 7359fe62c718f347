"""The bare baseline: Flask + SQLModel writing one row per request, served like elearn.

Its throughput is what this machine can do at all, so elearn's figures are reported against it.
"""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError
from sqlmodel import Field, Session, SQLModel

from elearn.db import make_engine


class Hit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    note: str = "x"


app = Flask(__name__)
engine = make_engine(os.environ["BASELINE_DATABASE_URL"])
try:
    SQLModel.metadata.create_all(engine, tables=[Hit.__table__])  # type: ignore[list-item]
except OperationalError:
    # Two workers boot at once and both find no table: the loser's CREATE fails, and a worker
    # that fails to boot stops gunicorn. The other worker made the table; check that it is there.
    if not inspect(engine).has_table(Hit.__tablename__):
        raise


@app.post("/write")
def write() -> dict[str, bool]:
    with Session(engine) as session:
        session.add(Hit())
        session.commit()
    return {"ok": True}
