"""the case bank: cases, their texts per language, SDGs, review steps, attachments, text search;
a unit's agreed next steps after a course

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 04:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_COLUMNS = (
    'summary', 'purchase', 'criteria', 'lcc_tco', 'co2e', 'co2e_basis', 'life_cycle_cost',
    'life_cycle_cost_basis', 'other_results', 'other_results_basis', 'lessons', 'body',
)


def upgrade() -> None:
    op.create_table(
        'case_study',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('tags', sa.JSON(), nullable=False),
        sa.Column('programme', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('illustrative', sa.Boolean(), nullable=False),
        sa.Column('demo_key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['owner_id'], ['user_account.id'], name='fk_case_study_owner_id_user_account'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_case_study'),
    )
    op.create_index(op.f('ix_case_study_owner_id'), 'case_study', ['owner_id'])
    op.create_index(op.f('ix_case_study_state'), 'case_study', ['state'])
    op.create_index(op.f('ix_case_study_country'), 'case_study', ['country'])
    op.create_index(op.f('ix_case_study_category'), 'case_study', ['category'])
    op.create_index(op.f('ix_case_study_programme'), 'case_study', ['programme'])
    op.create_index(op.f('ix_case_study_demo_key'), 'case_study', ['demo_key'], unique=True)

    op.create_table(
        'case_text',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        *(sa.Column(name, sa.Text(), nullable=False) for name in TEXT_COLUMNS),
        sa.ForeignKeyConstraint(['case_id'], ['case_study.id'], name='fk_case_text_case_id_case_study'),
        sa.PrimaryKeyConstraint('id', name='pk_case_text'),
        sa.UniqueConstraint('case_id', 'lang', name='uq_case_text_case_id'),
    )
    op.create_index(op.f('ix_case_text_case_id'), 'case_text', ['case_id'])

    op.create_table(
        'case_sdg',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('sdg', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_study.id'], name='fk_case_sdg_case_id_case_study'),
        sa.PrimaryKeyConstraint('case_id', 'sdg', name='pk_case_sdg'),
    )
    op.create_index(op.f('ix_case_sdg_sdg'), 'case_sdg', ['sdg'])

    op.create_table(
        'case_step',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_study.id'], name='fk_case_step_case_id_case_study'),
        sa.ForeignKeyConstraint(
            ['actor_id'], ['user_account.id'], name='fk_case_step_actor_id_user_account'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_case_step'),
    )
    op.create_index(op.f('ix_case_step_case_id'), 'case_step', ['case_id'])

    op.create_table(
        'case_attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['case_id'], ['case_study.id'], name='fk_case_attachment_case_id_case_study'
        ),
        sa.ForeignKeyConstraint(
            ['uploaded_by_id'], ['user_account.id'],
            name='fk_case_attachment_uploaded_by_id_user_account',
        ),
        sa.ForeignKeyConstraint(
            ['file_id'], ['stored_file.id'], name='fk_case_attachment_file_id_stored_file'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_case_attachment'),
        sa.UniqueConstraint('file_id', name='uq_case_attachment_file_id'),
    )
    op.create_index(op.f('ix_case_attachment_case_id'), 'case_attachment', ['case_id'])

    # What a unit agreed after a course (team reflection): shown beside its completion.
    op.create_table(
        'unit_next_step',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('course_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('action', sa.Text(), nullable=False),
        sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('due', sa.Date(), nullable=False),
        sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name='fk_unit_next_step_unit_id_org_unit'),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['user_account.id'], name='fk_unit_next_step_created_by_id_user_account'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_unit_next_step'),
    )
    op.create_index(op.f('ix_unit_next_step_unit_id'), 'unit_next_step', ['unit_id'])

    # Full-text search over title and text, in the database's own engine (decision 0020).
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "CREATE INDEX ix_case_text_search ON case_text USING GIN "
            "(to_tsvector('simple', title || ' ' || body))"
        )
    else:
        # An external-content FTS5 table over case_text, kept in step by triggers.
        op.execute(
            "CREATE VIRTUAL TABLE case_fts USING fts5("
            "title, body, content='case_text', content_rowid='id', tokenize='unicode61')"
        )
        op.execute(
            "CREATE TRIGGER case_text_ai AFTER INSERT ON case_text BEGIN "
            "INSERT INTO case_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER case_text_ad AFTER DELETE ON case_text BEGIN "
            "INSERT INTO case_fts(case_fts, rowid, title, body) "
            "VALUES ('delete', old.id, old.title, old.body); END"
        )
        op.execute(
            "CREATE TRIGGER case_text_au AFTER UPDATE ON case_text BEGIN "
            "INSERT INTO case_fts(case_fts, rowid, title, body) "
            "VALUES ('delete', old.id, old.title, old.body); "
            "INSERT INTO case_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_case_text_search")
    else:
        for trigger in ('case_text_ai', 'case_text_ad', 'case_text_au'):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS case_fts")
    op.drop_table('unit_next_step')
    op.drop_table('case_attachment')
    op.drop_table('case_step')
    op.drop_table('case_sdg')
    op.drop_table('case_text')
    op.drop_table('case_study')
