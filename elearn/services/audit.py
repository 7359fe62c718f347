"""The audit log: append an entry (no hash, no shared head), seal, check, search, prune, forget.

``record`` is a plain insert: requests never wait on each other for the log. The sealer
(``seal_batch``, run by ``elearn.jobs.audit``) gives waiting entries their place and hash in the
chain and signs a checkpoint; ``verify_log`` checks everything against the signed checkpoints and
``seal_status`` checks only the newest batch (the audit page). People are written as pseudonyms;
``forget_person`` deletes a person's link, leaving the chain whole.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import bindparam, delete, event, func, text, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from elearn.domain.audit import (
    GENESIS,
    PERSON,
    AuditRecord,
    ChainState,
    Checkpoint,
    Finding,
    Problem,
    SealedEntry,
    SealRefused,
    check_checkpoints,
    seal_hash,
    tail_finding,
    walk,
)
from elearn.domain.credentials import SigningKey
from elearn.domain.staff import normalise_email
from elearn.models import AuditCheckpoint, AuditEntry, AuditSubject, User
from elearn.services.paging import Page, page_of

SEAL_LOCK = 0x656C6573  # "eles": one sealer at a time on PostgreSQL (requests never take it)
SEAL_BATCH = 500
USER = "user:"

PublicKeys = Callable[[str], Ed25519PublicKey | None]


# --- writing -------------------------------------------------------------------------------------


def pseudonyms(*, session: Session, user_ids: set[int], create: bool = True) -> dict[int, str]:
    """Each person's pseudonym in the log; made (random) on first use unless ``create`` is off."""
    if not user_ids:
        return {}
    found = {
        user_id: pseudonym
        for user_id, pseudonym in session.exec(
            select(AuditSubject.user_id, AuditSubject.pseudonym).where(
                col(AuditSubject.user_id).in_(user_ids)
            )
        )
    }
    missing = sorted(user_ids - set(found))
    if create and missing:
        # Two first entries about one person at once both try to make the link; the database
        # keeps one, and both entries use it (no unique-key error for the second request).
        table = AuditSubject.__table__  # type: ignore[attr-defined]
        rows = [{"pseudonym": secrets.token_urlsafe(12), "user_id": uid} for uid in missing]
        dialect = session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert
            session.execute(insert_(table).values(rows).on_conflict_do_nothing())
        else:
            session.execute(table.insert(), rows)
        found.update(pseudonyms(session=session, user_ids=set(missing), create=False))
    return found


_KNOWN = "elearn.audit_pseudonyms"  # session.info: pseudonyms this transaction has read or made


def _known(session: Session) -> dict[int, str]:
    """The pseudonyms met in this transaction (a submit names its learner twice: one look-up),
    forgotten when the transaction ends."""
    known: dict[int, str] | None = session.info.get(_KNOWN)
    if known is None:
        known = session.info[_KNOWN] = {}
        for end in ("after_commit", "after_rollback"):  # the transaction's end, not a flush's
            event.listen(session, end, lambda s: s.info.get(_KNOWN, {}).clear())
    return known


def _user_id(subject: str) -> int | None:
    head, _, tail = subject.partition(":")
    return int(tail) if head + ":" == USER and tail.isdigit() else None


