"""login sessions on the server: one row per signed-in browser, replacing the per-user token

Everyone signs in once more after this upgrade: the old per-user session tokens are dropped.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:00:00.000000
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('login_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('remember', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_user_id'), ['user_id'], unique=False)

    # In place, not by copying the table (batch mode): on SQLite, with foreign keys on, the copy
    # cannot drop user_account while other tables' rows refer to it. SQLite 3.35+ drops columns.
    op.drop_index(op.f('ix_user_account_session_token'), table_name='user_account')
    op.execute('ALTER TABLE user_account DROP COLUMN session_token')


def downgrade() -> None:
    # Every user gets a fresh token: all sessions end, as on the way up.
    op.add_column(
        'user_account',
        sa.Column('session_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    connection = op.get_bind()
    user_account = sa.table('user_account', sa.column('id'), sa.column('session_token'))
    for (user_id,) in connection.execute(sa.select(user_account.c.id)).all():
        connection.execute(
            user_account.update()
            .where(user_account.c.id == user_id)
            .values(session_token=secrets.token_urlsafe(32))
        )
    if connection.dialect.name != 'sqlite':  # SQLite cannot add NOT NULL in place; filled above
        op.alter_column('user_account', 'session_token', nullable=False)
    op.create_index(
        op.f('ix_user_account_session_token'), 'user_account', ['session_token'], unique=True
    )

    op.drop_index(op.f('ix_login_session_user_id'), table_name='login_session')
    op.drop_table('login_session')
