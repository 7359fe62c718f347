"""e-mail outbox: messages rendered when queued, their attachments; sign-ups to confirm

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 03:50:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'mail_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('next_try_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('claimed_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('rejected_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('to_address', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('body_text', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('reply_to', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column('unsubscribe_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_mail_message'),
        sa.UniqueConstraint('dedupe_key', name='uq_mail_message_dedupe_key'),
        sa.UniqueConstraint('message_id', name='uq_mail_message_message_id'),
    )
    op.create_index(op.f('ix_mail_message_next_try_at'), 'mail_message', ['next_try_at'])
    op.create_index(op.f('ix_mail_message_sent_at'), 'mail_message', ['sent_at'])
    op.create_index(op.f('ix_mail_message_to_address'), 'mail_message', ['to_address'])
    op.create_table(
        'mail_attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ['message_id'], ['mail_message.id'], name='fk_mail_attachment_message_id_mail_message'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_mail_attachment'),
    )
    op.create_index(op.f('ix_mail_attachment_message_id'), 'mail_attachment', ['message_id'])
    op.create_table(
        'signup_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_signup_request'),
        sa.UniqueConstraint('token_hash', name='uq_signup_request_token_hash'),
    )
    op.create_index(op.f('ix_signup_request_email'), 'signup_request', ['email'])
    op.create_index(op.f('ix_signup_request_expires_at'), 'signup_request', ['expires_at'])


def downgrade() -> None:
    op.drop_table('signup_request')
    op.drop_table('mail_attachment')
    op.drop_table('mail_message')
