"""The events' rules without an app: schedules, audiences, fallback texts, personal links, .ics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from elearn.domain import events as rules
from elearn.domain.errors import InvalidAnswer
from elearn.domain.ical import IcalSession, invitation

NOW = datetime(2026, 3, 20, 8, tzinfo=UTC)


def test_local_times_are_stored_in_utc_across_the_summer_time_change() -> None:
    # Norway moves to summer time on 29 March 2026: 09:00 is 08:00 UTC before, 07:00 after.
    before = rules.SessionTime(datetime(2026, 3, 27, 9), datetime(2026, 3, 27, 11), "Europe/Oslo")
    after = rules.SessionTime(datetime(2026, 3, 30, 9), datetime(2026, 3, 30, 11), "Europe/Oslo")
    times = rules.check_schedule([after, before], NOW + timedelta(days=1), NOW)
    assert [t[0].hour for t in times] == [8, 7]  # sorted, in UTC


def test_an_unknown_time_zone_and_too_many_sessions_are_refused() -> None:
    one = rules.SessionTime(datetime(2026, 4, 1, 9), datetime(2026, 4, 1, 10), "America/New_York")
    with pytest.raises(InvalidAnswer, match="time zone"):
        rules.check_schedule([one], NOW + timedelta(days=1), NOW)
    many = [
        rules.SessionTime(datetime(2026, 4, d, 9), datetime(2026, 4, d, 10), "Europe/Oslo")
        for d in range(1, 12)
    ]
    with pytest.raises(InvalidAnswer, match="at most ten"):
        rules.check_schedule(many, NOW + timedelta(days=1), NOW)


def test_a_deadline_already_passed_is_refused() -> None:
    one = rules.SessionTime(datetime(2026, 4, 1, 9), datetime(2026, 4, 1, 10), "Europe/Oslo")
    with pytest.raises(InvalidAnswer, match="already passed"):
        rules.check_schedule([one], NOW - timedelta(minutes=1), NOW)


@pytest.mark.parametrize(
    ("place", "url", "in_person", "online", "message"),
    [
        ("", "", 0, 0, "place, an online link"),
        ("Hall", "", 0, 0, "capacity"),
        ("", "javascript:alert(1)", 0, 5, "https"),
        ("", "https://x.example", 0, 0, "capacity"),
    ],
)
def test_places_and_capacities(
    place: str, url: str, in_person: int, online: int, message: str
) -> None:
    with pytest.raises(InvalidAnswer, match=message):
        rules.check_capacity(place, url, in_person, online)
    rules.check_capacity("Hall", "https://x.example", 1, 1)


def test_texts_fall_back_through_the_languages() -> None:
    assert rules.localized({"nb": "Hei", "en": "Hi"}, "da") == "Hei"
    assert rules.localized({"en": "Hi"}, "nb") == "Hi"
    assert rules.localized({"da": "Hej"}, "da") == "Hej"
    assert rules.localized({}, "nb") == ""


def test_audience_by_organisation_type_or_unit() -> None:
    assert rules.in_audience(audience_types=[], audience_units=[], org_type=None)
    assert rules.in_audience(audience_types=["state"], audience_units=[], org_type="state")
    assert not rules.in_audience(audience_types=["state"], audience_units=[], org_type="private")
    assert not rules.in_audience(audience_types=["state"], audience_units=[], org_type=None)
    assert rules.in_audience(audience_types=[], audience_units=[3], org_type=None, unit_path=(7, 3))
    assert not rules.in_audience(
        audience_types=[], audience_units=[3], org_type=None, unit_path=(7,)
    )


def test_a_place_while_free_and_nobody_waits() -> None:
    assert rules.place_status(taken=9, capacity=10, queue=0) == "confirmed"
    assert rules.place_status(taken=10, capacity=10, queue=0) == "waiting"
    assert rules.place_status(taken=5, capacity=10, queue=1) == "waiting"


def test_personal_and_check_in_links_cannot_be_forged_or_swapped() -> None:
    secret, other = b"k" * 32, b"o" * 32
    token = rules.personal_token(secret, "abc123")
    check = rules.check_in_token(secret, "abc123")
    assert rules.nonce_of(token, secret) == "abc123"
    assert rules.nonce_of(check, secret, purpose="check-in") == "abc123"
    assert rules.nonce_of(check, secret) is None
    assert rules.nonce_of(token, secret, purpose="check-in") is None
    assert rules.nonce_of(token, other) is None
    assert rules.nonce_of("abc123." + "0" * 32, secret) is None
    assert rules.nonce_of("abc123", secret) is None
    assert rules.nonce_of("." + token.split(".")[1], secret) is None


def test_the_invitation_parses_back_to_the_sessions_time_zone() -> None:
    from icalendar import Calendar

    start = datetime(2026, 6, 1, 7, tzinfo=UTC)  # 09:00 in Copenhagen (summer)
    ics = invitation(
        sessions=[IcalSession("s1@elearn", start, start + timedelta(hours=2), "Europe/Copenhagen")],
        title="Workshop",
        description="About",
        location="Town hall",
        url="https://example.org/events/1",
        organiser_email="organiser@example.org",
        stamp=NOW,
    )
    cal = Calendar.from_ical(ics)
    assert cal["METHOD"] == "REQUEST"
    event = next(iter(cal.walk("VEVENT")))
    assert str(event["DTSTART"].dt.tzinfo) == "Europe/Copenhagen"
    assert event["DTSTART"].dt.hour == 9
    assert event["DTSTART"].dt.astimezone(UTC) == start
    assert str(event["ORGANIZER"]) == "mailto:organiser@example.org"


def test_retention() -> None:
    ended = datetime(2026, 1, 1, tzinfo=UTC)
    assert not rules.retention_passed(ended_at=ended, now=ended + timedelta(days=364), days=365)
    assert rules.retention_passed(ended_at=ended, now=ended + timedelta(days=365), days=365)
