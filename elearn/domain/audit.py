"""A hash-chained audit log: each entry's hash covers its content and the previous hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    actor_id: int | None
    action: str
    subject: str
    data: dict[str, Any]


def entry_hash(record: AuditRecord, prev_hash: str) -> str:
    payload = json.dumps(
        {
            "at": record.at.isoformat(timespec="microseconds"),
            "actor": record.actor_id,
            "action": record.action,
            "subject": record.subject,
            "data": record.data,
            "prev": prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def first_broken_link(chain: Iterable[tuple[AuditRecord, str, str]]) -> int | None:
    """The position of the first entry whose hash or link does not hold, or None if all do.

    ``chain`` yields (record, prev_hash, hash) in order.
    """
    expected_prev = GENESIS
    for position, (record, prev_hash, stored) in enumerate(chain):
        if prev_hash != expected_prev or entry_hash(record, prev_hash) != stored:
            return position
        expected_prev = stored
    return None
