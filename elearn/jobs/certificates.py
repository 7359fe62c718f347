"""``certificates make-pdfs``: store the signed PDF of certificates issued before PDFs were made
at issuance, a batch per transaction so that a long backfill holds no lock for long."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from elearn.jobs import unit_of_work
from elearn.services.certificates import authority_of, make_missing_pdfs

if TYPE_CHECKING:
    from flask import Flask


def make_pdfs(app: Flask, *, batch: int, now: datetime) -> int:
    """Make every missing PDF; returns how many were made."""
    authority = authority_of(app=app)
    made = 0
    while True:
        with unit_of_work(app) as session:
            count = make_missing_pdfs(session=session, authority=authority, now=now, limit=batch)
        made += count
        if count < batch:
            return made
