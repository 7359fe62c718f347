"""``flask db``: the schema through alembic migrations, and online backups."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from sqlalchemy.engine import make_url

from elearn.cli import GROUPS
from elearn.db import create_private_file, engine_of

group = GROUPS["db"]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _alembic(action: str, *args: Any, **kwargs: Any) -> None:
    """Run an alembic command (upgrade, downgrade...) on the app's engine."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine_of(current_app)
    getattr(command, action)(cfg, *args, **kwargs)


@group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Bring the schema up to REVISION (default: the newest)."""
    _alembic("upgrade", revision)
    click.echo(f"database at {revision}")


@group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Take the schema back to REVISION."""
    _alembic("downgrade", revision)


@group.command("current")
def db_current() -> None:
    _alembic("current")


@group.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(target: Path) -> None:
    """Copy the database while the app serves: SQLite's online backup, or pg_dump (custom format).

    Back up instance/keys/ and instance/pdf-signing/ with it: certificates verify only with their
    keys.
    """
    url = make_url(current_app.config["DATABASE_URL"])
    create_private_file(target)  # a copy of the database is as secret as the database
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(str(url.database))
        copy = sqlite3.connect(str(target))
        with copy:
            source.backup(copy)  # consistent even while others write (WAL)
        copy.close()
        source.close()
    elif url.get_backend_name() == "postgresql":
        if shutil.which("pg_dump") is None:
            raise click.ClickException("pg_dump is not installed (Debian: postgresql-client)")
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["pg_dump", "--format=custom", "--file", str(target), plain], check=True)
    else:
        raise click.ClickException(f"no backup for {url.get_backend_name()}")
    click.echo(f"backed up to {target} ({target.stat().st_size} bytes)")


@group.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    _alembic("revision", message=message, autogenerate=True)
