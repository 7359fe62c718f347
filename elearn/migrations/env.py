"""Alembic environment: the app's engine and the SQLModel metadata."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import elearn.models  # registers the tables on the metadata

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=elearn.models.modelled,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run 'flask --app elearn db upgrade'")
run_migrations_online()
