"""Standard setting (modified Angoff): every figure checked against values worked out by hand."""

from __future__ import annotations

import math
from datetime import date

import pytest

from elearn.domain.content import BlueprintEntry, PassRules
from elearn.domain.standard_setting import (
    MIN_RESPONSES,
    RatingsFile,
    StudyInfo,
    check_ratings_file,
    effective_ratings,
    final_ratings,
    icc_consistency,
    item_ratings,
    observed_facility,
    parse_rating,
    rating_steps,
    spread,
    study_result,
)

# A form draws 2 items of topic A and 1 of topic B; A is a key topic (80 %), the cut is 70 %.
BLUEPRINT = [BlueprintEntry(topic="a", items=2), BlueprintEntry(topic="b", items=1)]
RULES = PassRules(overall_percent=70, topics={"a": 80})
ITEMS = [("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("b2", "b")]
# Final ratings of three panellists:
#          a1    a2    a3    b1    b2
#   P    0.60  0.70  0.80  0.50  0.60
#   Q    0.70  0.80  0.90  0.60  0.70
#   R    0.50  0.60  0.70  0.40  0.60
TABLE = {
    "P": (0.60, 0.70, 0.80, 0.50, 0.60),
    "Q": (0.70, 0.80, 0.90, 0.60, 0.70),
    "R": (0.50, 0.60, 0.70, 0.40, 0.60),
}
RATINGS = {(p, key): v for p, row in TABLE.items() for (key, _), v in zip(ITEMS, row, strict=True)}

# Worked by hand:
#   item means  a1 0.6, a2 0.7, a3 0.8, b1 0.5, b2 (0.6 + 0.7 + 0.6) / 3 = 0.63333
#   item SDs    0.1 each but b2: deviations −1/30, 2/30, −1/30 → √((1 + 4 + 1) / 900 / 2) = 0.057735
#   topic means A (0.6 + 0.7 + 0.8) / 3 = 0.7;  B (0.5 + 0.63333) / 2 = 0.56667
#   cut         100 × (2 × 0.7 + 1 × 0.56667) / 3 = 100 × 1.96667 / 3 = 65.5556 %
#   own cuts    P: A 0.7, B 0.55 → (1.4 + 0.55) / 3 = 65 %;  Q: A 0.8, B 0.65 → 75 %;
#               R: A 0.6, B 0.5 → (1.2 + 0.5) / 3 = 56.6667 %   (their mean is the cut, 590/9)
#   SD of cuts  deviations −5/9, 85/9, −80/9 → √((25 + 7225 + 6400) / 81 / 2) = √6825 / 9 = 9.17929
#   SE          9.17929 / √3 = 5.29966
#   ICC(C,1)    in units of 1/150 (grand mean 97): row deviations −7, 8, 23, −22, −2 → SSR = 3 × 1130;
#               column means 96, 111, 84 → SSC = 5 × 366 = 1830; SST = 5340; SSE = 5340 − 3390 − 1830
#               = 120; MSR = 3390 / 4 = 847.5, MSE = 120 / 8 = 15;
#               ICC = (847.5 − 15) / (847.5 + 2 × 15) = 832.5 / 877.5 = 37/39 = 0.948718
CUT = 100 * (2 * 0.7 + (0.5 + 1.9 / 3) / 2) / 3


def test_the_recommended_cut_and_its_standard_error_match_the_hand_computation() -> None:
    result = study_result(
        blueprint=BLUEPRINT, rules=RULES, items=ITEMS, ratings=RATINGS, panellists=list(TABLE)
    )
    assert result.cut == pytest.approx(65.5556, abs=1e-4) and result.cut == pytest.approx(CUT)
    assert [p.cut for p in result.panellists] == pytest.approx([65.0, 75.0, 56.6667], abs=1e-4)
    assert result.counted == 3 and [p.rated for p in result.panellists] == [5, 5, 5]
    assert result.cut_sd == pytest.approx(math.sqrt(6825) / 9) == pytest.approx(9.17929, abs=1e-5)
    assert result.standard_error == pytest.approx(5.29966, abs=1e-5)
    assert result.icc == pytest.approx(37 / 39) and result.icc_items == 5


def test_unequal_maximum_marks_weigh_the_cut_as_scoring_does() -> None:
    """a1 worth 2 marks, b2 worth 3, the rest 1. Worked by hand:
    topic A: mean mark (2 + 1 + 1) / 3 = 4/3; weighted mean (2·0.6 + 0.7 + 0.8) / 4 = 0.675
    topic B: mean mark (1 + 3) / 2 = 2;      weighted mean (0.5 + 3·0.63333) / 4 = 0.6
    cut 100 × (2·4/3·0.675 + 1·2·0.6) / (2·4/3 + 1·2) = 100 × 3 / (14/3) = 64.2857 %
    P: A (1.2 + 0.7 + 0.8) / 4 = 0.675, B (0.5 + 1.8) / 4 = 0.575 → 100 × (1.8 + 1.15) / (14/3)
       = 63.2143 %"""
    result = study_result(
        blueprint=BLUEPRINT,
        rules=RULES,
        items=ITEMS,
        ratings=RATINGS,
        panellists=list(TABLE),
        marks={"a1": 2.0, "b2": 3.0},
    )
    topics = {t.topic: t.mean for t in result.topics}
    assert topics == pytest.approx({"a": 0.675, "b": 0.6})
    assert result.cut == pytest.approx(100 * 3 / (14 / 3)) == pytest.approx(64.2857, abs=1e-4)
    assert result.panellists[0].cut == pytest.approx(63.2143, abs=1e-4)
    # every mark 1: the same as without marks
    plain = study_result(
        blueprint=BLUEPRINT, rules=RULES, items=ITEMS, ratings=RATINGS, panellists=list(TABLE)
    )
    ones = study_result(
        blueprint=BLUEPRINT,
        rules=RULES,
        items=ITEMS,
        ratings=RATINGS,
        panellists=list(TABLE),
        marks=dict.fromkeys(("a1", "a2", "a3", "b1", "b2"), 1.0),
    )
    assert ones.cut == pytest.approx(plain.cut)


def test_items_and_topics_of_the_final_round() -> None:
    result = study_result(
        blueprint=BLUEPRINT, rules=RULES, items=ITEMS, ratings=RATINGS, panellists=list(TABLE)
    )
    means = [r.mean for r in result.items]
    assert means == pytest.approx([0.6, 0.7, 0.8, 0.5, 0.633333], abs=1e-6)
    assert [r.sd for r in result.items] == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.057735], abs=1e-6)
    assert [r.n for r in result.items] == [3] * 5
    a, b = result.topics
    # Key topic A: a minimally competent candidate is expected at 70 %, below its 80 % rule.
    assert (a.topic, a.drawn, a.rated, a.items, a.key) == ("a", 2, 3, 3, True)
    assert a.percent == pytest.approx(70.0) and a.required == 80 and a.below_rule
    assert b.percent == pytest.approx(56.6667, abs=1e-4) and not b.key and not b.below_rule
    assert item_ratings(result) == {"a1": 0.6, "a2": 0.7, "a3": 0.8, "b1": 0.5, "b2": 0.6333}


