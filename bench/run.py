"""`make bench`: a cohort sits the certification exam on gunicorn, on loopback only.

N learners sign in, start the exam at the same moment, save an answer every THINK seconds,
move between questions and submit; passes are signed off and certified; a stream of
/verify requests runs beside. A bare Flask + SQLModel write endpoint, served the same way, is the
baseline. Bounded in count and time; writes bench/results.json and prints it as a table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
UPLOAD_MAX_ROWS = 5000  # STAFF_UPLOAD_MAX_ROWS: larger staff files go through the command


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
    """A migrated, synced, seeded instance with the cohort's accounts; returns e-mails and codes.
    The password is hashed once (scrypt, as sign-in checks it) and shared by every account, so
    that preparing thousands of learners takes seconds, not minutes of hashing."""
    from sqlmodel import Session
    from werkzeug.security import generate_password_hash

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
    hashed = generate_password_hash(PASSWORD)
    with Session(engine_of(app)) as session:
        view = learning.load_course(session=session, course_id="sustainability-intro")
        for i in range(learners):
            email = f"bench{i:04d}@example.org"
            user = accounts.create_user(
                session=session, email=email, name=f"Bench {i}", password=None, now=utcnow()
            )
            user.password_hash = hashed
            assert user.id is not None
            for module in view.modules:
                learning.complete_module(
                    session=session, user_id=user.id, view=view, module_id=module.id, now=utcnow()
                )
            emails.append(email)
            if i % 500 == 499:
                session.commit()
        codes = [c.code for c, _e in certificates.all_certificates(session=session)]
        session.commit()
    engine_of(app).dispose()
    return emails, codes


class KeyReader:
    """Reads the right answers of an attempt on the side (as a well-prepared learner would know
    them), through one app and one connection pool for the whole run: a learner asks in a
    thread, so the event loop never waits on the database."""

    def __init__(self, database: str, instance: Path) -> None:
        from elearn import create_app

        self.app = create_app(
            {"INSTANCE_PATH": str(instance), "DATABASE_URL": database, "SECRET_KEY": "bench-secret"}
        )

    def answers(self, attempt_id: int) -> dict[int, dict[str, Any]]:
        return right_answers(self.app, attempt_id)

    def close(self) -> None:
        from elearn.db import engine_of

        engine_of(self.app).dispose()


def right_answers(app: Any, attempt_id: int) -> dict[int, dict[str, Any]]:
    """The fields that answer each slot right."""
    from sqlmodel import Session, col, select

    from elearn.db import engine_of
    from elearn.domain.itemtypes import full_key_response
    from elearn.models import AttemptSlot, ItemVersion

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
    reader: KeyReader,
    think: float,
    right: float,
    sign_in_at: float,
    sitting: int | None = None,
) -> None:
    """One candidate: signs in at ``sign_in_at`` (seconds into the sign-in window), waits for
    the common start, answers every question (a page view and a save, then ``think`` seconds,
    jittered) and submits. A refused save is tried again with backoff, as the browser does."""
    async with httpx.AsyncClient(
        base_url=base, timeout=120, headers={"Accept-Language": "en"}
    ) as web:
        await asyncio.sleep(sign_in_at)
        csrf = await token(web, "/login")
        await rec.timed(
            "login",
            web.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf}),
        )
        # A booked candidate waits in the sitting's room (its page holds the start form).
        csrf = await token(web, f"/sittings/{sitting}" if sitting else "/")
        await go.wait()  # everybody starts at the same moment
        t0 = time.perf_counter()
        start_url = f"/sittings/{sitting}/start" if sitting else f"/exams/{EXAM}/start"
        started = await rec.timed("exam_start", web.post(start_url, data={"csrf_token": csrf}))
        if started is None or "location" not in started.headers:
            cohort["errors"] += 1
            return
        first = await web.get(started.headers["location"])  # the first question page
        cohort["start_ms"].append((time.perf_counter() - t0) * 1000)
        if first.status_code != 200:
            cohort["errors"] += 1
            return
        attempt = int(re.search(r"/attempts/(\d+)/", started.headers["location"]).group(1))  # type: ignore[union-attr]
        cohort["started"].append(attempt)
        answers = await asyncio.to_thread(reader.answers, attempt)
        rng = random.Random(email)
        for number in sorted(answers):
            if number != 1:
                await rec.timed("page_view", web.get(f"/attempts/{attempt}/{number}"))
            fields = answers[number] if rng.random() < right else {"flag": "1"}
            for retry in range(6):
                saved = await rec.timed(
                    "answer_save",
                    web.post(
                        f"/attempts/{attempt}/{number}/save",
                        data=fields,
                        headers={"X-CSRFToken": csrf},
                    ),
                )
                if saved is not None and saved.status_code == 200:
                    answered = any(k.startswith("answer") for k in fields)
                    cohort["saved"].append((attempt, number, answered))
                    break
                cohort["save_retries"] += 1
                await asyncio.sleep(0.5 * 2**retry)
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
    reader: KeyReader,
    think: float,
    budget: float,
    sign_in_window: float,
    sitting: tuple[int, float] | None = None,
) -> dict[str, Any]:
    """One cohort. With ``sitting`` (its id and start, epoch seconds) the candidates are booked:
    they wait in its room and all press start at its start time."""
    cohort: dict[str, Any] = {
        "start_ms": [],
        "errors": 0,
        "saved": [],
        "attempts": [],
        "save_retries": 0,
        "cut_off": 0,
        "started": [],
    }
    go, done = asyncio.Event(), asyncio.Event()
    rng = random.Random(len(emails))
    tasks = [
        asyncio.create_task(
            learner(
                base,
                e,
                go,
                rec,
                cohort,
                reader,
                think,
                0.9,
                rng.uniform(0, sign_in_window),
                sitting[0] if sitting else None,
            )
        )
        for e in emails
    ]
    stream = asyncio.create_task(verifier(base, codes, done, rec))
    signed_in_before = len(rec.times["login"])
    window_start = time.monotonic()
    # The sitting starts when the window is over and everyone has signed in (bounded).
    await asyncio.sleep(sign_in_window)
    while (
        len(rec.times["login"]) + rec.errors["login"] - signed_in_before < len(emails)
        and time.monotonic() - window_start < sign_in_window + 120
    ):
        await asyncio.sleep(0.2)
    cohort["sign_in_s"] = round(time.monotonic() - window_start, 1)
    if sitting is not None:  # the sitting's start, by the clock the server reads too
        await asyncio.sleep(max(0.0, sitting[1] - time.time()) + 0.2)
    go.set()
    finished, pending = await asyncio.wait(tasks, timeout=budget)
    for task in pending:  # bounded in time: a learner still answering is cut off and counted
        task.cancel()
        cohort["cut_off"] += 1
    for task in finished:
        if task.exception() is not None:
            cohort["errors"] += 1
            cohort.setdefault("failures", []).append(repr(task.exception())[:300])
    done.set()
    await stream
    return cohort


def schedule_sitting(
    database: str, instance: Path, emails: list[str], starts_in: float
) -> tuple[int, float, float]:
    """A sitting of the certification exam for ``emails``, starting ``starts_in`` seconds after
    its forms are drawn (drawing them takes a while for a big cohort, so the start is set after
    measuring it: the sitting is made with a start an hour ahead, then moved). Returns the
    sitting's id, its start (epoch seconds) and the seconds the drawing took."""
    from datetime import timedelta

    from sqlmodel import Session, col, select

    from elearn import create_app
    from elearn.clock import utcnow
    from elearn.db import engine_of
    from elearn.models import ExamAttempt, Sitting, SittingCandidate, User
    from elearn.services import certificates, sittings

    app = create_app(
        {"INSTANCE_PATH": str(instance), "DATABASE_URL": database, "SECRET_KEY": "bench-secret"}
    )
    t0 = time.monotonic()
    with Session(engine_of(app)) as session:
        reviewer = session.exec(select(User.id).where(User.email == REVIEWER)).one()
        scheduled = sittings.schedule(
            session=session,
            authority=certificates.authority_of(app=app),
            exam_id=EXAM,
            starts_at=utcnow() + timedelta(hours=1),
            late_minutes=15,
            place="online",
            invigilator_email=REVIEWER,
            emails=emails,
            unit_id=None,
            created_by=reviewer,
            now=utcnow(),
        )
        assert not scheduled.unknown and scheduled.sitting.id is not None
        sitting_id = scheduled.sitting.id
        session.commit()
        drawn = time.monotonic() - t0
        starts_at = utcnow() + timedelta(seconds=starts_in)
        sitting = session.get(Sitting, sitting_id)
        assert sitting is not None
        moved = starts_at - sitting.starts_at
        sitting.starts_at = starts_at
        attempts = select(SittingCandidate.attempt_id).where(
            SittingCandidate.sitting_id == sitting_id
        )
        for attempt in session.exec(select(ExamAttempt).where(col(ExamAttempt.id).in_(attempts))):
            attempt.started_at = attempt.started_at + moved
            if attempt.deadline_at is not None:
                attempt.deadline_at = attempt.deadline_at + moved
            session.add(attempt)
        session.add(sitting)
        session.commit()
    engine_of(app).dispose()
    return sitting_id, time.time() + starts_in, drawn


