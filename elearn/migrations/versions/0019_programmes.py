"""programmes: phases, staff, participating organisations, activity plans, agreements;
team reflection sessions, their answers and the units' agreed actions

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 05:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=f'fk_{table}_{column}_{target}')


def upgrade() -> None:
    op.create_table(
        'programme',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', S(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('kind', S(length=16), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', T(), nullable=False),
        _fk('programme', 'created_by_id', 'user_account'),
        sa.PrimaryKeyConstraint('id', name='pk_programme'),
    )
    op.create_table(
        'programme_staff',
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        _fk('programme_staff', 'programme_id', 'programme'),
        _fk('programme_staff', 'user_id', 'user_account'),
        sa.PrimaryKeyConstraint('programme_id', 'user_id', name='pk_programme_staff'),
    )
    op.create_index(op.f('ix_programme_staff_user_id'), 'programme_staff', ['user_id'])
    op.create_table(
        'programme_phase',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('title', S(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('requires_agreement', sa.Boolean(), nullable=False),
        _fk('programme_phase', 'programme_id', 'programme'),
        sa.PrimaryKeyConstraint('id', name='pk_programme_phase'),
        sa.UniqueConstraint('programme_id', 'position', name='uq_programme_phase_programme_id'),
    )
    op.create_index(op.f('ix_programme_phase_programme_id'), 'programme_phase', ['programme_id'])
    for table, extra in (
        (
            'programme_phase_link',
            [sa.Column('kind', S(length=8), nullable=False), sa.Column('ref', S(length=200), nullable=False)],
        ),
        ('programme_requirement', [sa.Column('role', S(length=100), nullable=False)]),
    ):
        op.create_table(
            table,
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('phase_id', sa.Integer(), nullable=False),
            *extra,
            _fk(table, 'phase_id', 'programme_phase'),
            sa.PrimaryKeyConstraint('id', name=f'pk_{table}'),
        )
        op.create_index(op.f(f'ix_{table}_phase_id'), table, ['phase_id'])
    op.create_table(
        'participation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('status', S(length=10), nullable=False),
        sa.Column('phases_done', sa.Integer(), nullable=False),
        sa.Column('created_at', T(), nullable=False),
        sa.Column('decided_at', T(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        _fk('participation', 'programme_id', 'programme'),
        _fk('participation', 'unit_id', 'org_unit'),
        _fk('participation', 'decided_by_id', 'user_account'),
        sa.PrimaryKeyConstraint('id', name='pk_participation'),
        sa.UniqueConstraint('programme_id', 'unit_id', name='uq_participation_programme_id'),
    )
    op.create_index(op.f('ix_participation_programme_id'), 'participation', ['programme_id'])
    op.create_index(op.f('ix_participation_unit_id'), 'participation', ['unit_id'])
    op.create_table(
        'participation_contact',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('participation_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', S(length=100), nullable=False),
        _fk('participation_contact', 'participation_id', 'participation'),
        _fk('participation_contact', 'user_id', 'user_account'),
        sa.PrimaryKeyConstraint('id', name='pk_participation_contact'),
        sa.UniqueConstraint(
            'participation_id', 'user_id', name='uq_participation_contact_participation_id'
        ),
    )
    op.create_index(
        op.f('ix_participation_contact_participation_id'), 'participation_contact', ['participation_id']
    )
    op.create_index(op.f('ix_participation_contact_user_id'), 'participation_contact', ['user_id'])
    op.create_table(
        'programme_activity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('participation_id', sa.Integer(), nullable=False),
        sa.Column('title', S(length=200), nullable=False),
        sa.Column('owner', S(length=200), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('status', S(length=12), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('updated_at', T(), nullable=False),
        _fk('programme_activity', 'participation_id', 'participation'),
        sa.PrimaryKeyConstraint('id', name='pk_programme_activity'),
    )
    op.create_index(
        op.f('ix_programme_activity_participation_id'), 'programme_activity', ['participation_id']
    )
    op.create_table(
        'agreement_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('participation_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=True),
        sa.Column('drafted_by_id', sa.Integer(), nullable=True),
        sa.Column('drafted_at', T(), nullable=False),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('approved_at', T(), nullable=True),
        _fk('agreement_version', 'participation_id', 'participation'),
        _fk('agreement_version', 'file_id', 'stored_file'),
        _fk('agreement_version', 'drafted_by_id', 'user_account'),
        _fk('agreement_version', 'approved_by_id', 'user_account'),
        sa.PrimaryKeyConstraint('id', name='pk_agreement_version'),
        sa.UniqueConstraint(
            'participation_id', 'version', name='uq_agreement_version_participation_id'
        ),
    )
    op.create_index(
        op.f('ix_agreement_version_participation_id'), 'agreement_version', ['participation_id']
    )
    op.create_table(
        'team_reflection',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('course_id', S(length=80), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('prompts', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', T(), nullable=False),
        _fk('team_reflection', 'unit_id', 'org_unit'),
        _fk('team_reflection', 'event_id', 'event'),
        _fk('team_reflection', 'created_by_id', 'user_account'),
        sa.PrimaryKeyConstraint('id', name='pk_team_reflection'),
    )
    op.create_index(op.f('ix_team_reflection_unit_id'), 'team_reflection', ['unit_id'])
    op.create_table(
        'team_reflection_answer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reflection_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key', S(length=20), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('shared', sa.Boolean(), nullable=False),
        sa.Column('updated_at', T(), nullable=False),
        _fk('team_reflection_answer', 'reflection_id', 'team_reflection'),
        _fk('team_reflection_answer', 'user_id', 'user_account'),
        sa.PrimaryKeyConstraint('id', name='pk_team_reflection_answer'),
        sa.UniqueConstraint(
            'reflection_id', 'user_id', 'key', name='uq_team_reflection_answer_reflection_id'
        ),
    )
    op.create_index(
        op.f('ix_team_reflection_answer_reflection_id'), 'team_reflection_answer', ['reflection_id']
    )
    op.create_index(
        op.f('ix_team_reflection_answer_user_id'), 'team_reflection_answer', ['user_id']
    )
    # A unit's next steps (unit_next_step, 0015) may come from a team reflection session.
    op.add_column('unit_next_step', sa.Column('reflection_id', sa.Integer(), nullable=True))
    op.create_table(
        'programme_evaluation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('participation_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('ratings', sa.JSON(), nullable=False),
        sa.Column('gained', sa.Text(), nullable=False),
        sa.Column('improve', sa.Text(), nullable=False),
        sa.Column('submitted_at', T(), nullable=False),
        _fk('programme_evaluation', 'participation_id', 'participation'),
        _fk('programme_evaluation', 'user_id', 'user_account'),
        sa.PrimaryKeyConstraint('id', name='pk_programme_evaluation'),
        sa.UniqueConstraint(
            'participation_id', 'user_id', name='uq_programme_evaluation_participation_id'
        ),
    )
    op.create_index(
        op.f('ix_programme_evaluation_participation_id'),
        'programme_evaluation',
        ['participation_id'],
    )


def downgrade() -> None:
    op.execute('ALTER TABLE unit_next_step DROP COLUMN reflection_id')
    for table in (
        'programme_evaluation',
        'team_reflection_answer',
        'team_reflection',
        'agreement_version',
        'programme_activity',
        'participation_contact',
        'participation',
        'programme_requirement',
        'programme_phase_link',
        'programme_phase',
        'programme_staff',
        'programme',
    ):
        op.drop_table(table)