def test_a_panellist_who_left_a_topic_unrated_has_no_cut_of_their_own() -> None:
    # R rated only topic A. Item means: a* as before, b1 (0.5 + 0.6) / 2 = 0.55,
    # b2 (0.6 + 0.7) / 2 = 0.65 → B 0.6; cut 100 × (1.4 + 0.6) / 3 = 66.6667 %.
    # Own cuts P 65, Q 75 → SD = √((5² + 5²) / 1) = 7.0711, SE = 7.0711 / √2 = 5.
    ratings = {k: v for k, v in RATINGS.items() if not (k[0] == "R" and k[1].startswith("b"))}
    result = study_result(
        blueprint=BLUEPRINT, rules=RULES, items=ITEMS, ratings=ratings, panellists=list(TABLE)
    )
    assert result.cut == pytest.approx(66.6667, abs=1e-4)
    assert [p.cut for p in result.panellists][:2] == pytest.approx([65.0, 75.0])
    assert result.panellists[2].cut is None and result.panellists[2].rated == 3
    assert result.counted == 2
    assert result.cut_sd == pytest.approx(7.0711, abs=1e-4)
    assert result.standard_error == pytest.approx(5.0)
    assert result.icc_items == 3  # only a1..a3 were rated by everyone


def test_no_cut_while_a_topic_has_no_rating_at_all() -> None:
    ratings = {k: v for k, v in RATINGS.items() if k[1].startswith("a")}
    result = study_result(
        blueprint=BLUEPRINT, rules=RULES, items=ITEMS, ratings=ratings, panellists=list(TABLE)
    )
    assert result.cut is None and result.topics[1].mean is None
    assert result.cut_sd is None and result.standard_error is None and result.counted == 0