def record(
    *,
    session: Session,
    action: str,
    subject: str,
    now: datetime,
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry; the actor and a ``user:<id>`` subject are written as pseudonyms.

    A plain insert: no lock, no read of the chain's head. The sealer chains it later.
    """
    subject_user = _user_id(subject)
    wanted = {uid for uid in (actor_id, subject_user) if uid is not None}
    known = _known(session)
    names = {uid: known[uid] for uid in wanted if uid in known}
    names.update(pseudonyms(session=session, user_ids=wanted - set(names)))
    known.update(names)
    entry = AuditEntry(
        at=now,
        actor=names[actor_id] if actor_id is not None else None,
        action=action,
        subject=PERSON + names[subject_user] if subject_user is not None else subject,
        data=data or {},
    )
    session.add(entry)
    session.flush()
    return entry


def forget_person(*, session: Session, user_id: int) -> bool:
    """Erase the link between a person and their pseudonym: the entries stay, sealed and
    verifiable, but no longer lead to the person. True when there was a link."""
    gone = session.execute(delete(AuditSubject).where(col(AuditSubject.user_id) == user_id))
    _known(session).pop(user_id, None)
    session.flush()
    return bool(getattr(gone, "rowcount", 0))


def people(*, session: Session, names: set[str]) -> dict[str, str]:
    """The e-mail behind each pseudonym that still has a link (for display)."""
    if not names:
        return {}
    return dict(
        session.exec(
            select(AuditSubject.pseudonym, User.email)
            .join(User, col(User.id) == col(AuditSubject.user_id))
            .where(col(AuditSubject.pseudonym).in_(names))
        ).all()
    )


# --- sealing -------------------------------------------------------------------------------------


def _lock_sealer(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEAL_LOCK})


def _checkpoint(row: AuditCheckpoint) -> Checkpoint:
    return Checkpoint(row.seq, row.head, row.at, row.kid, row.signature, row.pruned)


def latest_checkpoint(*, session: Session, pruned: bool = False) -> Checkpoint | None:
    """The newest signed checkpoint (or, with ``pruned``, the newest prune record)."""
    row = session.exec(
        select(AuditCheckpoint)
        .where(col(AuditCheckpoint.pruned).is_(pruned))
        .order_by(col(AuditCheckpoint.seq).desc())
        .limit(1)
    ).first()
    return _checkpoint(row) if row else None


def seal_batch(*, session: Session, now: datetime, key: SigningKey, size: int = SEAL_BATCH) -> int:
    """Seal up to ``size`` waiting entries, oldest first, and sign a checkpoint of the new head.

    Returns how many were sealed (0: nothing waited). Flushes; the caller commits.
    """
    _lock_sealer(session)
    last = latest_checkpoint(session=session)
    seq, head = (last.seq, last.head) if last else (0, GENESIS)
    stored = session.exec(select(AuditEntry.hash).where(AuditEntry.seq == seq)).first()
    beyond = session.exec(select(AuditEntry.id).where(col(AuditEntry.seq) > seq).limit(1)).first()
    if (last is not None and stored is not None and stored != head) or beyond is not None:
        raise SealRefused(f"the sealed chain does not end at the signed checkpoint (seq {seq})")
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        core_select(
            table.c.id,
            table.c.at,
            table.c.actor,
            table.c.action,
            table.c.subject,
            table.c.data,
        )
        .where(table.c.seq.is_(None))
        .order_by(table.c.id)
        .limit(size)
    ).all()
    if not rows:
        return 0
    changes = []
    for entry_id, at, actor, action, subject, data in rows:
        seq += 1
        digest = seal_hash(
            seq=seq, record=AuditRecord(at, actor, action, subject, data), prev_hash=head
        )
        changes.append({"b_id": entry_id, "b_seq": seq, "b_prev": head, "b_hash": digest})
        head = digest
    session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash")),
        changes,
    )
    signed = Checkpoint(seq, head, now, key.kid).signed(_ed25519(key))
    session.add(_row(signed))
    session.flush()
    return len(rows)


def _row(checkpoint: Checkpoint) -> AuditCheckpoint:
    return AuditCheckpoint(
        seq=checkpoint.seq,
        head=checkpoint.head,
        at=checkpoint.at,
        kid=checkpoint.kid,
        signature=checkpoint.signature,
        pruned=checkpoint.pruned,
    )


def waiting(*, session: Session) -> int:
    """How many entries wait for the sealer."""
    return int(
        session.exec(
            select(func.count()).select_from(AuditEntry).where(col(AuditEntry.seq).is_(None))
        ).one()
    )


# --- checking ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogCheck:
    """The outcome of checking the log against its signed checkpoints."""

    finding: Finding | None
    sealed: int  # entries checked
    last_seq: int
    head: str
    checkpoint: Checkpoint | None  # the newest signed checkpoint checked against
    floor: int  # entries up to this seq were pruned behind a signed record
    waiting: int  # entries not sealed yet

    @property
    def holds(self) -> bool:
        return self.finding is None


def _sealed(session: Session, *, after: int, through: int | None = None) -> Iterator[SealedEntry]:
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    statement = (
        core_select(
            table.c.id,
            table.c.seq,
            table.c.at,
            table.c.actor,
            table.c.action,
            table.c.subject,
            table.c.data,
            table.c.prev_hash,
            table.c.hash,
        )
        .where(table.c.seq > after)
        .order_by(table.c.seq)
    )
    if through is not None:
        statement = statement.where(table.c.seq <= through)
    result = session.execute(statement.execution_options(yield_per=2000))
    for entry_id, seq, at, actor, action, subject, data, prev_hash, digest in result:
        yield SealedEntry(
            entry_id,
            seq,
            AuditRecord(at, actor, action, subject, data),
            prev_hash or "",
            digest or "",
        )


def _checkpoints(session: Session) -> list[Checkpoint]:
    return [
        _checkpoint(row)
        for row in session.exec(select(AuditCheckpoint).order_by(col(AuditCheckpoint.seq)))
    ]


def verify_log(
    *, session: Session, public_key: PublicKeys, outside: Checkpoint | None = None
) -> LogCheck:
    """Check every kept entry against the signed checkpoints (and one kept outside, if given):
    names an edited, deleted or inserted entry, a cut-off tail, a forged checkpoint.

    Give it a session that reads one snapshot (``elearn.jobs.reading``): a sealer committing
    between two of its queries would otherwise look like an inserted entry."""
    stored = _checkpoints(session)
    every = stored + ([outside] if outside is not None else [])
    count_waiting = waiting(session=session)
    prunes = [c for c in stored if c.pruned]
    floor = max(prunes, key=lambda c: c.seq) if prunes else None
    start_seq, start_head = (floor.seq, floor.head) if floor else (0, GENESIS)
    seals = [c for c in every if not c.pruned]
    newest = max(seals, key=lambda c: c.seq) if seals else None

    def done(finding: Finding | None, state: ChainState | None = None) -> LogCheck:
        return LogCheck(
            finding,
            state.checked if state else 0,
            state.seq if state else start_seq,
            state.head if state else start_head,
            newest,
            start_seq,
            count_waiting,
        )

    forged = check_checkpoints(every, public_key)
    if forged is not None:
        return done(forged)
    heads: dict[int, str] = {}
    for checkpoint in seals:
        if heads.setdefault(checkpoint.seq, checkpoint.head) != checkpoint.head:
            return done(
                Finding(
                    Problem.REWRITTEN,
                    f"two signed checkpoints at seq {checkpoint.seq} name different heads: "
                    "the log was rewritten after one of them was taken",
                    None,
                    checkpoint.seq,
                )
            )
    stray = session.exec(
        select(AuditEntry.id)
        .where(col(AuditEntry.seq).is_(None), col(AuditEntry.hash).is_not(None))
        .limit(1)
    ).first()
    if stray is not None:
        return done(
            Finding(
                Problem.INSERTED,
                f"entry {stray} carries a hash but has no place in the chain: it was inserted",
                stray,
            )
        )
    state = walk(
        _sealed(session, after=start_seq),
        start_seq=start_seq,
        start_head=start_head,
        heads={s: h for s, h in heads.items() if s > start_seq},
    )
    if state.finding is not None:
        return done(state.finding, state)
    if (newest is not None and state.seq > newest.seq) or (newest is None and state.seq > 0):
        through = newest.seq if newest else 0
        first = session.exec(select(AuditEntry.id).where(AuditEntry.seq == through + 1)).first()
        return done(
            Finding(
                Problem.INSERTED,
                f"entry {first} (seq {through + 1}) and any after it are sealed but no signed "
                "checkpoint covers them: they were inserted",
                first,
                through + 1,
            ),
            state,
        )
    return done(tail_finding(last_seq=state.seq, checkpoint=newest), state)


@dataclass(frozen=True)
class SealStatus:
    """What the audit page shows: the newest checkpoint, whether the newest batch holds."""

    checkpoint: Checkpoint | None
    holds: bool
    finding: Finding | None
    sealed_through: int
    checked: int  # entries hashed for this view
    waiting: int


def seal_status(*, session: Session, public_key: PublicKeys) -> SealStatus:
    """Check from the checkpoint before the newest one: both signatures and the one batch
    between them, hashed again. Bounded by the batch size, however long the log grows."""
    newest = session.exec(
        select(AuditCheckpoint)
        .where(col(AuditCheckpoint.pruned).is_(False))
        .order_by(col(AuditCheckpoint.seq).desc())
        .limit(2)
    ).all()
    count_waiting = waiting(session=session)
    if not newest:
        return SealStatus(None, True, None, 0, 0, count_waiting)
    last = _checkpoint(newest[0])
    before = _checkpoint(newest[1]) if len(newest) > 1 else None
    floor = latest_checkpoint(session=session, pruned=True)
    forged = check_checkpoints([c for c in (before, last, floor) if c], public_key)
    if forged is not None:
        return SealStatus(last, False, forged, last.seq, 0, count_waiting)
    start = before or floor
    if start is not None and floor is not None and floor.seq > start.seq:
        start = floor
    start_seq, start_head = (start.seq, start.head) if start else (0, GENESIS)
    if start_seq >= last.seq:  # the newest batch was pruned: nothing left to hash
        return SealStatus(last, True, None, last.seq, 0, count_waiting)
    state = walk(
        _sealed(session, after=start_seq, through=last.seq),
        start_seq=start_seq,
        start_head=start_head,
        heads={last.seq: last.head},
    )
    finding = state.finding or tail_finding(last_seq=state.seq, checkpoint=last)
    return SealStatus(last, finding is None, finding, last.seq, state.checked, count_waiting)


# --- pruning -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pruned:
    through_seq: int  # entries up to here are gone (0: none ever)
    deleted: int


def prune(*, session: Session, before: datetime, now: datetime, key: SigningKey) -> Pruned:
    """Delete the sealed entries older than ``before`` up to the newest signed checkpoint
    that holds only such entries, and sign a prune record there: ``verify_log`` then starts
    from that checkpoint's head. Entries newer than a checkpoint boundary are kept."""
    _lock_sealer(session)
    floor = latest_checkpoint(session=session, pruned=True)
    floor_seq = floor.seq if floor else 0
    first_kept = session.exec(
        select(func.min(AuditEntry.seq)).where(
            col(AuditEntry.seq).is_not(None), col(AuditEntry.at) >= before
        )
    ).one()
    boundary = select(AuditCheckpoint).where(
        col(AuditCheckpoint.pruned).is_(False), col(AuditCheckpoint.seq) > floor_seq
    )
    if first_kept is not None:
        boundary = boundary.where(col(AuditCheckpoint.seq) < first_kept)
    target = session.exec(boundary.order_by(col(AuditCheckpoint.seq).desc()).limit(1)).first()
    if target is None:
        return Pruned(floor_seq, 0)
    gone = session.execute(
        delete(AuditEntry).where(
            col(AuditEntry.seq).is_not(None), col(AuditEntry.seq) <= target.seq
        )
    )
    deleted = int(getattr(gone, "rowcount", 0) or 0)
    marker = Checkpoint(target.seq, target.head, now, key.kid, pruned=True).signed(_ed25519(key))
    session.add(_row(marker))
    record(
        session=session,
        action="audit.pruned",
        subject="audit",
        now=now,
        data={"through_seq": target.seq, "before": before.isoformat(), "deleted": deleted},
    )
    return Pruned(target.seq, deleted)


# --- reading -------------------------------------------------------------------------------------


def search(
    *,
    session: Session,
    person: str = "",
    exam: str = "",
    code: str = "",
    number: int = 1,
    size: int = 50,
) -> Page[AuditEntry]:
    """A page of the newest entries about a person (by e-mail: as actor or subject), an exam or
    a certificate code; the filters combine, and all of them are applied by the database."""
    statement = select(AuditEntry)
    if person.strip():
        found = session.exec(select(User.id).where(User.email == normalise_email(person))).first()
        name = (
            pseudonyms(session=session, user_ids={found}, create=False).get(found)
            if found is not None
            else None
        )
        name = name or "-"  # no link (unknown or forgotten): nothing matches
        statement = statement.where(
            (col(AuditEntry.actor) == name) | (col(AuditEntry.subject) == PERSON + name)
        )
    if exam.strip():
        statement = statement.where(AuditEntry.data["exam"].as_string() == exam.strip())  # type: ignore[index]
    if code.strip():
        statement = statement.where(AuditEntry.subject == f"certificate:{code.strip().upper()}")
    return page_of(
        session=session,
        statement=statement.order_by(col(AuditEntry.id).desc()),
        number=number,
        size=size,
    )


def export_lines(*, session: Session) -> Iterator[str]:
    """Every kept entry as JSON, sealed ones in chain order, then the waiting ones."""
    statement = select(AuditEntry).order_by(
        col(AuditEntry.seq).is_(None), col(AuditEntry.seq), col(AuditEntry.id)
    )
    for e in session.exec(statement.execution_options(yield_per=2000)):
        yield json.dumps(
            {
                "id": e.id,
                "seq": e.seq,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "data": e.data,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            },
            ensure_ascii=False,
            sort_keys=True,
        )


def checkpoints_json(*, session: Session) -> list[str]:
    return [c.to_json() for c in _checkpoints(session)]


def _ed25519(key: SigningKey) -> Ed25519PrivateKey:
    """The checkpoint key: Ed25519 (the authority hands the audit log its Ed25519 key)."""
    if not isinstance(key.private_key, Ed25519PrivateKey):
        raise TypeError(f"audit checkpoints are signed with Ed25519, not with {key.kid}")
    return key.private_key
