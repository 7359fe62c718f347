from __future__ import annotations

from datetime import UTC, datetime

from elearn.domain.audit import GENESIS, AuditRecord, entry_hash, first_broken_link


def chain(n: int) -> list[tuple[AuditRecord, str, str]]:
    out, prev = [], GENESIS
    for i in range(n):
        rec = AuditRecord(datetime(2026, 1, 1, 12, i, tzinfo=UTC), 1, "x", f"s{i}", {"i": i})
        digest = entry_hash(rec, prev)
        out.append((rec, prev, digest))
        prev = digest
    return out


def test_an_intact_chain_holds() -> None:
    assert first_broken_link(chain(5)) is None


def test_an_edited_entry_breaks_the_chain_where_it_was_edited() -> None:
    entries = chain(5)
    rec, prev, digest = entries[2]
    entries[2] = (
        AuditRecord(rec.at, rec.actor_id, rec.action, rec.subject, {"i": 99}),
        prev,
        digest,
    )
    assert first_broken_link(entries) == 2


def test_a_removed_entry_breaks_the_chain() -> None:
    entries = chain(5)
    del entries[1]
    assert first_broken_link(entries) == 1
