"""sign-in through OpenID providers: identities by issuer + subject, grants made by claim rules

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-05 04:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0017'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'user_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('last_login_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'], name='fk_user_identity_user_id_user_account'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_user_identity'),
        sa.UniqueConstraint('issuer', 'subject', name='uq_user_identity_issuer_subject'),
    )
    op.create_index(op.f('ix_user_identity_user_id'), 'user_identity', ['user_id'])
    op.create_table(
        'sso_grant',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'], name='fk_sso_grant_user_id_user_account'
        ),
        sa.PrimaryKeyConstraint('user_id', 'provider', 'kind', 'value', name='pk_sso_grant'),
    )


def downgrade() -> None:
    op.drop_table('sso_grant')
    op.drop_index(op.f('ix_user_identity_user_id'), table_name='user_identity')
    op.drop_table('user_identity')
