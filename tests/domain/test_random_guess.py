"""The score a random guess is expected to earn, per item type, as Moodle's statistics give it."""

from __future__ import annotations

import itertools
import math

import pytest

from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes import get_item_type, item_type_names
from elearn.domain.itemtypes.ordering import (
    COUNTED_STEPS,
    GRADINGS,
    counted_guess,
    expected_guess,
)
from tests.domain.conftest import item
from tests.domain.test_scoring import (
    ALL,
    MATCH,
    MULTI_LIST,
    MULTI_WEIGHTS,
    NUM_RANGE,
    NUM_TOL,
    OPTS,
    ORDER,
    SHORT,
    SINGLE,
    TF,
)

# What Moodle's question type of the same kind returns (question/type/*/questiontype.php):
# multichoice single: the mean fraction of its answers; multichoice multiple: null; truefalse:
# 0.5; match: 1 / the number of choices; numerical and shortanswer: the fraction of a "*"
# answer, else 0. Ordering is ours: the exact expectation over random orders.
EXPECTED = [
    (SINGLE, 1 / 4),
    (MULTI_LIST, None),
    (MULTI_WEIGHTS, None),
    (TF, 0.5),
    (NUM_TOL, 0.0),
    (NUM_RANGE, 0.0),
    (MATCH, 1 / 3),
    (SHORT, 0.0),
    (ORDER, 1 / 4),  # absolute position, 4 steps: each step in its place with chance 1/4
]


@pytest.mark.parametrize(("spec", "guess"), EXPECTED, ids=lambda v: getattr(v, "type", ""))
def test_random_guess_score_per_type(spec: ItemSpec, guess: float | None) -> None:
    assert get_item_type(spec.type).random_guess_score(spec) == guess


def test_every_type_says_what_a_guess_scores() -> None:
    assert {s.type for s, _ in EXPECTED} == set(item_type_names()) == {s.type for s in ALL}


def test_single_choice_and_true_false_guesses_are_the_mean_over_their_answers() -> None:
    for spec, answers in ((SINGLE, list(OPTS)), (TF, [True, False])):
        kind = get_item_type(spec.type)
        mean = sum(kind.score(spec, a, "nb") for a in answers) / len(answers)
        assert kind.random_guess_score(spec) == mean


def test_a_matching_guess_is_the_mean_over_every_way_to_pair() -> None:
    """Each part paired with any option (spare ones too), every way equally likely."""
    spec = item(
        "matching",
        {"p": "a", "q": "b"},
        prompts={"p": "P", "q": "Q"},
        options={"a": "A", "b": "B", "c": "C (spare)"},
    )
    kind = get_item_type(spec.type)
    ways = [dict(zip("pq", pick, strict=True)) for pick in itertools.product("abc", repeat=2)]
    mean = math.fsum(kind.score(spec, way, "nb") for way in ways) / len(ways)
    assert kind.random_guess_score(spec) == pytest.approx(mean) == pytest.approx(1 / 3)


@pytest.mark.parametrize("grading", GRADINGS)
def test_ordering_guess_is_counted_over_every_order(grading: str) -> None:
    for steps in range(2, 8):
        # The closed forms agree with counting every order.
        assert expected_guess(steps, grading) == pytest.approx(counted_guess(steps, grading))
    # Counted by hand for three steps, orders abc acb bac bca cab cba against the key abc.
    by_hand = {
        "all_or_nothing": 1 / 6,  # only abc
        "absolute_position": (3 + 1 + 1 + 0 + 0 + 1) / 18,
        "relative_next_exclude_last": (2 + 0 + 0 + 1 + 1 + 0) / 12,  # a→b, b→c
        "relative_next_include_last": (3 + 0 + 1 + 1 + 1 + 0) / 18,  # and c last
        # the key's neighbours ("" at the ends) kept, 6 to keep per order
        "relative_one_previous_and_next": (6 + 1 + 1 + 2 + 2 + 0) / 36,
        "relative_all_previous_and_next": 1 / 2,
        "longest_ordered_subset": (3 + 2 + 2 + 2 + 2 + 0) / 18,
        "longest_contiguous_subset": (3 + 2 + 2 + 2 + 2 + 0) / 18,
        # per step 2 minus its distance from its place, over n(n − 1) = 6 per order
        "relative_to_correct": (6 + 4 + 4 + 2 + 2 + 2) / 36,
    }
    assert expected_guess(3, grading) == pytest.approx(by_hand[grading])


def test_ordering_guess_with_many_steps() -> None:
    assert expected_guess(12, "absolute_position") == 1 / 12
    assert expected_guess(12, "relative_all_previous_and_next") == 0.5
    assert expected_guess(COUNTED_STEPS + 1, "longest_ordered_subset") is None  # too many orders
    assert expected_guess(COUNTED_STEPS, "longest_ordered_subset") == pytest.approx(0.471289, 1e-5)
