"""a random credentialSubject.id per holder, made at the first certificate and kept

Earlier certificates keep the id signed into them (a UUID5 of the user's number); each holder's
next certificate gets the random one.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 00:30:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'user_account',
        sa.Column(
            'credential_subject_id', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=True
        ),
    )
    op.create_index(
        op.f('ix_user_account_credential_subject_id'),
        'user_account',
        ['credential_subject_id'],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_user_account_credential_subject_id'), table_name='user_account')
    op.execute('ALTER TABLE user_account DROP COLUMN credential_subject_id')
