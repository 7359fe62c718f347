"""Times the certifier's audit page over a long audit log (issue 16: 5.9 s at 120,000 entries).

Before the sealer the page re-hashed the whole chain on every view; now it checks the newest
sealed batch against its signed checkpoint. Run it against this tree (after) and against an
export of an older tree (before), e.g.::

    git archive <commit-before> | tar -x -C /tmp/before
    .venv/bin/python bench/audit_page.py --root /tmp/before --out /tmp/before.json
    .venv/bin/python bench/audit_page.py --out bench/audit_page.json

SQLite in a temporary folder; entries are written straight to the table (chained as that tree's
code chains them, or left waiting and sealed by the sealer, timed too).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "bench-password-123"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--entries", type=int, default=120_000)
    parser.add_argument("--views", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))

    from sqlalchemy import insert, text

    from elearn import create_app
    from elearn.db import engine_of
    from elearn.models import AuditEntry

    sealer = hasattr(AuditEntry, "seq")
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "INSTANCE_PATH": tmp,
                "DATABASE_URL": f"sqlite:///{tmp}/elearn.sqlite",
                "SECRET_KEY": "bench",
                "RATELIMIT_STORAGE_URI": "memory://",
            }
        )
        runner = app.test_cli_runner()
        for cli in (
            ["db", "upgrade"],
            ["users", "create", "--email", "c@example.org", "--name", "C", "--role", "certifier",
             "--password", PASSWORD],
        ):  # fmt: skip
            result = runner.invoke(args=cli)
            assert result.exit_code == 0, result.output
        start = datetime(2026, 1, 1, tzinfo=UTC)
        rows: list[dict[str, Any]] = []
        if sealer:
            for i in range(args.entries):
                at = start + timedelta(seconds=i)
                rows.append(
                    {"at": at, "actor": None, "action": "attempt.started",
                     "subject": f"attempt:{i}", "data": {"exam": "soa", "seed": str(i)}}
                )  # fmt: skip
        else:
            from elearn.domain.audit import GENESIS, AuditRecord, entry_hash

            with engine_of(app).connect() as connection:  # on top of "user.created"
                head = connection.execute(
                    text("SELECT hash FROM audit_entry ORDER BY id DESC LIMIT 1")
                ).scalar()
            prev = head or GENESIS
            for i in range(args.entries):
                at = start + timedelta(seconds=i)
                data = {"exam": "soa", "seed": str(i)}
                digest = entry_hash(
                    AuditRecord(at, None, "attempt.started", f"attempt:{i}", data), prev
                )
                rows.append(
                    {"at": at, "actor_id": None, "action": "attempt.started",
                     "subject": f"attempt:{i}", "data": data, "prev_hash": prev, "hash": digest}
                )  # fmt: skip
                prev = digest
        with engine_of(app).begin() as connection:
            for chunk in range(0, len(rows), 10_000):
                connection.execute(insert(AuditEntry), rows[chunk : chunk + 10_000])
        seal_seconds = None
        if sealer:
            from elearn.jobs.audit import seal

            began = time.perf_counter()
            sealed = seal(app)
            seal_seconds = time.perf_counter() - began
            assert sealed >= args.entries
        client = app.test_client()
        token = CSRF.search(client.get("/login").get_data(as_text=True))
        assert token
        response = client.post(
            "/login",
            data={"email": "c@example.org", "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert response.status_code == 302, response.status_code
        times = []
        for _ in range(args.views):
            began = time.perf_counter()
            page = client.get("/certify/audit")
            times.append((time.perf_counter() - began) * 1000)
            assert page.status_code == 200
        verify_seconds = None
        if sealer:
            began = time.perf_counter()
            result = runner.invoke(args=["audit", "verify"])
            verify_seconds = time.perf_counter() - began
            assert result.exit_code == 0, result.output
        engine_of(app).dispose()
    report = {
        "what": "GET /certify/audit as a certifier, SQLite, one process (Flask test client)",
        "tree": "sealer (checks the newest sealed batch)" if sealer else "chain re-hashed per view",
        "entries": args.entries,
        "views": args.views,
        "page_ms_median": round(statistics.median(times), 1),
        "page_ms_max": round(max(times), 1),
        "seal_all_s": round(seal_seconds, 2) if seal_seconds is not None else None,
        "verify_all_s": round(verify_seconds, 2) if verify_seconds is not None else None,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
