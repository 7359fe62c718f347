"""`make bench`: a cohort sits the certification exam on gunicorn, on loopback only.

N learners sign in, start the exam at the same moment, save an answer every THINK seconds,
move between questions and submit; passes are signed off and certified; a stream of
/verify requests runs beside. A bare Flask + SQLModel write endpoint, served the same way, is the
baseline. Bounded in count and time; writes bench/results.json and prints it as a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXAM = "soa-baerekraft-sertifisering"
PASSWORD = "bench-password-1"
REVIEWER = "certifier@example.org"  # the demo certifier; the cohort are bench0000@... learners
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
OPERATIONS = ("login", "exam_start", "page_view", "answer_save", "submit", "verify")
HOST = "127.0.0.1"  # loopback only


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the gunicorn master and its workers)."""
    pids = [pid]
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    pids += [int(p) for p in children.split()]
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def serve(app: str, env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), app],
        cwd=ROOT,
        env={
            **os.environ,
            **env,
            "ELEARN_BIND": f"{HOST}:{port}",
            "ELEARN_WORKERS": str(workers),
            "ELEARN_ACCESS_LOG": "/dev/null",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + ("/healthz" if "elearn" in app else "/"), timeout=5)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{app} did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


# --- the data ------------------------------------------------------------------------------------


def prepare(instance: Path, database: str, learners: int) -> tuple[list[str], list[str]]:
    """A migrated, synced, seeded instance with the cohort's accounts; returns e-mails and codes."""
    from sqlmodel import Session

    from elearn import create_app
    from elearn.clock import utcnow
    from elearn.db import engine_of
    from elearn.services import accounts, certificates, learning

    app = create_app(
        {"INSTANCE_PATH": str(instance), "DATABASE_URL": database, "SECRET_KEY": "bench-secret"}
    )
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["content", "sync"], ["demo"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    emails = []
    with Session(engine_of(app)) as session:
        view = learning.load_course(session=session, course_id="sustainability-intro")
        for i in range(learners):
            email = f"bench{i:04d}@example.org"
            user = accounts.create_user(
                session=session, email=email, name=f"Bench {i}", password=PASSWORD, now=utcnow()
            )
            assert user.id is not None
            for module in view.modules:
                learning.complete_module(
                    session=session, user_id=user.id, view=view, module_id=module.id, now=utcnow()
                )
            emails.append(email)
        codes = [c.code for c, _e in certificates.all_certificates(session=session)]
        session.commit()
    engine_of(app).dispose()
    return emails, codes


def right_answers(database: str, instance: Path, attempt_id: int) -> dict[int, dict[str, Any]]:
    """The fields that answer each slot right (read on the side, as a well-prepared learner)."""
    from sqlmodel import Session, col, select

    from elearn import create_app
    from elearn.db import engine_of
    from elearn.domain.itemtypes import full_key_response
    from elearn.models import AttemptSlot, ItemVersion

    app = create_app(
        {"INSTANCE_PATH": str(instance), "DATABASE_URL": database, "SECRET_KEY": "bench-secret"}
    )
    out: dict[int, dict[str, Any]] = {}
    with Session(engine_of(app)) as session:
        rows = session.exec(
            select(AttemptSlot, ItemVersion.spec)
            .join(ItemVersion, col(ItemVersion.id) == col(AttemptSlot.item_version_id))
            .where(AttemptSlot.attempt_id == attempt_id)
        ).all()
        from elearn.domain.content import ItemSpec

        for slot, spec in rows:
            item = ItemSpec.model_validate(spec)
            key = full_key_response(item, "en")
            if item.type in ("single_choice", "multiple_response"):
                picks = key if isinstance(key, list) else [key]
                out[slot.number] = {"answer": [str(slot.options.index(o) + 1) for o in picks]}
            elif item.type == "matching":
                out[slot.number] = {
                    f"answer-{slot.prompts.index(p) + 1}": str(slot.options.index(o) + 1)
                    for p, o in key.items()
                }
            elif item.type == "true_false":
                out[slot.number] = {"answer": "true" if key else "false"}
            else:
                out[slot.number] = {"answer": str(key)}
    engine_of(app).dispose()
    return out


# --- the load ---------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.started = time.monotonic()

    async def timed(self, op: str, call: Any) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            response: httpx.Response = await call
        except httpx.HTTPError:
            self.errors[op] += 1
            return None
        self.times[op].append((time.perf_counter() - start) * 1000)
        if response.status_code >= 400:
            self.errors[op] += 1
        return response


async def token(web: httpx.AsyncClient, path: str) -> str:
    """A page's CSRF token; a refused connection (a worker still starting) is tried again."""
    for attempt in range(5):
        try:
            match = CSRF.search((await web.get(path)).text)
            assert match, "no CSRF token"
            return match.group(1)
        except httpx.TransportError:
            await asyncio.sleep(0.5 * (attempt + 1))
    raise RuntimeError(f"no answer from {path}")


async def learner(
    base: str,
    email: str,
    go: asyncio.Event,
    rec: Recorder,
    cohort: dict[str, Any],
    database: str,
    instance: Path,
    think: float,
    right: float,
) -> None:
    async with httpx.AsyncClient(
        base_url=base, timeout=60, headers={"Accept-Language": "en"}
    ) as web:
        csrf = await token(web, "/login")
        await rec.timed(
            "login",
            web.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf}),
        )
        csrf = await token(web, "/")
        await go.wait()  # everybody starts at the same moment
        t0 = time.perf_counter()
        started = await rec.timed(
            "exam_start", web.post(f"/exams/{EXAM}/start", data={"csrf_token": csrf})
        )
        cohort["start_ms"].append((time.perf_counter() - t0) * 1000)
        if started is None or "location" not in started.headers:
            cohort["errors"] += 1
            return
        attempt = int(re.search(r"/attempts/(\d+)/", started.headers["location"]).group(1))  # type: ignore[union-attr]
        answers = await asyncio.to_thread(right_answers, database, instance, attempt)
        rng = random.Random(email)
        for number in sorted(answers):
            await rec.timed("page_view", web.get(f"/attempts/{attempt}/{number}"))
            fields = answers[number] if rng.random() < right else {"flag": "1"}
            saved = await rec.timed(
                "answer_save",
                web.post(
                    f"/attempts/{attempt}/{number}/save", data=fields, headers={"X-CSRFToken": csrf}
                ),
            )
            if saved is not None and saved.status_code == 200:
                answered = any(k.startswith("answer") for k in fields)
                cohort["saved"].append((attempt, number, answered))
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
        submitted = await rec.timed(
            "submit", web.post(f"/attempts/{attempt}/submit", data={"csrf_token": csrf})
        )
        if submitted is None or submitted.status_code >= 400:
            cohort["errors"] += 1
        cohort["attempts"].append(attempt)


