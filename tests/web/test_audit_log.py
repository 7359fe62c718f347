"""The audit log: written without a chain, sealed in order with signed checkpoints, checked.

``audit verify`` names each kind of tampering with its own exit code; people are pseudonyms
whose link can be erased; old entries can be pruned behind a signed checkpoint.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, text
from sqlmodel import Session, col, select

from elearn.clock import utcnow
from elearn.db import engine_of
from elearn.domain.audit import AuditRecord, Checkpoint, seal_hash
from elearn.jobs import audit as audit_jobs
from elearn.models import AuditCheckpoint, AuditEntry, AuditSubject, User
from elearn.services import audit
from elearn.services.certificates import authority_of
from tests.conftest import ROLE_USERS


def run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output + (repr(result.exception) if result.exit_code else "")


def verify(app: Flask, *args: str) -> tuple[int, str]:
    return run(app, "audit", "verify", *args)


def add(app: Flask, n: int, **kwargs: Any) -> None:
    with Session(engine_of(app)) as s:
        for i in range(n):
            audit.record(session=s, action="test.entry", subject=f"n:{i}", now=utcnow(), **kwargs)
        s.commit()


def sealed(app: Flask) -> list[AuditEntry]:
    with Session(engine_of(app)) as s:
        return list(
            s.exec(
                select(AuditEntry)
                .where(col(AuditEntry.seq).is_not(None))
                .order_by(col(AuditEntry.seq))
            )
        )


def sql(app: Flask, statement: str, **params: Any) -> None:
    with engine_of(app).begin() as connection:
        connection.execute(text(statement), params)


def user_id(app: Flask, role: str) -> int:
    with Session(engine_of(app)) as s:
        found = s.exec(select(User.id).where(User.email == ROLE_USERS[role])).one()
        assert found is not None
        return found


def test_entries_are_written_unsealed_and_sealed_in_order_with_a_signed_checkpoint(
    app: Flask,
) -> None:
    add(app, 3)
    with Session(engine_of(app)) as s:
        waiting = list(s.exec(select(AuditEntry).where(col(AuditEntry.seq).is_(None))))
    assert len(waiting) == 3 and all(e.hash is None and e.prev_hash is None for e in waiting)
    code, out = run(app, "audit", "seal")
    assert code == 0 and out.startswith("sealed 3 entries")
    chain = sealed(app)
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert all(b.prev_hash == a.hash for a, b in pairwise(chain))
    assert [e.id for e in chain[-3:]] == sorted(e.id for e in waiting if e.id)
    code, out = run(app, "audit", "checkpoint")
    checkpoint = Checkpoint.from_json(out)
    assert (checkpoint.seq, checkpoint.head) == (chain[-1].seq, chain[-1].hash)
    assert checkpoint.holds(authority_of(app=app).public_keys()(checkpoint.kid))
    assert not checkpoint.holds(Ed25519PrivateKey.generate().public_key())
    code, out = verify(app)
    assert code == 0 and out.startswith(f"ok: {len(chain)} sealed entries through seq")
    assert run(app, "audit", "seal")[1].startswith("sealed 0 entries")


def test_recording_takes_no_lock_and_reads_no_chain_head(app: Flask) -> None:
    """Two statements per entry (the person's pseudonym, the insert): no shared head to wait on."""
    learner = user_id(app, "learner")
    add(app, 1, actor_id=learner)  # the pseudonym exists from here on
    statements: list[str] = []
    engine = engine_of(app)

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with Session(engine) as s:
            statements.clear()
            audit.record(
                session=s, action="x", subject=f"user:{learner}", now=utcnow(), actor_id=learner
            )
            s.commit()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    joined = " ".join(statements).lower()
    assert "advisory" not in joined and "hash" not in joined.split("insert")[0]
    assert len([s for s in statements if not s.startswith(("BEGIN", "COMMIT"))]) == 2


def test_an_edited_entry_is_named(app: Flask) -> None:
    target = sealed(app)[3]
    sql(app, "UPDATE audit_entry SET action = 'user.deleted' WHERE id = :i", i=target.id)
    code, out = verify(app)
    assert code == 3 and f"entry {target.id} (seq {target.seq}) does not match its hash" in out


def test_a_deleted_entry_is_named(app: Flask) -> None:
    target = sealed(app)[2]
    sql(app, "DELETE FROM audit_entry WHERE id = :i", i=target.id)
    code, out = verify(app)
    assert code == 4 and f"seq {target.seq} is missing" in out and "deleted" in out


def test_a_deleted_entry_with_the_rest_renumbered_is_found(app: Flask) -> None:
    chain = sealed(app)
    sql(app, "DELETE FROM audit_entry WHERE id = :i", i=chain[2].id)
    for e in chain[3:]:  # close the gap, in order (seq is unique)
        sql(app, "UPDATE audit_entry SET seq = seq - 1 WHERE id = :i", i=e.id)
    code, out = verify(app)
    assert code == 4 and f"entry {chain[3].id} (seq {chain[2].seq}) does not link" in out


def forge_after(app: Flask, position: int) -> int:
    """An attacker inserts a well-formed entry after ``position``, renumbering the rest."""
    chain = sealed(app)
    for e in reversed(chain[position + 1 :]):
        sql(app, "UPDATE audit_entry SET seq = seq + 1 WHERE id = :i", i=e.id)
    before = chain[position]
    record = AuditRecord(before.at + timedelta(seconds=1), None, "certificate.issued", "x", {})
    assert before.seq is not None and before.hash is not None
    seq = before.seq + 1
    with Session(engine_of(app)) as s:
        forged = AuditEntry(
            at=record.at,
            action=record.action,
            subject=record.subject,
            data={},
            seq=seq,
            prev_hash=before.hash,
            hash=seal_hash(seq=seq, record=record, prev_hash=before.hash),
        )
        s.add(forged)
        s.commit()
        assert forged.id is not None
        return forged.id


def test_an_inserted_entry_is_named(app: Flask) -> None:
    forged = forge_after(app, 1)
    code, out = verify(app)
    assert code == 5 and f"entry {forged} (seq 3) is not in the chain" in out and "inserted" in out


def test_an_entry_inserted_at_the_end_is_not_covered_by_a_checkpoint(app: Flask) -> None:
    forged = forge_after(app, len(sealed(app)) - 1)
    code, out = verify(app)
    assert code == 5 and f"entry {forged}" in out and "no signed checkpoint covers" in out


def test_an_entry_with_a_hash_but_no_place_is_inserted(app: Flask) -> None:
    with Session(engine_of(app)) as s:
        forged = AuditEntry(
            at=utcnow(), action="x", subject="y", data={}, prev_hash="f" * 64, hash="e" * 64
        )
        s.add(forged)
        s.commit()
        forged_id = forged.id
    code, out = verify(app)
    assert code == 5 and f"entry {forged_id} carries a hash" in out


def test_a_cut_off_tail_is_found(app: Flask) -> None:
    chain = sealed(app)
    sql(app, "DELETE FROM audit_entry WHERE seq > :s", s=chain[-3].seq)
    code, out = verify(app)
    assert code == 6 and f"ends at seq {chain[-3].seq}" in out and f"counts {chain[-1].seq}" in out


def test_a_tail_cut_off_with_its_checkpoints_is_found_against_a_copy_kept_outside(
    app: Flask, tmp_path: Path
) -> None:
    add(app, 5)
    run(app, "audit", "seal")
    kept = tmp_path / "checkpoint.json"
    kept.write_text(run(app, "audit", "checkpoint")[1])
    last = Checkpoint.from_json(kept.read_text())
    sql(app, "DELETE FROM audit_entry WHERE seq > :s", s=last.seq - 5)
    sql(app, "DELETE FROM audit_checkpoint WHERE seq > :s", s=last.seq - 5)
    assert verify(app)[0] == 0  # nothing inside says so: hence the copy outside
    code, out = verify(app, "--checkpoint", str(kept))
    assert code == 6 and f"counts {last.seq}" in out
    kept.write_text(kept.read_text().replace(last.head, "0" * 64))
    assert verify(app, "--checkpoint", str(kept))[0] == 7
    kept.write_text("not a checkpoint")
    assert verify(app, "--checkpoint", str(kept))[0] == 2  # a usage error, not a verdict


def test_a_forged_checkpoint_is_found(app: Flask) -> None:
    sql(
        app,
        "UPDATE audit_checkpoint SET head = :h WHERE id = (SELECT max(id) FROM audit_checkpoint)",
        h="a" * 64,
    )
    code, out = verify(app)
    assert code == 7 and "not signed by the audit key" in out


def test_a_checkpoint_signed_by_another_key_is_forged(app: Flask) -> None:
    chain = sealed(app)
    kid = authority_of(app=app).keys()[-1].kid
    other = Checkpoint(chain[-1].seq + 10, "b" * 64, utcnow(), kid).signed(
        Ed25519PrivateKey.generate()
    )
    with Session(engine_of(app)) as s:
        s.add(audit._row(other))
        s.commit()
    code, out = verify(app)
    assert code == 7 and f"checkpoint at seq {other.seq}" in out


def test_a_rewritten_stretch_with_fresh_hashes_misses_the_signed_checkpoint(app: Flask) -> None:
    chain = sealed(app)
    prev = chain[1].hash
    assert prev is not None
    for e in chain[2:]:
        assert e.seq is not None
        action = "forged" if e is chain[2] else e.action
        digest = seal_hash(
            seq=e.seq, record=AuditRecord(e.at, e.actor, action, e.subject, e.data), prev_hash=prev
        )
        sql(
            app,
            "UPDATE audit_entry SET action = :a, prev_hash = :p, hash = :h WHERE id = :i",
            a=action,
            p=prev,
            h=digest,
            i=e.id,
        )
        prev = digest
    code, out = verify(app)
    assert code == 8 and "does not reach the signed checkpoint" in out
    assert run(app, "audit", "seal")[0] == 1  # the sealer refuses to sign on top of it


def test_concurrent_appends_are_all_sealed_into_one_chain(app: Flask) -> None:
    """Many requests write at once, the first entries about one new person among them: every
    entry is kept, the person gets one pseudonym, and the sealer makes one chain of them."""
    before = len(sealed(app))
    with Session(engine_of(app)) as s:
        newcomer = User(email="new@example.org", name="New", password_hash="x")
        s.add(newcomer)
        s.commit()
        person = newcomer.id

    def append(i: int) -> None:
        with Session(engine_of(app)) as s:
            audit.record(
                session=s, action="test.concurrent", subject=f"user:{person}", now=utcnow()
            )
            s.commit()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(append, range(32)))
    assert audit_jobs.seal(app, size=10) == 32
    assert len(sealed(app)) == before + 32
    with Session(engine_of(app)) as s:
        names = s.exec(select(AuditSubject.pseudonym).where(AuditSubject.user_id == person)).all()
        subjects = set(
            s.exec(select(AuditEntry.subject).where(AuditEntry.action == "test.concurrent"))
        )
    assert len(names) == 1 and subjects == {f"person:{names[0]}"}
    assert verify(app)[0] == 0


