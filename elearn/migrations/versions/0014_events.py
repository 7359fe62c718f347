"""events: sessions, registrations with a waiting list, materials, evaluations; org types

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 04:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.add_column('org_unit', sa.Column('org_type', S(length=16), nullable=True))
    op.create_table(
        'event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', S(length=16), nullable=False),
        sa.Column('language', S(length=8), nullable=False),
        sa.Column('title', sa.JSON(), nullable=False),
        sa.Column('description', sa.JSON(), nullable=False),
        sa.Column('place', S(length=500), nullable=False),
        sa.Column('online_url', S(length=500), nullable=False),
        sa.Column('capacity_in_person', sa.Integer(), nullable=False),
        sa.Column('capacity_online', sa.Integer(), nullable=False),
        sa.Column('registration_deadline', T(), nullable=False),
        sa.Column('starts_at', T(), nullable=False),
        sa.Column('ends_at', T(), nullable=False),
        sa.Column('audience_types', sa.JSON(), nullable=False),
        sa.Column('audience_units', sa.JSON(), nullable=False),
        sa.Column('questions', sa.JSON(), nullable=False),
        sa.Column('contact_name', S(length=200), nullable=False),
        sa.Column('contact_email', S(length=254), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', T(), nullable=False),
        sa.Column('cancelled_at', T(), nullable=True),
        sa.Column('reminded_day_at', T(), nullable=True),
        sa.Column('reminded_link_at', T(), nullable=True),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['user_account.id'], name='fk_event_created_by_id_user_account'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_event'),
    )
    op.create_index(op.f('ix_event_kind'), 'event', ['kind'])
    op.create_index(op.f('ix_event_starts_at'), 'event', ['starts_at'])
    op.create_table(
        'event_organiser',
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name='fk_event_organiser_event_id_event'),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'], name='fk_event_organiser_user_id_user_account'
        ),
        sa.PrimaryKeyConstraint('event_id', 'user_id', name='pk_event_organiser'),
    )
    op.create_index(op.f('ix_event_organiser_user_id'), 'event_organiser', ['user_id'])
    op.create_table(
        'event_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', T(), nullable=False),
        sa.Column('ends_at', T(), nullable=False),
        sa.Column('tz', S(length=40), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name='fk_event_session_event_id_event'),
        sa.PrimaryKeyConstraint('id', name='pk_event_session'),
    )
    op.create_index(op.f('ix_event_session_event_id'), 'event_session', ['event_id'])
    op.create_table(
        'event_registration',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('nonce', S(length=32), nullable=False),
        sa.Column('name', S(length=200), nullable=False),
        sa.Column('email', S(length=254), nullable=False),
        sa.Column('organisation', S(length=200), nullable=False),
        sa.Column('org_type', S(length=16), nullable=True),
        sa.Column('mode', S(length=10), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('language', S(length=8), nullable=False),
        sa.Column('status', S(length=10), nullable=False),
        sa.Column('held_until', T(), nullable=True),
        sa.Column('created_at', T(), nullable=False),
        sa.Column('confirmed_at', T(), nullable=True),
        sa.Column('promoted_at', T(), nullable=True),
        sa.Column('cancelled_at', T(), nullable=True),
        sa.Column('checked_in_at', T(), nullable=True),
        sa.Column('guest', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ['event_id'], ['event.id'], name='fk_event_registration_event_id_event'
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'], name='fk_event_registration_user_id_user_account'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_event_registration'),
        sa.UniqueConstraint('nonce', name='uq_event_registration_nonce'),
    )
    for column in ('event_id', 'user_id', 'email', 'status'):
        op.create_index(op.f(f'ix_event_registration_{column}'), 'event_registration', [column])
    op.create_table(
        'stored_file',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', S(length=64), nullable=False),
        sa.Column('filename', S(length=200), nullable=False),
        sa.Column('content_type', S(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', S(length=64), nullable=False),
        sa.Column('created_at', T(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_stored_file'),
        sa.UniqueConstraint('key', name='uq_stored_file_key'),
    )
    op.create_table(
        'event_material',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('title', S(length=200), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', T(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name='fk_event_material_event_id_event'),
        sa.ForeignKeyConstraint(
            ['file_id'], ['stored_file.id'], name='fk_event_material_file_id_stored_file'
        ),
        sa.ForeignKeyConstraint(
            ['uploaded_by_id'], ['user_account.id'],
            name='fk_event_material_uploaded_by_id_user_account',
        ),
        sa.PrimaryKeyConstraint('id', name='pk_event_material'),
    )
    op.create_index(op.f('ix_event_material_event_id'), 'event_material', ['event_id'])
    op.create_table(
        'event_evaluation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('registration_id', sa.Integer(), nullable=True),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('useful', sa.Text(), nullable=False),
        sa.Column('improve', sa.Text(), nullable=False),
        sa.Column('submitted_at', T(), nullable=False),
        sa.ForeignKeyConstraint(
            ['registration_id'], ['event_registration.id'],
            name='fk_event_evaluation_registration_id_event_registration',
        ),
        sa.ForeignKeyConstraint(
            ['event_id'], ['event.id'], name='fk_event_evaluation_event_id_event'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_event_evaluation'),
        sa.UniqueConstraint('registration_id', name='uq_event_evaluation_registration_id'),
    )
    op.create_index(op.f('ix_event_evaluation_event_id'), 'event_evaluation', ['event_id'])


def downgrade() -> None:
    op.drop_table('event_evaluation')
    op.drop_table('event_material')
    op.drop_table('stored_file')
    op.drop_table('event_registration')
    op.drop_table('event_session')
    op.drop_table('event_organiser')
    op.drop_table('event')
    # Not a batch (a copy of the table): users and other units point at the units.
    op.execute('ALTER TABLE org_unit DROP COLUMN org_type')