def check_cohort(database: str, instance: Path, cohort: dict[str, Any]) -> tuple[int, int, int]:
    """Lost answers (saved with 200 but absent), certificates issued after sign-off, and passes
    (each must have exactly one certificate)."""
    from sqlmodel import col, select

    from elearn import create_app
    from elearn.clock import utcnow
    from elearn.db import engine_of, open_session
    from elearn.models import AttemptSlot, Certificate, ExamAttempt
    from elearn.services import accounts, certificates

    app = create_app(
        {"INSTANCE_PATH": str(instance), "DATABASE_URL": database, "SECRET_KEY": "bench-secret"}
    )
    with open_session(app) as session:  # carries what queueing the certificate's mail needs
        stored = {
            (s.attempt_id, s.number): s.response
            for s in session.exec(
                select(AttemptSlot).where(col(AttemptSlot.attempt_id).in_(cohort["started"] or [0]))
            )
        }
        lost = sum(
            1
            for attempt, number, answered in cohort["saved"]
            if answered and stored.get((attempt, number)) is None
        )
        authority = certificates.authority_of(app=app)
        # The demo certifier signs off: never one of the cohort, so no one approves their own
        # pass (the sign-off refuses that: decision 0013).
        reviewer = accounts.find_user(session=session, email=REVIEWER)
        assert reviewer is not None and reviewer.id is not None
        passes = session.exec(
            select(ExamAttempt).where(
                col(ExamAttempt.id).in_(cohort["attempts"] or [0]),
                col(ExamAttempt.passed).is_(True),
            )
        ).all()
        for attempt in passes:
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
    return lost, issued, len(passes)


