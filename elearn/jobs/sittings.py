"""``sittings prepare`` (cron, and at will): draw the forms of sittings still to start."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from elearn.jobs import unit_of_work
from elearn.services.certificates import authority_of
from elearn.services.sittings import prepare_due

if TYPE_CHECKING:
    from flask import Flask


def prepare_sittings(app: Flask, *, now: datetime) -> int:
    """Draw every booked candidate's missing form, in one transaction; returns how many."""
    authority = authority_of(app=app)
    with unit_of_work(app) as session:
        return prepare_due(session=session, authority=authority, now=now)
