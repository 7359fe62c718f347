"""``content sync``: the configured files into versioned rows, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from elearn.content.loader import ContentSet, load_configured
from elearn.jobs import unit_of_work
from elearn.services.content_sync import SyncReport, sync_content

if TYPE_CHECKING:
    from flask import Flask


@dataclass(frozen=True)
class SyncOutcome:
    content: ContentSet  # what was read; its problems name the files left as they were
    report: SyncReport


def sync_files(app: Flask, *, now: datetime) -> SyncOutcome:
    """Read the files and sync what passed the checks; a broken file keeps its old version."""
    content = load_configured(app.config)
    with unit_of_work(app) as session:
        report = sync_content(session=session, content=content, now=now)
    return SyncOutcome(content=content, report=report)
