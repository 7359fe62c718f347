"""The WSGI entry point for gunicorn: ``gunicorn -c gunicorn.conf.py elearn.wsgi:app``."""

from __future__ import annotations

from elearn import create_app

# Each worker builds its own app after the fork (no preload), so no database connection is
# shared between processes.
app = create_app()
