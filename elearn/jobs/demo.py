"""``demo``: the demo municipality, users and certificates, never in production."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from elearn.jobs import unit_of_work
from elearn.jobs.audit import seal
from elearn.services.certificates import authority_of
from elearn.services.demo import create_demo

if TYPE_CHECKING:
    from flask import Flask


class RefusedInProduction(Exception):
    """Demo accounts share a published password: a production site must never get them."""


def create_demo_data(app: Flask, *, now: datetime) -> list[str]:
    """Create what is missing of the demo data; returns the e-mail addresses created."""
    if app.config["PRODUCTION"]:
        raise RefusedInProduction("demo data is not created when PRODUCTION is set")
    with unit_of_work(app) as session:
        created = create_demo(
            session=session,
            now=now,
            authority=authority_of(app=app),
            cases_dir=Path(app.config["CASES_DIR"]),
            instance_path=app.instance_path,
        )
    seal(app, now=lambda: now)  # the demo's audit entries, sealed as the sealer would
    return created
