"""revocation lists as rows: the URL recorded when a list was opened, and its signed copy

A list already in use gets its row here, with the URL its certificates carry (read from one of
their credentials), so that the address it was published under is kept.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 00:30:00.000000
"""
from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _status_url(token: str) -> str | None:
    """statusListCredential from a stored VC-JWT's payload (signed already: not re-checked)."""
    try:
        body = token.split('.')[1]
        payload = json.loads(base64.urlsafe_b64decode(body + '=' * (-len(body) % 4)))
        return str(payload['credentialStatus']['statusListCredential'])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def upgrade() -> None:
    op.create_table('status_list',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('token', sa.Text(), nullable=True),
    sa.Column('signed_version', sa.Integer(), nullable=True),
    sa.Column('signed_kid', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('signed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    connection = op.get_bind()
    certificate = sa.table(
        'certificate', sa.column('status_list'), sa.column('credential'),
        sa.column('issued_at', sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    status_list = sa.table(
        'status_list', sa.column('id'), sa.column('url'), sa.column('size'),
        sa.column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime()), sa.column('version'),
    )
    numbers = connection.execute(sa.select(certificate.c.status_list).distinct()).scalars().all()
    for number in numbers:
        token, opened = connection.execute(
            sa.select(certificate.c.credential, certificate.c.issued_at)
            .where(certificate.c.status_list == number)
            .order_by(certificate.c.issued_at)
            .limit(1)
        ).one()
        url = _status_url(token)
        if url is None:
            continue  # recorded from PUBLIC_URL when the list is next used
        connection.execute(
            status_list.insert().values(
                id=number, url=url, size=131072, opened_at=opened or datetime.now(UTC), version=1
            )
        )


def downgrade() -> None:
    op.drop_table('status_list')
