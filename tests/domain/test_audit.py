from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from elearn.domain.audit import (
    GENESIS,
    AuditRecord,
    Checkpoint,
    Problem,
    SealedEntry,
    check_checkpoints,
    seal_hash,
    tail_finding,
    walk,
)


def chain(n: int) -> list[SealedEntry]:
    out, prev = [], GENESIS
    for i in range(n):
        rec = AuditRecord(datetime(2026, 1, 1, 12, i, tzinfo=UTC), "p1", "x", f"s{i}", {"i": i})
        digest = seal_hash(seq=i + 1, record=rec, prev_hash=prev)
        out.append(SealedEntry(100 + i, i + 1, rec, prev, digest))
        prev = digest
    return out


def test_an_intact_chain_holds() -> None:
    state = walk(chain(5))
    assert state.finding is None and (state.seq, state.checked) == (5, 5)


def test_an_edited_entry_is_named() -> None:
    entries = chain(5)
    e = entries[2]
    entries[2] = SealedEntry(
        e.id, e.seq, AuditRecord(e.record.at, "p1", "x", "s2", {"i": 9}), e.prev_hash, e.hash
    )
    finding = walk(entries).finding
    assert finding is not None and (finding.problem, finding.entry_id) == (Problem.EDITED, 102)


def test_a_removed_entry_is_named_by_its_place() -> None:
    entries = chain(5)
    del entries[1]
    finding = walk(entries).finding
    assert finding is not None and (finding.problem, finding.seq) == (Problem.DELETED, 2)


def test_a_walk_from_a_checkpoint_needs_the_checkpoints_head() -> None:
    entries = chain(5)
    assert walk(entries[2:], start_seq=2, start_head=entries[1].hash).finding is None
    finding = walk(entries[2:], start_seq=2, start_head="f" * 64).finding
    assert finding is not None and finding.problem is Problem.DELETED


def test_a_head_that_differs_from_the_signed_one_is_a_rewrite() -> None:
    finding = walk(chain(5), heads={4: "a" * 64}).finding
    assert finding is not None and (finding.problem, finding.seq) == (Problem.REWRITTEN, 4)


def test_checkpoints_verify_only_with_their_key_and_fields() -> None:
    key = Ed25519PrivateKey.generate()
    signed = Checkpoint(5, "a" * 64, datetime(2026, 1, 1, tzinfo=UTC), "urn:k").signed(key)
    assert signed.holds(key.public_key())
    assert Checkpoint.from_json(signed.to_json()) == signed
    moved = Checkpoint(6, signed.head, signed.at, signed.kid, signed.signature)
    assert not moved.holds(key.public_key())
    as_prune = Checkpoint(5, signed.head, signed.at, signed.kid, signed.signature, pruned=True)
    assert not as_prune.holds(key.public_key())
    finding = check_checkpoints([signed, moved], {"urn:k": key.public_key()}.get)
    assert finding is not None and (finding.problem, finding.seq) == (Problem.FORGED_CHECKPOINT, 6)
    assert check_checkpoints([signed], {}.get) is not None  # an unknown key proves nothing


def test_a_tail_shorter_than_the_checkpoint_is_cut_off() -> None:
    checkpoint = Checkpoint(7, "a" * 64, datetime(2026, 1, 1, tzinfo=UTC), "urn:k")
    assert tail_finding(last_seq=7, checkpoint=checkpoint) is None
    finding = tail_finding(last_seq=5, checkpoint=checkpoint)
    assert (
        finding is not None
        and finding.problem is Problem.TRUNCATED
        and "seq 6-7" in finding.message
    )