async def verifier(base: str, codes: list[str], stop_at: asyncio.Event, rec: Recorder) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as web:
        i = 0
        while not stop_at.is_set():
            await rec.timed("verify", web.get(f"/verify/{codes[i % len(codes)]}"))
            i += 1
            await asyncio.sleep(0.05)


async def cohort_run(
    base: str,
    emails: list[str],
    codes: list[str],
    rec: Recorder,
    database: str,
    instance: Path,
    think: float,
    budget: float,
) -> dict[str, Any]:
    cohort: dict[str, Any] = {"start_ms": [], "errors": 0, "saved": [], "attempts": []}
    go, done = asyncio.Event(), asyncio.Event()
    tasks = [
        asyncio.create_task(learner(base, e, go, rec, cohort, database, instance, think, 0.9))
        for e in emails
    ]
    stream = asyncio.create_task(verifier(base, codes, done, rec))
    await asyncio.sleep(min(5.0, 0.05 * len(emails) + 1))  # let everyone sign in
    go.set()
    finished, pending = await asyncio.wait(tasks, timeout=budget)
    for task in pending:  # bounded in time: a stuck learner is cut off and counted
        task.cancel()
        cohort["errors"] += 1
    for task in finished:
        if task.exception() is not None:
            cohort["errors"] += 1
            cohort.setdefault("failures", []).append(repr(task.exception())[:300])
    done.set()
    await stream
    return cohort