def test_people_are_pseudonyms_and_erasing_the_link_leaves_the_chain_whole(
    app: Flask, as_role: Any
) -> None:
    learner = user_id(app, "learner")
    with Session(engine_of(app)) as s:
        entry = audit.record(
            session=s,
            action="user.updated",
            subject=f"user:{learner}",
            now=utcnow(),
            actor_id=learner,
        )
        s.commit()
        entry_id = entry.id
        pseudonym = s.exec(
            select(AuditSubject.pseudonym).where(AuditSubject.user_id == learner)
        ).one()
    run(app, "audit", "seal")
    with Session(engine_of(app)) as s:
        stored = s.get(AuditEntry, entry_id)
        assert stored is not None
        assert (stored.actor, stored.subject) == (pseudonym, f"person:{pseudonym}")
        assert "user:" not in json.dumps([stored.actor, stored.subject, stored.data])
        assert stored.actor != str(learner) and len(pseudonym) >= 16
        found = audit.search(session=s, person=ROLE_USERS["learner"])
        assert entry_id in [e.id for e in found.rows]
    certifier = as_role("certifier")
    page = certifier.get(f"/certify/audit?person={ROLE_USERS['learner']}").get_data(as_text=True)
    assert ROLE_USERS["learner"] in page
    with Session(engine_of(app)) as s:
        assert audit.forget_person(session=s, user_id=learner)
        s.commit()
    assert verify(app)[0] == 0
    with Session(engine_of(app)) as s:
        assert audit.search(session=s, person=ROLE_USERS["learner"]).total == 0
        assert audit.people(session=s, names={pseudonym}) == {}
        assert not audit.forget_person(session=s, user_id=learner)
    page = certifier.get("/certify/audit").get_data(as_text=True)
    assert "(person erased)" in page


