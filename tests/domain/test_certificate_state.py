"""One rule for a certificate's state from its dates, used by pages, reports, renewal and commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from elearn.domain.credentials import certificate_state, standing

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
ISSUED = NOW - timedelta(days=300)
UNTIL = NOW + timedelta(days=30)


def state(**changes: Any) -> str:
    fields: dict[str, Any] = {
        "revoked": False,
        "valid_from": ISSUED,
        "valid_until": UNTIL,
        "now": NOW,
        "warn_days": None,
        **changes,
    }
    return certificate_state(**fields)


def test_a_certificate_inside_its_dates_is_valid() -> None:
    assert state() == "valid"
    assert state(valid_until=None) == "valid"  # one that does not expire


def test_it_expires_at_the_instant_of_valid_until_not_after() -> None:
    microsecond = timedelta(microseconds=1)
    assert state(now=UNTIL - microsecond) == "valid"
    assert state(now=UNTIL) == "expired"
    assert state(now=UNTIL + microsecond) == "expired"


def test_the_warning_window_starts_exactly_warn_days_before_valid_until() -> None:
    start = UNTIL - timedelta(days=30)
    assert state(now=start - timedelta(microseconds=1), warn_days=30) == "valid"
    assert state(now=start, warn_days=30) == "expiring"
    assert state(now=UNTIL - timedelta(microseconds=1), warn_days=30) == "expiring"
    assert state(now=UNTIL, warn_days=30) == "expired"


def test_without_a_warning_window_nothing_is_expiring() -> None:
    assert state(now=UNTIL - timedelta(seconds=1)) == "valid"
    assert state(valid_until=None, warn_days=30) == "valid"  # no end, so no warning either
    assert state(warn_days=0, now=UNTIL - timedelta(seconds=1)) == "valid"


def test_revoked_wins_over_every_date() -> None:
    assert state(revoked=True) == "revoked"
    assert state(revoked=True, now=UNTIL + timedelta(days=1)) == "revoked"
    assert state(revoked=True, now=ISSUED - timedelta(days=1)) == "revoked"
    assert state(revoked=True, warn_days=60) == "revoked"


def test_before_valid_from_it_is_not_yet_valid_and_from_that_instant_it_is() -> None:
    assert state(now=ISSUED - timedelta(microseconds=1)) == "not yet valid"
    assert state(now=ISSUED) == "valid"
    # Not yet valid wins over a window or an end that the clock has not reached either.
    assert state(now=ISSUED - timedelta(days=1), valid_until=ISSUED, warn_days=3650) == (
        "not yet valid"
    )


@pytest.mark.parametrize(
    "now", [ISSUED - timedelta(days=1), ISSUED, NOW, UNTIL - timedelta(days=1), UNTIL]
)
@pytest.mark.parametrize("revoked", [False, True])
def test_a_signed_credentials_standing_is_the_same_rule(now: datetime, revoked: bool) -> None:
    payload = {
        "validFrom": ISSUED.isoformat().replace("+00:00", "Z"),
        "validUntil": UNTIL.isoformat().replace("+00:00", "Z"),
    }
    assert standing(payload, revoked, now).state == state(now=now, revoked=revoked)
