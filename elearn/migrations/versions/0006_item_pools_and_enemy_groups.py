"""item pools and enemy groups

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 22:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('item') as batch:
        batch.add_column(
            sa.Column(
                'pool',
                sqlmodel.sql.sqltypes.AutoString(length=80),
                nullable=False,
                server_default='',
            )
        )
        batch.add_column(
            sa.Column('enemy_group', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
        )
        batch.create_index(batch.f('ix_item_pool'), ['pool'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('item') as batch:
        batch.drop_index(batch.f('ix_item_pool'))
        batch.drop_column('enemy_group')
        batch.drop_column('pool')
