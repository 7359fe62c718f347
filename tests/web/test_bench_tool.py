"""The benchmark tool works end to end (its figures are read from bench/results.json, never
asserted here: speed is measured in the benchmark, not in a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(POSTGRES, reason="the tool makes its own database; once per CI run is enough")
def test_bench_runs_a_tiny_cohort_and_writes_results_in_the_agreed_shape(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--cohorts",
            "2",
            "--think",
            "0",
            "--budget",
            "60",
            "--sign-in-window",
            "0",
            "--saturate-clients",
            "2",
            "--saturate-seconds",
            "1",
            "--storm-staff",
            "300",
            "--storm-audit",
            "50",
            "--storm-import",
            "40",
            "--storm-savers",
            "2",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads(out.read_text())
    assert set(results) == {
        "database",
        "workers",
        "baseline",
        "operations",
        "cohorts",
        "saturated_saves",
        "long_requests",
        "peak_rss_mb",
        "client_cpu_s",
        "run_s",
    }
    assert results["baseline"]["write_rps"] > 0
    assert set(results["operations"]) == {
        "login",
        "exam_start",
        "page_view",
        "answer_save",
        "submit",
        "verify",
    }
    for row in results["operations"].values():
        assert set(row) == {
            "count",
            "rps",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "errors",
            "sql_per_request",
        }
        assert row["errors"] == 0
    sitting, cohort = results["cohorts"]
    # Booked in a sitting (forms drawn ahead), then an unscheduled burst of the same size.
    assert (sitting["start"], cohort["start"]) == ("sitting", "burst")
    assert sitting["learners"] == 2 and sitting["errors"] == 0 and sitting["cut_off"] == 0
    assert sitting["lost_answers"] == 0 and sitting["forms_drawn_s"] is not None
    assert cohort["learners"] == 2 and cohort["errors"] == 0 and cohort["lost_answers"] == 0
    assert cohort["cut_off"] == 0
    assert cohort["certificates"] == cohort["passed"]  # one certificate per pass
    # 2 cohorts of 2 learners × 40 questions
    assert results["operations"]["answer_save"]["count"] == 160
    saturated = results["saturated_saves"]
    assert saturated["save_rps"] > 0 and saturated["errors"] == 0
    storm = results["long_requests"]
    assert storm["failed_saves"] == 0 and storm["saves"] > 0 and storm["save_p99_ms"] > 0
    # The three long requests ran and answered (the import redirects after it is done).
    assert {name: set(row["status"]) for name, row in storm["requests"].items()} == {
        "staff_import": {302},
        "manager_report": {200},
        "audit_page": {200},
    }
