"""The server's clock: aware UTC datetimes everywhere (the database returns them in UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