def test_pruning_behind_a_signed_checkpoint_keeps_verify_passing(app: Flask) -> None:
    now = utcnow()
    add(app, 3)  # with the demo's entries: old by the cut below
    audit_jobs.seal(app, size=2)  # a checkpoint every two entries
    later = now + timedelta(days=3)
    with Session(engine_of(app)) as s:
        audit.record(session=s, action="mixed", subject="old", now=now)
        for i in range(4):
            audit.record(session=s, action="later", subject=f"n:{i}", now=later)
        s.commit()
    audit_jobs.seal(app, size=2)  # "mixed" shares its batch with a later entry
    before = sealed(app)
    cut = (now + timedelta(days=2)).strftime("%Y-%m-%d")
    code, out = run(app, "audit", "prune", "--before", cut)
    assert code == 0 and out.startswith("pruned ")
    left = sealed(app)
    assert [e.action for e in left[:6]] == ["mixed"] + ["later"] * 4 + ["audit.pruned"]
    assert left[0].seq == before[-5].seq and len(before) + 1 - len(left) == before[-5].seq - 1
    code, out = verify(app)
    assert code == 0 and f"pruned through seq {left[0].seq - 1}" in out
    assert run(app, "audit", "prune", "--before", cut)[1].startswith("pruned 0 entries")