def test_one_panellist_gives_a_cut_but_no_spread() -> None:
    only_p = {k: v for k, v in RATINGS.items() if k[0] == "P"}
    result = study_result(
        blueprint=BLUEPRINT, rules=RULES, items=ITEMS, ratings=only_p, panellists=["P"]
    )
    assert result.cut == pytest.approx(65.0)
    assert result.cut_sd is None and result.icc is None
    assert all(r.sd is None for r in result.items)


def test_icc_is_one_for_a_panel_that_differs_only_in_leniency_and_none_without_spread() -> None:
    assert icc_consistency([[0.5, 0.6], [0.7, 0.8], [0.9, 1.0]]) == pytest.approx(1.0)
    assert icc_consistency([[0.5, 0.5], [0.5, 0.5]]) is None
    # One panellist rates all alike, the other splits them: no consistency, and exactly 0.
    # MSR = 2 × 4 × 0.025² / 3, MSE = MSR: (MSR − MSE) / (MSR + MSE) = 0.
    assert icc_consistency([[0.7, 0.7], [0.7, 0.7], [0.7, 0.6], [0.7, 0.6]]) == 0.0
    assert icc_consistency([[0.5, 0.6]]) is None and icc_consistency([]) is None


def test_round_two_ratings_replace_round_one_where_given() -> None:
    one = {("P", "a1"): 0.6, ("P", "a2"): 0.7, ("Q", "a1"): 0.9}
    two = {("Q", "a1"): 0.75}
    assert final_ratings(one, two) == {("P", "a1"): 0.6, ("P", "a2"): 0.7, ("Q", "a1"): 0.75}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", None),
        (" ", None),
        ("0", 0.0),
        ("0.65", 0.65),
        ("0.650", 0.65),
        ("1", 1.0),
        ("1.00", 1.0),
    ],
)
def test_a_rating_is_a_probability_in_steps_of_0_05(text: str, value: float | None) -> None:
    assert parse_rating(text) == value


@pytest.mark.parametrize("text", ["0.63", "1.05", "-0.05", "65", "nan", "inf", "abc", "0,65"])
def test_anything_else_is_no_rating(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rating(text)


def test_the_steps_offered() -> None:
    steps = rating_steps()
    assert len(steps) == 21 and steps[0] == 0.0 and steps[13] == 0.65 and steps[-1] == 1.0


def test_spread_of_round_one_without_names() -> None:
    found = spread([0.7, 0.5, 0.65, 0.8])
    assert found is not None
    assert found.values == (0.5, 0.65, 0.7, 0.8) and found.n == 4
    assert (found.low, found.median, found.high) == (0.5, pytest.approx(0.675), 0.8)
    assert spread([]) is None


def test_observed_facility_needs_enough_responses() -> None:
    assert observed_facility(MIN_RESPONSES - 1, 0.8) is None
    assert observed_facility(MIN_RESPONSES, 0.8) == 0.8
    assert observed_facility(100, None) is None


def _file(study_id: str, closed: date, ratings: dict[str, float]) -> RatingsFile:
    info = StudyInfo(id=study_id, exam="x", closed=closed, panellists=3, rounds=2)
    return RatingsFile(study=info, ratings=ratings)


def test_a_ratings_file_names_known_items_and_its_own_file() -> None:
    ratings = _file("x-study-1", date(2026, 1, 5), {"a1": 0.6, "zz": 0.5})
    problems = check_ratings_file(ratings, "x-study-2", ["a1", "a2"])
    assert [(p.loc, p.message) for p in problems] == [
        (("study", "id"), "study id 'x-study-1' differs from file 'x-study-2'"),
        (("ratings", "zz"), "unknown item 'zz' (not in this bank)"),
    ]
    assert check_ratings_file(ratings, "x-study-1", ["a1", "zz"]) == []


def test_the_newest_study_wins_an_item_two_studies_rated() -> None:
    old = _file("x-study-1", date(2026, 1, 5), {"a1": 0.6, "a2": 0.7})
    new = _file("x-study-2", date(2026, 6, 1), {"a1": 0.75})
    found = effective_ratings([(new, "new.yaml"), (old, "old.yaml")])
    assert found["a1"].rating == 0.75 and found["a1"].study.id == "x-study-2"
    assert found["a1"].path == "new.yaml"
    assert found["a2"].rating == 0.7 and found["a2"].study.id == "x-study-1"