def check_cohort(database: str, instance: Path, cohort: dict[str, Any]) -> tuple[int, int]:
    """Lost answers (saved with 200 but absent) and certificates issued after sign-off."""
    from sqlmodel import Session, col, select

    from elearn import create_app
    from elearn.clock import utcnow
    from elearn.db import engine_of
    from elearn.models import AttemptSlot, Certificate, ExamAttempt
    from elearn.services import accounts, certificates

    app = create_app(
        {"INSTANCE_PATH": str(instance), "DATABASE_URL": database, "SECRET_KEY": "bench-secret"}
    )
    with Session(engine_of(app)) as session:
        stored = {
            (s.attempt_id, s.number): s.response
            for s in session.exec(
                select(AttemptSlot).where(
                    col(AttemptSlot.attempt_id).in_(cohort["attempts"] or [0])
                )
            )
        }
        lost = sum(
            1
            for attempt, number, answered in cohort["saved"]
            if answered and stored.get((attempt, number)) is None and attempt in cohort["attempts"]
        )
        authority = certificates.authority_of(app=app)
        # The demo certifier signs off: never one of the cohort, so no one approves their own
        # pass (the sign-off refuses that: decision 0013).
        reviewer = accounts.find_user(session=session, email=REVIEWER)
        assert reviewer is not None and reviewer.id is not None
        for attempt in session.exec(
            select(ExamAttempt).where(
                col(ExamAttempt.id).in_(cohort["attempts"] or [0]),
                col(ExamAttempt.passed).is_(True),
            )
        ):
            assert attempt.id is not None
            certificates.sign_off(
                session=session,
                authority=authority,
                attempt_id=attempt.id,
                approve=True,
                comment="bench",
                reviewer_id=reviewer.id,
                now=utcnow(),
            )
        session.commit()
        issued = len(
            session.exec(
                select(Certificate).where(
                    col(Certificate.attempt_id).in_(cohort["attempts"] or [0])
                )
            ).all()
        )
    engine_of(app).dispose()
    return lost, issued


async def baseline(url: str, seconds: float, concurrency: int) -> float:
    count = 0
    stop_at = time.monotonic() + seconds

    async def writer() -> None:
        nonlocal count
        async with httpx.AsyncClient(base_url=url, timeout=30) as web:
            while time.monotonic() < stop_at:
                if (await web.post("/write")).status_code == 200:
                    count += 1

    await asyncio.gather(*(writer() for _ in range(concurrency)))
    return count / seconds