def test_entries_deleted_up_to_a_checkpoint_without_a_prune_record_are_found(app: Flask) -> None:
    add(app, 3)
    audit_jobs.seal(app)
    with Session(engine_of(app)) as s:
        boundary = s.exec(select(AuditCheckpoint.seq).order_by(col(AuditCheckpoint.seq))).first()
    sql(app, "DELETE FROM audit_entry WHERE seq <= :s", s=boundary)
    code, out = verify(app)
    assert code == 4 and f"seq 1-{boundary} is missing" in out


def test_a_forged_prune_record_is_found(app: Flask) -> None:
    chain = sealed(app)
    kid = authority_of(app=app).keys()[-1].kid
    fake = Checkpoint(chain[5].seq or 0, chain[5].hash or "", utcnow(), kid, pruned=True).signed(
        Ed25519PrivateKey.generate()
    )
    with Session(engine_of(app)) as s:
        s.add(audit._row(fake))
        s.commit()
    sql(app, "DELETE FROM audit_entry WHERE seq <= :s", s=chain[5].seq)
    code, out = verify(app)
    assert code == 7 and "prune record" in out


@contextmanager
def sealing_in_batches(app: Flask, n: int, size: int) -> Iterator[None]:
    add(app, n)
    audit_jobs.seal(app, size=size)
    yield


def test_the_audit_page_checks_only_the_newest_batch_and_pages(app: Flask, as_role: Any) -> None:
    with sealing_in_batches(app, 130, size=50):
        with Session(engine_of(app)) as s:
            status = audit.seal_status(session=s, public_key=authority_of(app=app).public_keys())
        assert status.holds and status.checked == 30 and status.waiting == 0
    add(app, 2)
    certifier: FlaskClient = as_role("certifier")
    page = certifier.get("/certify/audit").get_data(as_text=True)
    assert "The newest batch (30 entries) matches the checkpoint" in page
    assert "2 entries wait for the sealer." in page and "Page 1 of" in page
    second = certifier.get("/certify/audit?page=2")
    assert second.status_code == 200 and "Page 2 of" in second.get_data(as_text=True)
    newest = sealed(app)[-1]
    sql(app, "UPDATE audit_entry SET action = 'forged' WHERE id = :i", i=newest.id)
    broken = certifier.get("/certify/audit")
    assert broken.status_code == 200
    assert "does not match its signed checkpoint" in broken.get_data(as_text=True)
    assert as_role("learner").get("/certify/audit").status_code == 403


