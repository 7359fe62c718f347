"""audit log sealed in the background: pseudonymous people, signed checkpoints, no shared head

Entries are no longer chained as they are written. Existing entries are checked once more with
the old chain rule, their people replaced by pseudonyms (links in audit_subject), and they are
left waiting for the sealer, which seals them first, in their old order; an "audit.migrated"
entry after them records the old chain's head hash, its length and whether it held, so a
checkpoint signed before the upgrade can still be matched (see docs/decisions/0016).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 01:00:00.000000
"""
from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_GENESIS = "0" * 64
NAMING = {
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
}


def legacy_hash(at: datetime, actor_id: int | None, action: str, subject: str, data: Any,
                prev_hash: str) -> str:
    """The chain rule before this revision (elearn.domain.audit.entry_hash), kept here."""
    payload = json.dumps(
        {
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor_id,
            "action": action,
            "subject": subject,
            "data": data,
            "prev": prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _entries() -> sa.Table:
    return sa.table(
        'audit_entry',
        sa.column('id', sa.Integer()),
        sa.column('at', sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column('actor_id', sa.Integer()),
        sa.column('actor', sa.String()),
        sa.column('action', sa.String()),
        sa.column('subject', sa.String()),
        sa.column('data', sa.JSON()),
        sa.column('prev_hash', sa.String()),
        sa.column('hash', sa.String()),
    )


def _user(subject: str) -> int | None:
    head, _, tail = subject.partition(":")
    return int(tail) if head == "user" and tail.isdigit() else None


def upgrade() -> None:
    op.create_table('audit_subject',
    sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('pseudonym'),
    sa.UniqueConstraint('user_id')
    )
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('head', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('kid', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('pruned', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('seq', 'pruned')
    )
    op.add_column('audit_entry', sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    op.add_column('audit_entry', sa.Column('seq', sa.Integer(), nullable=True))

    connection = op.get_bind()
    entries = _entries()
    rows = connection.execute(
        sa.select(entries.c.id, entries.c.at, entries.c.actor_id, entries.c.action,
                  entries.c.subject, entries.c.data, entries.c.prev_hash, entries.c.hash)
        .order_by(entries.c.id)
    ).all()
    prev, broken_at = LEGACY_GENESIS, None
    for entry_id, at, actor_id, action, subject, data, prev_hash, digest in rows:
        if broken_at is None and (
            prev_hash != prev or legacy_hash(at, actor_id, action, subject, data, prev_hash) != digest
        ):
            broken_at = entry_id
        prev = digest
    people = {r.actor_id for r in rows if r.actor_id is not None}
    people |= {uid for r in rows if (uid := _user(r.subject)) is not None}
    names = {uid: secrets.token_urlsafe(12) for uid in sorted(people)}
    if names:
        subjects = sa.table('audit_subject', sa.column('pseudonym'), sa.column('user_id'))
        connection.execute(
            subjects.insert(), [{"pseudonym": n, "user_id": uid} for uid, n in names.items()]
        )
    changes = [
        {
            "b_id": r.id,
            "b_actor": names.get(r.actor_id) if r.actor_id is not None else None,
            "b_subject": f"person:{names[uid]}" if (uid := _user(r.subject)) is not None else r.subject,
        }
        for r in rows
        if r.actor_id is not None or _user(r.subject) is not None
    ]
    if changes:
        connection.execute(
            entries.update()
            .where(entries.c.id == sa.bindparam("b_id"))
            .values(actor=sa.bindparam("b_actor"), subject=sa.bindparam("b_subject")),
            changes,
        )

    if connection.dialect.name == "sqlite":
        with op.batch_alter_table('audit_entry', naming_convention=NAMING, recreate="always") as batch_op:
            batch_op.drop_constraint('uq_audit_entry_prev_hash', type_='unique')
            batch_op.drop_constraint('uq_audit_entry_hash', type_='unique')
            batch_op.drop_constraint('fk_audit_entry_actor_id_user_account', type_='foreignkey')
            batch_op.drop_column('actor_id')
            batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
            batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=True)
    else:
        inspector = sa.inspect(connection)
        for unique in inspector.get_unique_constraints('audit_entry'):
            op.drop_constraint(unique['name'], 'audit_entry', type_='unique')
        for foreign in inspector.get_foreign_keys('audit_entry'):
            op.drop_constraint(foreign['name'], 'audit_entry', type_='foreignkey')
        op.drop_column('audit_entry', 'actor_id')
        op.alter_column('audit_entry', 'prev_hash', existing_type=sa.String(length=64), nullable=True)
        op.alter_column('audit_entry', 'hash', existing_type=sa.String(length=64), nullable=True)
    entries = _entries()
    connection.execute(entries.update().values(prev_hash=None, hash=None))
    if rows:
        connection.execute(
            entries.insert().values(
                at=datetime.now(UTC),
                actor=None,
                action="audit.migrated",
                subject="audit",
                data={
                    "legacy_entries": len(rows),
                    "legacy_head": rows[-1].hash,
                    "legacy_chain_held": broken_at is None,
                    "legacy_broken_at": broken_at,
                },
            )
        )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_subject'), ['subject'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_entry_seq'), ['seq'])


def downgrade() -> None:
    """Back to the chain written with each entry: people by id again where their link is kept
    (erased people become no one), every entry re-chained with the old rule, in id order."""
    connection = op.get_bind()
    subjects = sa.table('audit_subject', sa.column('pseudonym'), sa.column('user_id'))
    ids = dict(connection.execute(sa.select(subjects.c.pseudonym, subjects.c.user_id)).all())
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_entry_seq'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_audit_entry_subject'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_actor'))
        batch_op.add_column(sa.Column('actor_id', sa.Integer(), nullable=True))
    entries = _entries()
    rows = connection.execute(
        sa.select(entries.c.id, entries.c.at, entries.c.actor, entries.c.action,
                  entries.c.subject, entries.c.data).order_by(entries.c.id)
    ).all()
    prev, changes = LEGACY_GENESIS, []
    for r in rows:
        actor_id = ids.get(r.actor) if r.actor else None
        subject = r.subject
        if subject.startswith("person:") and subject[7:] in ids:
            subject = f"user:{ids[subject[7:]]}"
        digest = legacy_hash(r.at, actor_id, r.action, subject, r.data, prev)
        changes.append({"b_id": r.id, "b_actor": actor_id, "b_subject": subject,
                        "b_prev": prev, "b_hash": digest})
        prev = digest
    if changes:
        connection.execute(
            entries.update()
            .where(entries.c.id == sa.bindparam("b_id"))
            .values(actor_id=sa.bindparam("b_actor"), subject=sa.bindparam("b_subject"),
                    prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash")),
            changes,
        )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('seq')
        batch_op.drop_column('actor')
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint('uq_audit_entry_prev_hash', ['prev_hash'])
        batch_op.create_unique_constraint('uq_audit_entry_hash', ['hash'])
        batch_op.create_foreign_key(
            'fk_audit_entry_actor_id_user_account', 'user_account', ['actor_id'], ['id']
        )
    op.drop_table('audit_checkpoint')
    op.drop_table('audit_subject')
