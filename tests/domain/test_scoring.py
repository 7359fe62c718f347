"""Scorers per item type, pass rules, and eligibility: pure, without an app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elearn.domain.content import ExamSpec, ItemSpec, PassRules
from elearn.domain.eligibility import PastAttempt, Refusal, deadline, eligibility
from elearn.domain.itemtypes import (
    InvalidResponse,
    full_key_response,
    get_item_type,
    item_type_names,
    parse_number,
)
from elearn.domain.scoring import Answered, score_attempt
from tests.domain.conftest import item

OPTS = {"a": "A", "b": "B", "c": "C", "d": "D"}
SINGLE = item("single_choice", "b", options=OPTS)
MULTI_LIST = item("multiple_response", ["a", "c"], options=OPTS)
MULTI_WEIGHTS = item("multiple_response", {"a": 0.6, "b": 0.4, "d": -1}, options=OPTS)
TF = item("true_false", False)
NUM_TOL = item("numeric", {"value": 125000, "tolerance": 500})
NUM_RANGE = item("numeric", {"min": 10.5, "max": 11.5})
MATCH = item(
    "matching",
    {"p": "a", "q": "b", "r": "c"},
    prompts={"p": "P", "q": "Q", "r": "R"},
    options={"a": "A", "b": "B", "c": "C"},
)
SHORT = item(
    "short_answer",
    None,
    accepted=[
        {"answer": "KOFA"},
        {"answer": "Klagenemnda for offentlige anskaffelser", "credit": 1},
        {"answer": "klagenemnda", "credit": 0.5},
    ],
)
ORDER = item(
    "ordering", {"order": ["c", "a", "d", "b"], "grading": "absolute_position"}, options=OPTS
)
ALL = [SINGLE, MULTI_LIST, MULTI_WEIGHTS, TF, NUM_TOL, NUM_RANGE, MATCH, SHORT, ORDER]


def score(spec: ItemSpec, raw: dict[str, list[str]]) -> float:
    kind = get_item_type(spec.type)
    return kind.score(spec, kind.parse(spec, raw), "nb")


@pytest.mark.parametrize(
    ("spec", "raw", "mark"),
    [
        (SINGLE, {"answer": ["b"]}, 1.0),
        (SINGLE, {"answer": ["a"]}, 0.0),
        (SINGLE, {}, 0.0),
        (MULTI_LIST, {"answer": ["a", "c"]}, 1.0),
        (MULTI_LIST, {"answer": ["a"]}, 0.5),
        (MULTI_LIST, {"answer": ["a", "b"]}, 0.0),  # a wrong tick costs a share
        (MULTI_LIST, {"answer": ["a", "b", "c", "d"]}, 0.0),  # ticking all earns nothing
        (MULTI_WEIGHTS, {"answer": ["a", "b"]}, 1.0),
        (MULTI_WEIGHTS, {"answer": ["a"]}, 0.6),
        (MULTI_WEIGHTS, {"answer": ["a", "d"]}, 0.0),  # clamped, never negative
        (MULTI_WEIGHTS, {"answer": ["b", "c"]}, 0.4),
        (TF, {"answer": ["false"]}, 1.0),
        (TF, {"answer": ["true"]}, 0.0),
        (NUM_TOL, {"answer": ["125 400"]}, 1.0),
        (NUM_TOL, {"answer": ["124500"]}, 1.0),
        (NUM_TOL, {"answer": ["124499,9"]}, 0.0),
        (NUM_RANGE, {"answer": ["10,5"]}, 1.0),
        (NUM_RANGE, {"answer": ["11.6"]}, 0.0),
        (MATCH, {"answer-p": ["a"], "answer-q": ["b"], "answer-r": ["c"]}, 1.0),
        (MATCH, {"answer-p": ["a"], "answer-q": ["c"], "answer-r": ["b"]}, pytest.approx(1 / 3)),
        (SHORT, {"answer": ["  kofa. "]}, 1.0),
        (SHORT, {"answer": ["KLAGENEMNDA  for offentlige   anskaffelser"]}, 1.0),
        (SHORT, {"answer": ["Klagenemnda"]}, 0.5),
        (SHORT, {"answer": ["Tingretten"]}, 0.0),
    ],
)
def test_marks(spec: ItemSpec, raw: dict[str, list[str]], mark: float) -> None:
    assert score(spec, raw) == mark


@pytest.mark.parametrize(
    ("spec", "raw"),
    [
        (SINGLE, {"answer": ["z"]}),
        (SINGLE, {"answer": ["a", "b"]}),
        (MULTI_LIST, {"answer": ["a", "a"]}),
        (MULTI_LIST, {"answer": ["<script>"]}),
        (TF, {"answer": ["maybe"]}),
        (NUM_TOL, {"answer": ["12e5"]}),
        (NUM_TOL, {"answer": ["one hundred"]}),
        (MATCH, {"answer-p": ["z"]}),
        (MATCH, {"answer-zz": ["a"]}),
        (SHORT, {"answer": ["x" * 501]}),
        (SHORT, {"answer": ["KO\x00FA"]}),
        (SHORT, {"answer": ["KOFA\u202e"]}),
        (SHORT, {"answer": ["KO\nFA"]}),
    ],
)
def test_forged_or_malformed_answers_are_refused(spec: ItemSpec, raw: dict[str, list[str]]) -> None:
    with pytest.raises(InvalidResponse):
        get_item_type(spec.type).parse(spec, raw)


def test_numbers_as_people_type_them() -> None:
    assert parse_number("1 234,5") == 1234.5
    assert parse_number("1\u00a0234.5") == 1234.5
    assert parse_number("-3") == -3.0


@pytest.mark.parametrize("spec", ALL, ids=lambda s: s.type)
def test_a_full_key_scores_one(spec: ItemSpec) -> None:
    kind = get_item_type(spec.type)
    assert kind.score(spec, full_key_response(spec, "nb"), "nb") == 1.0


def test_every_registered_type_is_covered() -> None:
    assert {s.type for s in ALL} == set(item_type_names())


@settings(max_examples=300, deadline=None)
@given(
    spec=st.sampled_from(ALL),
    picks=st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=4, unique=True),
    number=st.floats(allow_nan=False, allow_infinity=False, width=32),
    text=st.text(max_size=40),
    flag=st.booleans(),
)
def test_a_mark_is_always_within_0_and_1(
    spec: ItemSpec, picks: list[str], number: float, text: str, flag: bool
) -> None:
    """Whatever a learner gives, valid or not, the mark is in 0..1 or the answer is refused."""
    raws: list[dict[str, list[str]]] = [
        {"answer": picks},
        {"answer": picks[:1]},
        {"answer": [repr(number)]},
        {"answer": [text]},
        {"answer": ["true" if flag else "false"]},
        {f"answer-{p}": [o] for p, o in zip(["p", "q", "r"], picks, strict=False)},
        {f"answer-{o}": [str(i)] for i, o in enumerate(picks, start=1)},
    ]
    kind = get_item_type(spec.type)
    for raw in raws:
        try:
            response = kind.parse(spec, raw)
        except InvalidResponse:
            continue
        assert 0.0 <= kind.score(spec, response, "nb") <= 1.0


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "c", "d"]), st.floats(min_value=-1, max_value=1), min_size=1
    )
)
def test_multiple_response_with_any_weights_stays_in_range(w: dict[str, float]) -> None:
    spec = item("multiple_response", w, options=OPTS)
    kind = get_item_type(spec.type)
    for chosen in (["a"], ["a", "b"], ["a", "b", "c", "d"], ["d"]):
        assert 0.0 <= kind.score(spec, chosen, "nb") <= 1.0


# --- pass rules ------------------------------------------------------------------------------------


def answered(marks: list[tuple[str, bool]]) -> list[Answered]:
    return [
        Answered(i + 1, topic, SINGLE, "b" if right else "a")
        for i, (topic, right) in enumerate(marks)
    ]


def test_pass_needs_the_overall_and_each_named_topic() -> None:
    rules = PassRules(overall_percent=75, topics={"legal": 80})
    # 30 of 40 right = 75 % exactly, with 8/10 legal = 80 % exactly: passes on the boundary.
    slots = answered([("legal", i < 8) for i in range(10)] + [("gpp", i < 22) for i in range(30)])
    result = score_attempt(slots, rules, "nb")
    assert result.total_percent == 75.0 and result.passed
    # Same total, but only 7/10 legal: fails on the topic alone.
    slots = answered([("legal", i < 7) for i in range(10)] + [("gpp", i < 23) for i in range(30)])
    result = score_attempt(slots, rules, "nb")
    assert result.total_percent == 75.0 and not result.passed
    assert result.reasons == ("legal 70.0 % < 80 %",)
    # 29/40 overall with every topic met fails on the overall.
    slots = answered([("legal", i < 9) for i in range(10)] + [("gpp", i < 20) for i in range(30)])
    assert not score_attempt(slots, rules, "nb").passed


def test_topic_named_in_rules_but_absent_fails_safe() -> None:
    result = score_attempt(
        answered([("gpp", True)]), PassRules(overall_percent=50, topics={"legal": 80}), "nb"
    )
    assert not result.passed and result.reasons == ("legal not on the form",)


def test_partial_marks_count_as_fractions() -> None:
    slots = [Answered(1, "t", MULTI_LIST, ["a"]), Answered(2, "t", SINGLE, "b")]
    result = score_attempt(slots, PassRules(overall_percent=75), "nb")
    assert result.marks == {1: 0.5, 2: 1.0} and result.total_percent == 75.0 and result.passed


def marked(spec: ItemSpec, mark: float) -> ItemSpec:
    return spec.model_copy(update={"mark": mark})


def test_marks_weigh_items_by_their_maximum_mark() -> None:
    # Worked by hand: legal: 2 × 1 (right) + 1 × 0.5 (half of a multiple response) = 2.5 of 3;
    # gpp: 3 × 0 (wrong) + 1 × 1 = 1 of 4. Total 3.5 of 7 = 50 %.
    slots = [
        Answered(1, "legal", marked(SINGLE, 2), "b"),
        Answered(2, "legal", MULTI_LIST, ["a"]),
        Answered(3, "gpp", marked(TF, 3), True),
        Answered(4, "gpp", SINGLE, "b"),
    ]
    result = score_attempt(slots, PassRules(overall_percent=50, topics={"legal": 80}), "nb")
    assert result.marks == {1: 1.0, 2: 0.5, 3: 0.0, 4: 1.0}  # fractions of each item
    assert (result.earned, result.maximum, result.total_percent) == (3.5, 7.0, 50.0)
    legal, gpp = result.topics
    assert (legal.items, legal.marks, legal.maximum) == (2, 2.5, 3.0)
    assert legal.percent == pytest.approx(250 / 3) and legal.met
    assert (gpp.items, gpp.marks, gpp.maximum, gpp.percent) == (2, 1.0, 4.0, 25.0)
    assert result.passed
    # The same answers with every item worth one: 2.5 of 4 = 62.5 %.
    plain = score_attempt(
        [Answered(s.number, s.topic, marked(s.item, 1), s.response) for s in slots],
        PassRules(overall_percent=50),
        "nb",
    )
    assert (plain.earned, plain.maximum, plain.total_percent) == (2.5, 4.0, 62.5)


def test_an_item_of_mark_zero_counts_for_nothing() -> None:
    base = [Answered(1, "t", SINGLE, "b"), Answered(2, "t", SINGLE, "a")]
    rules = PassRules(overall_percent=50)
    expected = score_attempt(base, rules, "nb")
    for response in ("a", "b"):
        result = score_attempt([*base, Answered(3, "t", marked(SINGLE, 0), response)], rules, "nb")
        assert result.marks[3] == (1.0 if response == "b" else 0.0)  # scored, as the key says
        assert (result.earned, result.maximum) == (1.0, 2.0)
        assert result.total_percent == expected.total_percent == 50.0
        assert result.topics[0].items == 3 and result.topics[0].percent == 50.0


def test_a_topic_of_zero_mark_items_is_left_out_and_cannot_meet_a_rule() -> None:
    slots = [Answered(1, "gpp", SINGLE, "b"), Answered(2, "legal", marked(SINGLE, 0), "b")]
    result = score_attempt(slots, PassRules(overall_percent=50), "nb")
    assert [t.topic for t in result.topics] == ["gpp"]  # legal has no percentage
    assert result.total_percent == 100.0 and result.passed
    # A rule on it cannot be judged: the attempt fails safe, as for a topic not on the form.
    named = score_attempt(slots, PassRules(overall_percent=50, topics={"legal": 50}), "nb")
    assert not named.passed and named.reasons == ("legal carries no marks on the form",)


def test_a_form_without_marks_cannot_pass() -> None:
    slots = [Answered(1, "t", marked(SINGLE, 0), "b")]
    result = score_attempt(slots, PassRules(overall_percent=0), "nb")
    assert (result.earned, result.maximum, result.total_percent) == (0.0, 0.0, 0.0)
    assert result.topics == () and not result.passed
    assert result.reasons == ("the form carries no marks",)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.booleans()), min_size=1, max_size=12))
def test_with_every_mark_one_the_percentages_are_the_share_of_items(
    answers: list[tuple[str, bool]],
) -> None:
    """Marks change nothing while every item is worth one: right items over items."""
    slots = answered(answers)
    result = score_attempt(slots, PassRules(overall_percent=0), "nb")
    assert result.total_percent == 100 * sum(r for _, r in answers) / len(answers)
    assert result.maximum == len(answers) and result.earned == sum(r for _, r in answers)
    for t in result.topics:
        mine = [r for topic, r in answers if topic == t.topic]
        assert t.percent == 100 * sum(mine) / len(mine) and t.maximum == len(mine)


# --- eligibility -----------------------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def exam(**overrides: Any) -> ExamSpec:
    data: dict[str, Any] = {
        "id": "e",
        "title": {"nb": "E"},
        "course": "c",
        "time_limit_minutes": 60,
        "blueprint": [{"topic": "t", "items": 1}],
        "pass_rules": {"overall_percent": 75},
        "attempts": {"max": 3, "cooldown_days": 14},
    }
    data.update(overrides)
    return ExamSpec.model_validate(data)


def test_course_must_be_complete_first() -> None:
    verdict = eligibility(exam(), now=NOW, course_complete=False, past=[])
    assert not verdict.allowed and verdict.refusal is Refusal.COURSE_NOT_COMPLETE
    assert eligibility(exam(), now=NOW, course_complete=True, past=[]).allowed


def test_open_and_close_dates() -> None:
    early = exam(opens=(NOW + timedelta(days=1)).isoformat())
    verdict = eligibility(early, now=NOW, course_complete=True, past=[])
    assert verdict.refusal is Refusal.NOT_OPEN_YET and verdict.opens_at == NOW + timedelta(days=1)
    late = exam(closes=NOW.isoformat())
    assert eligibility(late, now=NOW, course_complete=True, past=[]).refusal is Refusal.CLOSED


def test_cooldown_after_a_failed_attempt_and_attempt_limit() -> None:
    failed = PastAttempt(NOW - timedelta(days=3), NOW - timedelta(days=3), False)
    verdict = eligibility(exam(), now=NOW, course_complete=True, past=[failed])
    assert verdict.refusal is Refusal.COOLDOWN
    assert verdict.opens_at == NOW + timedelta(days=11) and verdict.attempts_left == 2
    old = PastAttempt(NOW - timedelta(days=30), NOW - timedelta(days=30), False)
    assert eligibility(exam(), now=NOW, course_complete=True, past=[old]).allowed
    verdict = eligibility(exam(), now=NOW, course_complete=True, past=[old, old, old])
    assert verdict.refusal is Refusal.NO_ATTEMPTS_LEFT and verdict.attempts_left == 0


def test_a_pass_ends_the_attempts() -> None:
    passed = PastAttempt(NOW - timedelta(days=30), NOW - timedelta(days=30), True)
    assert (
        eligibility(exam(), now=NOW, course_complete=True, past=[passed]).refusal
        is Refusal.ALREADY_PASSED
    )


def test_deadline_adds_extra_minutes_and_percent() -> None:
    assert deadline(NOW, 60) == NOW + timedelta(minutes=60)
    assert deadline(NOW, 60, extra_minutes=15) == NOW + timedelta(minutes=75)
    assert deadline(NOW, 60, extra_percent=50) == NOW + timedelta(minutes=90)


def test_a_pass_ends_the_attempts_until_renewal_is_due() -> None:
    passed = PastAttempt(NOW - timedelta(days=1000), NOW - timedelta(days=1000), True)
    failed = PastAttempt(NOW - timedelta(days=1100), NOW - timedelta(days=1100), False)
    verdict = eligibility(
        exam(), now=NOW, course_complete=True, past=[failed, passed], renewal_due=True
    )
    assert verdict.allowed and verdict.attempts_left == 3  # a new round of attempts


def test_text_where_a_number_goes_is_the_learners_to_correct_and_is_shown_back() -> None:
    from elearn.domain.itemtypes import IncompleteResponse, present

    with pytest.raises(IncompleteResponse) as typo:
        get_item_type("numeric").parse(NUM_TOL, {"answer": ["12 5OO"]})
    assert typo.value.partial == "12 5OO"
    assert present(NUM_TOL, "en", [], [], typo.value.partial).value == "12 5OO"