# --- a saturating save phase and the long-request storm -----------------------------------------


async def signed_in_attempt(
    base: str, email: str, password: str = PASSWORD
) -> tuple[httpx.AsyncClient, str, int]:
    """A client signed in as ``email`` with a running attempt: (client, CSRF token, attempt)."""
    web = httpx.AsyncClient(base_url=base, timeout=120, headers={"Accept-Language": "en"})
    csrf = await token(web, "/login")
    await web.post("/login", data={"email": email, "password": password, "csrf_token": csrf})
    csrf = await token(web, "/")
    started = await web.post(f"/exams/{EXAM}/start", data={"csrf_token": csrf})
    match = re.search(r"/attempts/(\d+)/", started.headers.get("location", ""))
    if match is None:
        await web.aclose()
        raise RuntimeError(f"{email} could not start: {started.status_code}")
    return web, csrf, int(match.group(1))


async def saturate_saves(base: str, emails: list[str], seconds: float) -> dict[str, Any]:
    """Candidates save as fast as the server answers, each on its own attempt: the save rate
    the app reaches when saves are all it does (compared with the bare baseline's writes)."""
    clients = [await signed_in_attempt(base, email) for email in emails]
    count = errors = 0
    stop_at = time.monotonic() + seconds

    async def saver(web: httpx.AsyncClient, csrf: str, attempt: int) -> None:
        nonlocal count, errors
        number = 0
        while time.monotonic() < stop_at:
            number = number % 40 + 1
            response = await web.post(
                f"/attempts/{attempt}/{number}/save",
                data={"flag": "1"},
                headers={"X-CSRFToken": csrf},
            )
            if response.status_code == 200:
                count += 1
            else:
                errors += 1

    await asyncio.gather(*(saver(*c) for c in clients))
    for web, _csrf, _attempt in clients:
        await web.aclose()
    return {"clients": len(emails), "save_rps": round(count / seconds, 1), "errors": errors}


