"""The audit log's tamper evidence: entries sealed in order into a hash chain, signed checkpoints.

Requests write entries without any hash (no shared head to wait for); a sealer later gives the
waiting entries, in order, a sequence number and a hash that covers the entry and the hash before
it, and signs a checkpoint of the head (sequence number, head hash, time) with an Ed25519 key.
Checking walks the chain against those checkpoints and names what does not hold: an edited,
deleted or inserted entry, a cut-off tail, a checkpoint whose signature fails, or a stretch
rewritten with fresh hashes that no longer reaches the signed head.

Entries name people only by a pseudonym; the link to the person lives outside the hashed entry,
so deleting the link leaves the chain intact.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = "0" * 64
PERSON = "person:"  # a subject that is a person: "person:<pseudonym>"
CHECKPOINT_CONTEXT = b"elearn audit checkpoint v1\n"  # no other signature can pass for one


class SealRefused(Exception):
    """The sealed chain's head does not match the newest signed checkpoint: sealing on top of
    a tampered log would sign the tampering. ``audit verify`` says what is wrong."""


@dataclass(frozen=True)
class AuditRecord:
    """What an entry says, as hashed: the actor and a person subject are pseudonyms."""

    at: datetime
    actor: str | None
    action: str
    subject: str
    data: dict[str, Any]


def _canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def seal_hash(*, seq: int, record: AuditRecord, prev_hash: str) -> str:
    """The hash of a sealed entry: its position, its content and the hash before it."""
    return hashlib.sha256(
        _canonical(
            {
                "v": 2,
                "seq": seq,
                "at": record.at.isoformat(timespec="microseconds"),
                "actor": record.actor,
                "action": record.action,
                "subject": record.subject,
                "data": record.data,
                "prev": prev_hash,
            }
        )
    ).hexdigest()


# --- checkpoints ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """The signed claim "the log held ``seq`` sealed entries, the last with hash ``head``".

    ``pruned`` marks a prune: the entries up to ``seq`` were deleted on purpose behind it.
    """

    seq: int
    head: str
    at: datetime
    kid: str
    signature: str = ""
    pruned: bool = False

    def message(self) -> bytes:
        return CHECKPOINT_CONTEXT + _canonical(
            {
                "seq": self.seq,
                "head": self.head,
                "at": self.at.isoformat(timespec="microseconds"),
                "kid": self.kid,
                "pruned": self.pruned,
            }
        )

    def signed(self, key: Ed25519PrivateKey) -> Checkpoint:
        signature = base64.urlsafe_b64encode(key.sign(self.message())).rstrip(b"=").decode()
        return Checkpoint(self.seq, self.head, self.at, self.kid, signature, self.pruned)

    def holds(self, key: Ed25519PublicKey | None) -> bool:
        """Whether the signature is the named key's over exactly these fields."""
        if key is None or not self.signature:
            return False
        try:
            raw = base64.urlsafe_b64decode(self.signature + "=" * (-len(self.signature) % 4))
            key.verify(raw, self.message())
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_json(self) -> str:
        """One line an outsider can keep and later give to ``audit verify --checkpoint``."""
        return json.dumps(
            {
                "seq": self.seq,
                "head": self.head,
                "at": self.at.isoformat(timespec="microseconds"),
                "kid": self.kid,
                "pruned": self.pruned,
                "signature": self.signature,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """Raise ValueError on anything but a checkpoint line."""
        try:
            raw = json.loads(text)
            return cls(
                seq=int(raw["seq"]),
                head=str(raw["head"]),
                at=datetime.fromisoformat(raw["at"]),
                kid=str(raw["kid"]),
                signature=str(raw["signature"]),
                pruned=bool(raw.get("pruned", False)),
            )
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as error:
            raise ValueError(f"not an audit checkpoint: {error}") from error


# --- checking ------------------------------------------------------------------------------------


class Problem(Enum):
    """What checking can find, each with its own exit code for ``audit verify``."""

    EDITED = 3
    DELETED = 4
    INSERTED = 5
    TRUNCATED = 6
    FORGED_CHECKPOINT = 7
    REWRITTEN = 8

    @property
    def exit_code(self) -> int:
        return self.value


@dataclass(frozen=True)
class SealedEntry:
    id: int
    seq: int
    record: AuditRecord
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Finding:
    problem: Problem
    message: str
    entry_id: int | None = None
    seq: int | None = None


@dataclass(frozen=True)
class ChainState:
    """Where a walk ended: the last sequence number and hash, and what was wrong, if anything."""

    seq: int
    head: str
    checked: int
    finding: Finding | None


def walk(
    entries: Iterable[SealedEntry],
    *,
    start_seq: int = 0,
    start_head: str = GENESIS,
    heads: dict[int, str] | None = None,
) -> ChainState:
    """Walk sealed entries in ``seq`` order from a trusted point; stop at the first problem.

    ``heads`` are the signed checkpoints' heads by sequence number: an entry at such a number
    must carry that hash, or the stretch before it was rewritten with fresh hashes.
    """
    heads = heads or {}
    expected, prev, before_prev = start_seq + 1, start_head, None
    last_good = start_seq
    prev_id: int | None = None
    checked = 0
    for entry in entries:
        where = f"entry {entry.id} (seq {entry.seq})"
        if entry.seq < expected:
            return ChainState(
                last_good,
                prev,
                checked,
                Finding(
                    Problem.INSERTED,
                    f"{where} repeats a sequence number: it was inserted",
                    entry.id,
                    entry.seq,
                ),
            )
        if entry.seq > expected:
            missing = (
                f"seq {expected}"
                if entry.seq == expected + 1
                else f"seq {expected}-{entry.seq - 1}"
            )
            return ChainState(
                last_good,
                prev,
                checked,
                Finding(
                    Problem.DELETED, f"{missing} is missing before {where}: deleted", None, expected
                ),
            )
        if entry.prev_hash != prev:
            if before_prev is not None and entry.prev_hash == before_prev:
                finding = Finding(
                    Problem.INSERTED,
                    f"entry {prev_id} (seq {entry.seq - 1}) is not in the chain: "
                    f"{where} links past it, so it was inserted",
                    prev_id,
                    entry.seq - 1,
                )
            else:
                finding = Finding(
                    Problem.DELETED,
                    f"{where} does not link to the entry before it: an entry before it was "
                    "deleted (and the rest renumbered)",
                    entry.id,
                    entry.seq,
                )
            return ChainState(last_good, prev, checked, finding)
        if seal_hash(seq=entry.seq, record=entry.record, prev_hash=entry.prev_hash) != entry.hash:
            return ChainState(
                last_good,
                prev,
                checked,
                Finding(
                    Problem.EDITED,
                    f"{where} does not match its hash: it was edited",
                    entry.id,
                    entry.seq,
                ),
            )
        signed = heads.get(entry.seq)
        if signed is not None and signed != entry.hash:
            earlier = max((s for s in heads if s < entry.seq), default=0)
            return ChainState(
                last_good,
                prev,
                checked,
                Finding(
                    Problem.REWRITTEN,
                    f"the chain does not reach the signed checkpoint at seq {entry.seq}: an entry "
                    f"between seq {earlier + 1} and {entry.seq} was edited, deleted or inserted "
                    "and the hashes after it computed afresh",
                    entry.id,
                    entry.seq,
                ),
            )
        before_prev, prev, prev_id = prev, entry.hash, entry.id
        last_good = expected = entry.seq
        expected += 1
        checked += 1
    return ChainState(last_good, prev, checked, None)


def check_checkpoints(
    checkpoints: Iterable[Checkpoint], public_key: Callable[[str], Ed25519PublicKey | None]
) -> Finding | None:
    """The first checkpoint whose signature does not hold under the key it names."""
    for checkpoint in checkpoints:
        if not checkpoint.holds(public_key(checkpoint.kid)):
            kind = "prune record" if checkpoint.pruned else "checkpoint"
            return Finding(
                Problem.FORGED_CHECKPOINT,
                f"the {kind} at seq {checkpoint.seq} is not signed by the audit key "
                f"({checkpoint.kid}): it was forged or altered",
                None,
                checkpoint.seq,
            )
    return None


def tail_finding(*, last_seq: int, checkpoint: Checkpoint | None) -> Finding | None:
    """A cut-off tail: the newest signed checkpoint counts more sealed entries than are left."""
    if checkpoint is None or last_seq >= checkpoint.seq:
        return None
    gone = (
        f"seq {last_seq + 1}"
        if last_seq + 1 == checkpoint.seq
        else f"seq {last_seq + 1}-{checkpoint.seq}"
    )
    return Finding(
        Problem.TRUNCATED,
        f"the log ends at seq {last_seq} but the checkpoint signed at "
        f"{checkpoint.at.isoformat(timespec='seconds')} counts {checkpoint.seq}: "
        f"{gone} was cut off",
        None,
        last_seq + 1,
    )
