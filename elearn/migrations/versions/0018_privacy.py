"""privacy: erasure requests and decisions; a user row may be an erased tombstone

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 04:10:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'user_account', sa.Column('erased_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
    )
    op.create_table(
        'privacy_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'], name='fk_privacy_request_user_id_user_account'
        ),
        sa.ForeignKeyConstraint(
            ['decided_by_id'], ['user_account.id'],
            name='fk_privacy_request_decided_by_id_user_account',
        ),
        sa.PrimaryKeyConstraint('id', name='pk_privacy_request'),
    )
    op.create_index(op.f('ix_privacy_request_user_id'), 'privacy_request', ['user_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_privacy_request_user_id'), table_name='privacy_request')
    op.drop_table('privacy_request')
    # Not a batch (a copy of the table): other tables' rows point at the users.
    op.execute('ALTER TABLE user_account DROP COLUMN erased_at')
