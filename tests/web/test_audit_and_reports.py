"""The item statistics command reads a marks file (the audit log: test_audit_log.py)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from flask import Flask


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