def seed_storm(database: str, instance: Path, staff: int, audit_entries: int) -> int:
    """A unit of ``staff`` people (a manager's report over all of them) and ``audit_entries``
    entries in the audit log; returns the unit's id. Rows are written in bulk, not through
    sign-up: only their number matters here."""
    from sqlalchemy import insert
    from sqlmodel import Session

    from elearn import create_app
    from elearn.clock import utcnow
    from elearn.db import engine_of
    from elearn.models import ManagerUnit, User
    from elearn.services import accounts, audit

    app = create_app(
        {"INSTANCE_PATH": str(instance), "DATABASE_URL": database, "SECRET_KEY": "bench-secret"}
    )
    now = utcnow()
    with Session(engine_of(app)) as session:
        unit = accounts.ensure_unit_path(session=session, path="Storm kommune/Alle")
        manager = accounts.find_user(session=session, email="manager@example.org")
        assert unit.id is not None and manager is not None and manager.id is not None
        session.add(ManagerUnit(user_id=manager.id, unit_id=unit.id))
        session.flush()
        for start in range(0, staff, 5000):
            session.execute(
                insert(User),
                [
                    {
                        "email": f"staff{i:06d}@storm.example.org",
                        "name": f"Ansatt {i}",
                        "password_hash": accounts.UNUSABLE,
                        "active": True,
                        "org_unit_id": unit.id,
                        "created_at": now,
                    }
                    for i in range(start, min(staff, start + 5000))
                ],
            )
            session.commit()
        for i in range(audit_entries):
            audit.record(
                session=session, action="bench.seed", subject=f"seed:{i}", now=now, actor_id=None
            )
            if i % 5000 == 4999:
                session.commit()
        session.commit()
        unit_id = unit.id
    from elearn.jobs.audit import seal

    seal(app)  # as the sealer's cron would have: the audit page shows a sealed log
    engine_of(app).dispose()
    return unit_id


def staff_csv(rows: int) -> str:
    lines = ["name,email,unit,roles"]
    lines += [
        f"Importert {i},import{i:06d}@storm.example.org,Storm kommune/Import,learner"
        for i in range(rows)
    ]
    return "\n".join(lines) + "\n"


