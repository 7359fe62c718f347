"""The audit chain detects changes; the item statistics command reads a marks file."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import text
from sqlmodel import Session, col, select

from elearn.db import engine_of
from elearn.models import AuditEntry


def verify(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def entry_ids(app: Flask) -> list[int]:
    with Session(engine_of(app)) as s:
        return [i for i in s.exec(select(AuditEntry.id).order_by(col(AuditEntry.id))) if i]


def test_an_intact_chain_verifies_and_exports(app: Flask) -> None:
    code, out = verify(app)
    assert code == 0 and out.startswith(f"ok: {len(entry_ids(app))} entries, head ")
    lines = app.test_cli_runner().invoke(args=["audit", "export"]).output.splitlines()
    assert len(lines) == len(entry_ids(app))
    first, second = json.loads(lines[0]), json.loads(lines[1])
    assert second["prev_hash"] == first["hash"] and set(first) >= {"seq", "at", "actor", "action"}


def test_an_edited_entry_is_named(app: Flask) -> None:
    target = entry_ids(app)[3]
    with engine_of(app).begin() as connection:
        connection.execute(
            text("UPDATE audit_entry SET subject = 'user:999' WHERE id = :i"), {"i": target}
        )
    code, out = verify(app)
    assert code == 1 and f"BROKEN at entry {target}: its content does not match" in out


def test_a_deleted_entry_breaks_the_next_link(app: Flask) -> None:
    ids = entry_ids(app)
    with engine_of(app).begin() as connection:
        connection.execute(text("DELETE FROM audit_entry WHERE id = :i"), {"i": ids[2]})
    code, out = verify(app)
    assert code == 1 and f"BROKEN at entry {ids[3]}: its link" in out


def test_an_inserted_entry_is_found(app: Flask) -> None:
    ids = entry_ids(app)
    with Session(engine_of(app)) as s:
        second = s.get(AuditEntry, ids[1])
        assert second is not None
        forged = AuditEntry(
            at=second.at + timedelta(seconds=1),
            actor_id=None,
            action="user.created",
            subject="user:666",
            data={},
            prev_hash="f" * 64,
            hash="e" * 64,
        )
        s.add(forged)
        s.commit()
        forged_id = forged.id
    code, out = verify(app)
    assert code == 1 and f"BROKEN at entry {forged_id}" in out


def test_item_stats_command(app: Flask, tmp_path: Path) -> None:
    marks = tmp_path / "marks.csv"
    marks.write_text("attempt,q1,q2,q3\na1,1,0.5,0\na2,1,1,1\na3,0,0,0\na4,1,1,0.5\n")
    summary = tmp_path / "summary.json"
    result = app.test_cli_runner().invoke(
        args=["report", "item-stats", "--marks", str(marks), "--summary", str(summary)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert list(rows[0]) == [
        "item",
        "n",
        "facility",
        "sd",
        "discrimination_index",
        "discriminative_efficiency",
        "effective_weight",
    ]
    assert rows[0]["item"] == "q1" and rows[0]["facility"] == "0.7500"
    data = json.loads(summary.read_text())
    assert (
        set(data)
        == {
            "n_attempts",
            "mean",
            "median",
            "sd",
            "skewness",
            "kurtosis",
            "alpha",
            "error_ratio",
            "standard_error",
        }
        and data["n_attempts"] == 4
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("attempt,q1\na1,1\na2,1.5\n")
    result = app.test_cli_runner().invoke(args=["report", "item-stats", "--marks", str(bad)])
    assert result.exit_code == 1 and f"{bad}:3:" in result.output


def test_concurrent_appends_keep_one_chain(app: Flask) -> None:
    """Many requests change state at once: every entry is kept and the chain holds."""
    from concurrent.futures import ThreadPoolExecutor

    from elearn.clock import utcnow
    from elearn.services import audit

    before = len(entry_ids(app))

    def append(i: int) -> None:
        with Session(engine_of(app)) as s:
            audit.record(session=s, action="test.concurrent", subject=f"n:{i}", now=utcnow())
            s.commit()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(append, range(32)))
    assert len(entry_ids(app)) == before + 32
    code, out = verify(app)
    assert code == 0, out
