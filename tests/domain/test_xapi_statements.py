"""xAPI statement builders: stable ids, durations, timestamps and how learners are named."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from elearn.domain import xapi

SITE = xapi.Site("https://elearn.example.org/")
KARI = xapi.Learner(user_id=7, email="kari@example.org", name="Kari Nordmann")
WHEN = datetime(2026, 11, 21, 9, 30, 5, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "PT0S"),
        (5, "PT5S"),
        (59.5, "PT59.5S"),
        (60, "PT1M0S"),
        (3723.25, "PT1H2M3.25S"),
        (7200, "PT2H0S"),
        (-3, "PT0S"),
    ],
)
def test_durations_are_iso_8601(seconds: float, text: str) -> None:
    assert xapi.duration(seconds) == text


@given(st.floats(min_value=0, max_value=10**7, allow_nan=False))
def test_a_duration_reads_back_to_its_seconds(seconds: float) -> None:
    text = xapi.duration(seconds)
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(\d+(?:\.\d+)?)S", text)
    assert match, text
    hours, minutes, secs = match.groups()
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs)
    assert total == pytest.approx(seconds, abs=0.006)


def test_timestamps_are_utc_with_milliseconds() -> None:
    oslo = WHEN.astimezone(timezone(timedelta(hours=1)))
    assert xapi.timestamp(oslo) == "2026-11-21T09:30:05.123Z"
    assert xapi.timestamp(WHEN.replace(tzinfo=None)) == "2026-11-21T09:30:05.123Z"


def test_the_same_event_always_has_the_same_id_and_others_differ() -> None:
    one = xapi.statement_id(SITE, "exam-scored", 12)
    assert one == xapi.statement_id(xapi.Site("https://elearn.example.org"), "exam-scored", 12)
    assert one != xapi.statement_id(SITE, "exam-scored", 13)
    assert one != xapi.statement_id(SITE, "exam-attempted", 12)
    assert one != xapi.statement_id(xapi.Site("https://other.example.org"), "exam-scored", 12)


def test_actor_by_email_or_by_an_opaque_account() -> None:
    assert xapi.actor(SITE, KARI) == {
        "objectType": "Agent",
        "name": "Kari Nordmann",
        "mbox": "mailto:kari@example.org",
    }
    anonymous = xapi.actor(xapi.Site(SITE.public_url, actor="account"), KARI)
    assert anonymous == {
        "objectType": "Agent",
        "account": {"homePage": "https://elearn.example.org/", "name": "7"},
    }


def test_an_exam_result_statement() -> None:
    statement = xapi.exam_scored(
        SITE,
        KARI,
        exam_id="soa",
        exam_title={"nb": "Sertifisering", "en": "Certification"},
        attempt_id=3,
        lang="nb",
        started=WHEN,
        submitted=WHEN + timedelta(minutes=41, seconds=2),
        percent=77.5,
        marks=31,
        max_marks=40,
        passed=True,
    )
    assert statement["verb"] == {
        "id": "http://adlnet.gov/expapi/verbs/passed",
        "display": {"en-US": "passed"},
    }
    assert statement["result"] == {
        "score": {"scaled": 0.775, "raw": 31, "min": 0, "max": 40},
        "success": True,
        "completion": True,
        "duration": "PT41M2S",
    }
    assert statement["context"]["registration"] == xapi.registration(SITE, 3)
    assert statement["object"]["definition"]["name"] == {
        "nb": "Sertifisering",
        "en": "Certification",
    }
    assert statement["timestamp"] == "2026-11-21T10:11:07.123Z"
    failed = xapi.exam_scored(
        SITE, KARI, exam_id="soa", exam_title={"nb": "S"}, attempt_id=3, lang="nb",
        started=WHEN, submitted=WHEN, percent=0, marks=0, max_marks=40, passed=False,
    )  # fmt: skip
    assert failed["verb"]["id"].endswith("/failed") and failed["id"] == statement["id"]
    # Items of unequal maximum marks: raw and max are in marks, and scaled is their ratio.
    weighted = xapi.exam_scored(
        SITE, KARI, exam_id="soa", exam_title={"nb": "S"}, attempt_id=3, lang="nb",
        started=WHEN, submitted=WHEN, percent=100 * 12.5 / 15.5, marks=12.5, max_marks=15.5,
        passed=True,
    )  # fmt: skip
    assert weighted["result"]["score"] == {"scaled": 0.8065, "raw": 12.5, "min": 0, "max": 15.5}