async def storm(
    base: str,
    emails: list[str],
    unit_id: int,
    import_rows: int,
    budget: float,
    env: dict[str, str],
) -> dict[str, Any]:
    """Candidates save every half second or so while an admin imports ``import_rows`` staff, a
    manager opens the report over the big unit and a certifier the audit page: no save may
    fail, and saves stay fast."""
    clients = [await signed_in_attempt(base, email) for email in emails]
    long_done = asyncio.Event()
    save_ms: list[float] = []
    failed = 0
    long_ms: dict[str, list[float]] = defaultdict(list)
    long_status: dict[str, list[int]] = defaultdict(list)

    async def saver(web: httpx.AsyncClient, csrf: str, attempt: int, seed: int) -> None:
        nonlocal failed
        rng, number = random.Random(seed), 0
        while not long_done.is_set():
            number = number % 40 + 1
            t0 = time.perf_counter()
            try:
                response = await web.post(
                    f"/attempts/{attempt}/{number}/save",
                    data={"flag": "1"},
                    headers={"X-CSRFToken": csrf},
                )
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            save_ms.append((time.perf_counter() - t0) * 1000)
            failed += not ok
            await asyncio.sleep(rng.uniform(0.25, 0.75))

    async def as_user(email: str, name: str, call: Any) -> None:
        async with httpx.AsyncClient(
            base_url=base, timeout=budget, headers={"Accept-Language": "en"}
        ) as web:
            csrf = await token(web, "/login")
            await web.post(
                "/login", data={"email": email, "password": "elearn-demo", "csrf_token": csrf}
            )
            for _ in range(3):
                t0 = time.perf_counter()
                try:
                    response = await call(web)
                    long_status[name].append(response.status_code)
                except httpx.HTTPError:
                    long_status[name].append(0)
                long_ms[name].append((time.perf_counter() - t0) * 1000)

    async def staff_import(web: httpx.AsyncClient) -> httpx.Response:
        csrf = await token(web, "/admin/staff")
        return await web.post(
            "/admin/staff",
            data={"csrf_token": csrf, "text": staff_csv(import_rows), "confirm": "y"},
        )

    async def report(web: httpx.AsyncClient) -> httpx.Response:
        return await web.get(f"/manage/units/{unit_id}")

    async def audit_page(web: httpx.AsyncClient) -> httpx.Response:
        return await web.get("/certify/audit")

    async def cli_import() -> None:
        """A file too big for the upload page (STAFF_UPLOAD_MAX_ROWS) goes through the command
        the page names, as an operator would run it, beside the running app."""
        path = Path(env["ELEARN_INSTANCE_PATH"]) / "storm-staff.csv"
        path.write_text(staff_csv(import_rows), encoding="utf-8")
        t0 = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "flask"),
            "--app",
            "elearn",
            "staff",
            "import",
            str(path),
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        long_status["staff_import_cli"].append(await process.wait())
        long_ms["staff_import_cli"].append((time.perf_counter() - t0) * 1000)

    savers = [asyncio.create_task(saver(*c, i)) for i, c in enumerate(clients)]
    longs = asyncio.gather(
        as_user("admin@example.org", "staff_import", staff_import)
        if import_rows <= UPLOAD_MAX_ROWS
        else cli_import(),
        as_user("manager@example.org", "manager_report", report),
        as_user("certifier@example.org", "audit_page", audit_page),
    )
    with contextlib.suppress(TimeoutError):  # bounded: whatever is still running is cut off
        await asyncio.wait_for(longs, timeout=budget)
    long_done.set()
    await asyncio.gather(*savers)
    for web, _csrf, _attempt in clients:
        await web.aclose()
    return {
        "savers": len(emails),
        "saves": len(save_ms),
        "failed_saves": failed,
        "save_p99_ms": round(percentile(save_ms, 0.99), 1),
        "save_p95_ms": round(percentile(save_ms, 0.95), 1),
        "requests": {
            name: {
                "ms": [round(ms) for ms in times],
                "status": long_status[name],
            }
            for name, times in long_ms.items()
        },
    }


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
    parser.add_argument(
        "--cohorts", default="1000,2000", help="cohort sizes, e.g. 1000,2000 (at most 2000 each)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--think", type=float, default=5.0, help="seconds between answers")
    parser.add_argument(
        "--sign-in-window",
        type=float,
        default=None,
        help="seconds over which a cohort signs in before the start (default: 1 per 20 learners)",
    )
    parser.add_argument(
        "--budget", type=float, default=150, help="seconds a cohort may take after its start"
    )
    parser.add_argument("--storm-staff", type=int, default=100_000, help="staff in the big unit")
    parser.add_argument("--storm-audit", type=int, default=120_000, help="audit entries seeded")
    parser.add_argument("--storm-import", type=int, default=20_000, help="rows imported")
    parser.add_argument("--storm-savers", type=int, default=100)
    parser.add_argument("--no-storm", action="store_true", help="skip the long-request storm")
    parser.add_argument(
        "--starts",
        default="sitting,burst",
        help="how each cohort starts: sitting (booked, forms drawn ahead), burst (unscheduled)",
    )
    parser.add_argument("--saturate-clients", type=int, default=32)
    parser.add_argument("--saturate-seconds", type=float, default=10.0)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args()
    sizes = [max(1, min(2000, int(n))) for n in args.cohorts.split(",")][:4]
    starts = [how for how in ("sitting", "burst") if how in args.starts.split(",")] or ["sitting"]
    saturating = args.saturate_clients
    storm_savers = 0 if args.no_storm else args.storm_savers
    client_cpu0 = time.process_time()
    run_started = time.monotonic()

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
    learners = sum(sizes) * len(starts) + saturating + storm_savers + 1
    print(f"preparing {learners} learners ...", flush=True)
    emails, codes = prepare(work, database, learners)

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
    reader = KeyReader(database, work)
    rec, cohorts, peak = Recorder(), [], 0.0
    failures: list[str] = []
    used = 0
    runs = [(size, how) for size in sizes for how in starts]
    for size, how in runs:
        group = emails[used : used + size]
        used += size
        window = args.sign_in_window if args.sign_in_window is not None else size / 20
        booked: tuple[int, float] | None = None
        drawn_s = None
        if how == "sitting":
            print(f"cohort of {size}: a sitting, drawing the forms ahead ...", flush=True)
            sitting_id, starts_at, drawn_s = schedule_sitting(database, work, group, window + 15)
            booked = (sitting_id, starts_at)
        cpu0 = time.process_time()
        print(f"cohort of {size} ({how}): signing in over {window:.0f} s ...", flush=True)

        async def run(
            group: list[str] = group,
            window: float = window,
            booked: tuple[int, float] | None = booked,
        ) -> dict[str, Any]:
            sampler_stop = asyncio.Event()

            async def sample() -> None:
                nonlocal peak
                while not sampler_stop.is_set():
                    peak = max(peak, rss_mb(proc.pid))
                    await asyncio.sleep(0.5)

            sampler = asyncio.create_task(sample())
            result = await cohort_run(
                url, group, codes, rec, reader, args.think, args.budget, window, booked
            )
            sampler_stop.set()
            await sampler
            return result

        cohort = asyncio.run(run())
        lost, issued, passed = check_cohort(database, work, cohort)
        failures += cohort.get("failures", [])
        cohorts.append(
            {
                "learners": size,
                "start": how,
                "forms_drawn_s": round(drawn_s, 1) if drawn_s is not None else None,
                "start_p50_ms": round(percentile(cohort["start_ms"], 0.5), 1),
                "start_p99_ms": round(percentile(cohort["start_ms"], 0.99), 1),
                "errors": cohort["errors"],
                "lost_answers": lost,
                "certificates": issued,
                "passed": passed,
                "save_retries": cohort["save_retries"],
                "cut_off": cohort["cut_off"],
                "sign_in_window_s": window,
                "sign_in_s": cohort.get("sign_in_s"),
                "client_cpu_s": round(time.process_time() - cpu0, 1),
            }
        )
        print(f"  {cohorts[-1]}", flush=True)

    group = emails[used : used + saturating]
    used += saturating
    print("saturating saves ...", flush=True)
    saturated = asyncio.run(saturate_saves(url, group, args.saturate_seconds))
    saturated["baseline_write_rps"] = round(write_rps, 1)
    saturated["share_of_baseline"] = round(saturated["save_rps"] / write_rps, 2)
    print(f"  {saturated}", flush=True)

    long_requests: dict[str, Any] = {}
    if storm_savers:
        stop(proc)
        print(
            f"seeding {args.storm_staff} staff and {args.storm_audit} audit entries ...",
            flush=True,
        )
        unit_id = seed_storm(database, work, args.storm_staff, args.storm_audit)
        proc, url = serve("elearn.wsgi:app", env, args.workers)
        group = emails[used : used + storm_savers]
        used += storm_savers
        print("the long-request storm ...", flush=True)
        long_requests = asyncio.run(storm(url, group, unit_id, args.storm_import, 300.0, env))
        print(
            f"  failed saves {long_requests['failed_saves']}, "
            f"save p99 {long_requests['save_p99_ms']} ms",
            flush=True,
        )
    reader.close()
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
        "saturated_saves": saturated,
        "long_requests": long_requests,
        "peak_rss_mb": round(peak, 1),
        "client_cpu_s": round(time.process_time() - client_cpu0, 1),
        "run_s": round(time.monotonic() - run_started, 1),
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
            f"cohort of {c['learners']} ({c['start']}): start p99 {c['start_p99_ms']} ms, "
            f"errors {c['errors']}, cut off {c['cut_off']}, "
            f"lost answers {c['lost_answers']}, certificates {c['certificates']} "
            f"of {c['passed']} passes"
        )
    print(f"peak RSS {peak:.0f} MB; written to {args.out}")
    if pg_name:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"))


if __name__ == "__main__":
    main()