def test_export_lists_sealed_entries_in_chain_order_and_the_checkpoints(app: Flask) -> None:
    add(app, 1)
    lines = [json.loads(x) for x in run(app, "audit", "export")[1].splitlines()]
    assert lines[-1]["seq"] is None and lines[0]["seq"] == 1
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    checkpoints = run(app, "audit", "export", "--checkpoints")[1].splitlines()
    assert Checkpoint.from_json(checkpoints[-1]).seq == lines[-2]["seq"]


def test_the_upgrade_keeps_old_entries_in_order_pseudonymous_and_sealable(tmp_path: Path) -> None:
    from importlib import import_module

    from tests.conftest import make_app

    legacy = import_module("elearn.migrations.versions.0009_audit_sealer")
    app = make_app(tmp_path / "instance")
    assert run(app, "db", "upgrade", "0008")[0] == 0
    at = utcnow()
    prev, rows = "0" * 64, []
    with engine_of(app).begin() as connection:
        connection.execute(
            text(
                "INSERT INTO user_account (id, email, name, password_hash, active, created_at) "
                "VALUES (7, 'old@example.org', 'Old', 'x', :t, :at)"
            ),
            {"t": True, "at": at},
        )
        for i, (actor, subject) in enumerate([(7, "user:7"), (None, "content"), (7, "exam:x")]):
            data = {"i": i}
            digest = legacy.legacy_hash(at, actor, "old.action", subject, data, prev)
            rows.append(digest)
            connection.execute(
                text(
                    "INSERT INTO audit_entry (at, actor_id, action, subject, data, prev_hash, hash)"
                    " VALUES (:at, :actor, 'old.action', :subject, :data, :prev, :hash)"
                ),
                {
                    "at": at,
                    "actor": actor,
                    "subject": subject,
                    "data": json.dumps(data),
                    "prev": prev,
                    "hash": digest,
                },
            )
            prev = digest
    assert run(app, "db", "upgrade")[0] == 0
    with Session(engine_of(app)) as s:
        pseudonym = s.exec(select(AuditSubject.pseudonym).where(AuditSubject.user_id == 7)).one()
        entries = list(s.exec(select(AuditEntry).order_by(col(AuditEntry.id))))
    assert [(e.actor, e.subject) for e in entries[:3]] == [
        (pseudonym, f"person:{pseudonym}"),
        (None, "content"),
        (pseudonym, "exam:x"),
    ]
    assert entries[3].action == "audit.migrated" and entries[3].data == {
        "legacy_entries": 3,
        "legacy_head": rows[-1],
        "legacy_chain_held": True,
        "legacy_broken_at": None,
    }
    assert all(e.seq is None and e.hash is None for e in entries)
    assert run(app, "audit", "seal")[1].startswith("sealed 4 entries")
    assert [e.id for e in sealed(app)] == [e.id for e in entries]
    assert verify(app)[0] == 0
    down = run(app, "db", "downgrade", "0008")
    assert down[0] == 0, down[1]  # and back: re-chained by the old rule
    with engine_of(app).connect() as connection:
        back = connection.execute(
            text("SELECT actor_id, subject, prev_hash, hash FROM audit_entry ORDER BY id")
        ).all()
    assert [(r[0], r[1]) for r in back[:3]] == [(7, "user:7"), (None, "content"), (7, "exam:x")]
    assert back[0][3] == rows[0] and back[1][2] == back[0][3]


def test_a_full_check_takes_no_write_lock_while_it_reads(app: Flask) -> None:
    """``audit verify`` may read for seconds: learners' saves must not wait for it (SQLite)."""
    from elearn.jobs import reading, unit_of_work

    with reading(app) as reader:
        assert reader.exec(select(func.count()).select_from(AuditEntry)).one() > 0
        began = time.perf_counter()
        with unit_of_work(app) as writer:  # would wait for the lock, then fail, under IMMEDIATE
            audit.record(session=writer, action="test.meanwhile", subject="x", now=utcnow())
        assert time.perf_counter() - began < 1
        # the reader keeps its snapshot: the entry written meanwhile is not in it
        assert not reader.exec(
            select(AuditEntry).where(AuditEntry.action == "test.meanwhile")
        ).first()
