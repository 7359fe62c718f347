"""scheduled sittings: candidates booked, forms drawn ahead (attempts waiting to start)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 01:40:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sitting',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('exam_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('starts_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('late_minutes', sa.Integer(), nullable=False),
        sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('invigilator_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['exam_id'], ['exam.id'], name='fk_sitting_exam_id_exam'),
        sa.ForeignKeyConstraint(
            ['invigilator_id'], ['user_account.id'], name='fk_sitting_invigilator_id_user_account'
        ),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['user_account.id'], name='fk_sitting_created_by_id_user_account'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_sitting'),
    )
    op.create_index(op.f('ix_sitting_exam_id'), 'sitting', ['exam_id'])
    op.create_index(op.f('ix_sitting_starts_at'), 'sitting', ['starts_at'])
    op.create_table(
        'sitting_candidate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sitting_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('attempt_id', sa.Integer(), nullable=True),
        sa.Column('problem', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ['sitting_id'], ['sitting.id'], name='fk_sitting_candidate_sitting_id_sitting'
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'], name='fk_sitting_candidate_user_id_user_account'
        ),
        sa.ForeignKeyConstraint(
            ['attempt_id'], ['exam_attempt.id'], name='fk_sitting_candidate_attempt_id_exam_attempt'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_sitting_candidate'),
        sa.UniqueConstraint('sitting_id', 'user_id', name='uq_sitting_candidate_sitting_id'),
    )
    op.create_index(op.f('ix_sitting_candidate_sitting_id'), 'sitting_candidate', ['sitting_id'])
    op.create_index(op.f('ix_sitting_candidate_user_id'), 'sitting_candidate', ['user_id'])
    op.add_column(
        'exam_attempt',
        sa.Column('waiting', sa.Boolean(), nullable=False, server_default=sa.text('false')),
    )


def downgrade() -> None:
    with op.batch_alter_table('exam_attempt') as batch:
        batch.drop_column('waiting')
    op.drop_table('sitting_candidate')
    op.drop_table('sitting')