def sql_per_request(database: str, instance: Path, email: str) -> dict[str, int]:
    """Statements each operation sends, counted in-process with the same code and data."""
    from sqlalchemy import event

    from elearn import create_app
    from elearn.db import engine_of

    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": database,
            "SECRET_KEY": "bench-secret",
            "WTF_CSRF_ENABLED": False,
            "SIGN_IN_LIMIT_PER_ADDRESS": "100000 per minute",
        }
    )
    web = app.test_client()
    counts: dict[str, int] = {}
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine_of(app), "before_cursor_execute", count)

    def measure(op: str, call: Any) -> Any:
        nonlocal statements
        statements = 0
        result = call()
        counts[op] = statements
        return result

    measure("login", lambda: web.post("/login", data={"email": email, "password": PASSWORD}))
    started = measure("exam_start", lambda: web.post(f"/exams/{EXAM}/start"))
    base = started.headers["Location"].rsplit("/", 1)[0]
    measure("page_view", lambda: web.get(f"{base}/2"))
    measure("answer_save", lambda: web.post(f"{base}/2/save", data={"flag": "1"}))
    measure("submit", lambda: web.post(f"{base}/submit"))
    code = None
    from sqlmodel import Session, select

    from elearn.models import Certificate

    with Session(engine_of(app)) as session:
        code = session.exec(select(Certificate.code)).first()
    measure("verify", lambda: web.get(f"/verify/{code}"))
    engine_of(app).dispose()
    return counts


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--cohorts", default="25,50", help="cohort sizes, e.g. 25,50 (max 200)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--think", type=float, default=1.0, help="seconds between answers")
    parser.add_argument("--budget", type=float, default=180, help="seconds a cohort may take")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args()
    sizes = [min(200, int(n)) for n in args.cohorts.split(",")]

    work = Path(tempfile.mkdtemp(prefix="elearn-bench-"))
    pg_name = None
    if args.db == "postgresql":
        from sqlalchemy import create_engine, text

        pg_name = f"elearn_bench_{os.getpid()}"
        admin = create_engine(
            "postgresql+psycopg://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {pg_name}"))
        database = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
    else:
        database = f"sqlite:///{work / 'elearn.sqlite'}"
    emails, codes = prepare(work, database, sum(sizes) + 1)

    env = {
        "ELEARN_INSTANCE_PATH": str(work),
        "ELEARN_DATABASE_URL": database,
        "ELEARN_SECRET_KEY": "bench-secret",
        # One address (this machine) stands for a whole cohort here.
        "ELEARN_SIGN_IN_LIMIT_PER_ADDRESS": "100000 per minute",
        "ELEARN_VERIFY_LIMIT_PER_ADDRESS": "100000 per minute",
    }
    base_db = f"sqlite:///{work / 'baseline.sqlite'}" if args.db == "sqlite" else database
    proc, url = serve("bench.baseline_app:app", {"BASELINE_DATABASE_URL": base_db}, args.workers)
    write_rps = asyncio.run(baseline(url, 5.0, 16))
    stop(proc)

    proc, url = serve("elearn.wsgi:app", env, args.workers)
    rec, cohorts, peak = Recorder(), [], 0.0
    failures: list[str] = []
    used = 0
    for size in sizes:
        group = emails[used : used + size]
        used += size

        async def run(group: list[str] = group) -> dict[str, Any]:
            sampler_stop = asyncio.Event()

            async def sample() -> None:
                nonlocal peak
                while not sampler_stop.is_set():
                    peak = max(peak, rss_mb(proc.pid))
                    await asyncio.sleep(0.5)

            sampler = asyncio.create_task(sample())
            result = await cohort_run(
                url, group, codes, rec, database, work, args.think, args.budget
            )
            sampler_stop.set()
            await sampler
            return result

        cohort = asyncio.run(run())
        lost, issued = check_cohort(database, work, cohort)
        failures += cohort.get("failures", [])
        cohorts.append(
            {
                "learners": size,
                "start_p99_ms": round(percentile(cohort["start_ms"], 0.99), 1),
                "errors": cohort["errors"],
                "lost_answers": lost,
                "certificates": issued,
            }
        )
    elapsed = time.monotonic() - rec.started
    stop(proc)
    sql = sql_per_request(database, work, emails[-1])

    results = {
        "database": args.db,
        "workers": args.workers,
        "baseline": {"write_rps": round(write_rps, 1)},
        "operations": {
            op: {
                "count": len(rec.times[op]),
                "rps": round(len(rec.times[op]) / elapsed, 1),
                "p50_ms": round(statistics.median(rec.times[op]), 1) if rec.times[op] else None,
                "p95_ms": round(percentile(rec.times[op], 0.95), 1),
                "p99_ms": round(percentile(rec.times[op], 0.99), 1),
                "errors": rec.errors[op],
                "sql_per_request": sql.get(op),
            }
            for op in OPERATIONS
        },
        "cohorts": cohorts,
        "peak_rss_mb": round(peak, 1),
    }
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"database {args.db}, {args.workers} workers, baseline {write_rps:.0f} writes/s")
    print(
        f"{'operation':<12}{'count':>7}{'rps':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'sql':>5}"
    )
    for op, row in results["operations"].items():  # type: ignore[union-attr]
        print(
            f"{op:<12}{row['count']:>7}{row['rps']:>8}{row['p50_ms'] or 0:>9}{row['p95_ms']:>9}"
            f"{row['p99_ms']:>9}{row['errors']:>8}{row['sql_per_request'] or 0:>5}"
        )
    for failure in failures:
        print(f"learner failed: {failure}")
    for c in cohorts:
        print(
            f"cohort of {c['learners']}: start p99 {c['start_p99_ms']} ms, errors {c['errors']}, "
            f"lost answers {c['lost_answers']}, certificates {c['certificates']}"
        )
    print(f"peak RSS {peak:.0f} MB; written to {args.out}")
    if pg_name:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"))


if __name__ == "__main__":
    main()
