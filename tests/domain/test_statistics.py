"""Item analysis as Moodle defines it, checked against values worked out by hand."""

from __future__ import annotations

import csv
import io
import json
import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elearn.domain.statistics import (
    FLAG_EASY,
    FLAG_HARD,
    FLAG_NEGATIVE,
    FLAG_WEAK,
    ItemStatistics,
    MarksFileError,
    TestStatistics,
    analyse,
    items_csv,
    read_marks_csv,
    summary_dict,
)

ITEMS = ["q1", "q2", "q3", "q4"]
# Six attempts (A..F) on four items, marks as fractions of each item's maximum.
MARKS: list[list[float | None]] = [
    [1, 1, 1, 1],  # A: X = 4
    [1, 1, 0.5, 1],  # B: X = 3.5
    [1, 0.5, 1, 0],  # C: X = 2.5
    [0.5, 1, 0, 0.25],  # D: X = 1.75
    [1, 0, 0.5, 0],  # E: X = 1.5
    [0, 0.25, 0, 0],  # F: X = 0.25
]

# ---------------------------------------------------------------------------------------------
# Worked by hand from raw sums, N = 6, k = 4, (N − 1) = 5 in every variance and covariance:
#   V(a) = (Σa² − (Σa)²/N) / (N − 1),   C(a, b) = (Σab − Σa·Σb/N) / (N − 1).
#
# Item q1: x = (1, 1, 1, 0.5, 1, 0)
#   Σx = 4.5, Σx² = 4.25
#   Facility F = 4.5 / 6 = 0.75
#   V(x) = (4.25 − 4.5²/6) / 5 = (4.25 − 3.375) / 5 = 0.175;  SD = √0.175 = 0.418330
#   Rest of test y = X − x = (3, 2.5, 1.5, 1.25, 0.5, 0.25)
#   Σy = 9, Σy² = 9 + 6.25 + 2.25 + 1.5625 + 0.25 + 0.0625 = 19.375
#   V(y) = (19.375 − 81/6) / 5 = (19.375 − 13.5) / 5 = 1.175
#   Σxy = 3 + 2.5 + 1.5 + 0.625 + 0.5 + 0 = 8.125
#   C(x, y) = (8.125 − 4.5·9/6) / 5 = (8.125 − 6.75) / 5 = 0.275
#   D = 100 · 0.275 / √(0.175 · 1.175) = 100 · 0.275 / √0.205625 = 27.5 / 0.453459 = 60.6450
#   Sorted alike: x↑ = (0, 0.5, 1, 1, 1, 1), y↑ = (0.25, 0.5, 1.25, 1.5, 2.5, 3)
#   Σx↑y↑ = 0 + 0.25 + 1.25 + 1.5 + 2.5 + 3 = 8.5
#   C_max = (8.5 − 6.75) / 5 = 0.35;  DE = 100 · 0.275 / 0.35 = 78.5714
#
# Effective weight needs C(x_i, X) for every item; ΣX = 13.5, so Σx·ΣX/N = Σx · 2.25:
#   q1: Σx = 4.5,  ΣxX = Σx² + Σxy = 4.25 + 8.125 = 12.375;  C = (12.375 − 10.125) / 5 = 0.45
#   q2: Σx = 3.75, ΣxX = 1 + 3.5 + 1.25 + 1.75 + 0 + 0.0625 = 10.5625
#                                          C = (10.5625 − 8.4375) / 5 = 0.425
#   q3: Σx = 3,    ΣxX = 4 + 1.75 + 2.5 + 0 + 0.75 + 0 = 9;       C = (9 − 6.75) / 5 = 0.45
#   q4: Σx = 2.25, ΣxX = 4 + 3.5 + 0 + 0.4375 + 0 + 0 = 7.9375;   C = (7.9375 − 5.0625) / 5 = 0.575
#   √C: 0.670820, 0.651920, 0.670820, 0.758288;  Σ√C = 2.751848
#   EW_q1 = 100 · 0.670820 / 2.751848 = 24.3771
#
# Test: X = (4, 3.5, 2.5, 1.75, 1.5, 0.25) out of k = 4
#   ΣX = 13.5, ΣX² = 16 + 12.25 + 6.25 + 3.0625 + 2.25 + 0.0625 = 39.875
#   mean = 13.5 / 6 = 2.25 → 100 · 2.25 / 4 = 56.25 %
#   median: percentages sorted 6.25, 37.5, 43.75, 62.5, 87.5, 100 → (43.75 + 62.5) / 2 = 53.125 %
#   V(X) = (39.875 − 13.5²/6) / 5 = (39.875 − 30.375) / 5 = 1.9
#   SD = √1.9 = 1.378405 marks → 100 · 1.378405 / 4 = 34.4601 %
#   Deviations d = X − 2.25 = (1.75, 1.25, 0.25, −0.5, −0.75, −2)
#   Σd² = 3.0625 + 1.5625 + 0.0625 + 0.25 + 0.5625 + 4 = 9.5
#   Σd³ = 5.359375 + 1.953125 + 0.015625 − 0.125 − 0.421875 − 8 = −1.21875
#   Σd⁴ = 9.37890625 + 2.44140625 + 0.00390625 + 0.0625 + 0.31640625 + 16 = 28.203125
#   m2 = 9.5/6 = 1.583333, m3 = −1.21875/6 = −0.203125, m4 = 28.203125/6 = 4.700521
#   k2 = N·m2/(N − 1) = 1.9
#   k3 = N²·m3 / ((N − 1)(N − 2)) = 36 · −0.203125 / 20 = −0.365625
#   k4 = N²·((N + 1)·m4 − 3(N − 1)·m2²) / ((N − 1)(N − 2)(N − 3))
#      = 36 · (7 · 4.700521 − 15 · 2.506944) / 60 = 0.6 · (32.903646 − 37.604167) = −2.820313
#   skewness = k3 / k2^1.5 = −0.365625 / 2.618969 = −0.139606   (the same on the percent scale)
#   kurtosis = k4 / k2² = −2.820313 / 3.61 = −0.781250
#   Item variances: q1 0.175; q2 (Σx² = 3.3125): (3.3125 − 2.34375)/5 = 0.19375;
#                   q3 (Σx² = 2.5): (2.5 − 1.5)/5 = 0.2; q4 (Σx² = 2.0625): (2.0625 − 0.84375)/5
#                   = 0.24375;  ΣV(x_i) = 0.8125
#   alpha = k/(k − 1) · (1 − ΣV(x_i)/V(X)) = 4/3 · (1 − 0.8125/1.9) = 4/3 · 0.572368 = 0.763158
#   ER = 100 · √(1 − 0.763158) = 100 · √0.236842 = 48.6664 %
#   SE = ER/100 · SD = 0.486664 · 34.4601 = 16.7705 %
# ---------------------------------------------------------------------------------------------
HAND_Q1 = {
    "facility": 0.7500,
    "sd": 0.4183,
    "discrimination_index": 60.6450,
    "discriminative_efficiency": 78.5714,
    "effective_weight": 24.3771,
}
HAND_TEST = {
    "mean": 56.2500,
    "median": 53.1250,
    "sd": 34.4601,
    "skewness": -0.1396,
    "kurtosis": -0.7813,
    "alpha": 0.7632,
    "error_ratio": 48.6664,
    "standard_error": 16.7705,
}
# The other items, worked the same way (facility, D, DE, EW); listed so every item is checked.
HAND_OTHERS = {
    # q2: F = 3.75/6; V(y) = 1.24375, C(x,y) = 0.23125, C_max = 0.46875
    "q2": (0.6250, 47.1080, 49.3333, 23.6903),
    # q3: F = 3/6; V(y) = 1.2, C(x,y) = 0.25, C_max = 0.475
    "q3": (0.5000, 51.0310, 52.6316, 24.3771),
    # q4: F = 2.25/6; V(y) = 0.99375, C(x,y) = 0.33125, C_max = 0.38125
    "q4": (0.3750, 67.3046, 86.8852, 27.5556),
}


def close(value: float | None, expected: float) -> bool:
    return value is not None and abs(value - expected) <= 1e-4


def by_item(stats: list[ItemStatistics]) -> dict[str, ItemStatistics]:
    return {s.item: s for s in stats}


def test_item_statistics_match_the_hand_worked_values() -> None:
    stats, _ = analyse(ITEMS, MARKS)
    q1 = by_item(stats)["q1"]
    assert q1.n == 6
    for name, expected in HAND_Q1.items():
        assert close(getattr(q1, name), expected), (name, getattr(q1, name), expected)
    assert abs((q1.sd or 0) - math.sqrt(0.175)) < 1e-12
    for item, (facility, d, de, ew) in HAND_OTHERS.items():
        s = by_item(stats)[item]
        assert close(s.facility, facility)
        assert close(s.discrimination_index, d)
        assert close(s.discriminative_efficiency, de)
        assert close(s.effective_weight, ew)
    assert close(sum(s.effective_weight or 0 for s in stats), 100.0)
    assert all(s.flags == () for s in stats)


def test_test_statistics_match_the_hand_worked_values() -> None:
    _, test = analyse(ITEMS, MARKS)
    assert test.n_attempts == 6
    for name, expected in HAND_TEST.items():
        assert close(getattr(test, name), expected), (name, getattr(test, name), expected)


def test_one_attempt_gives_none_for_every_spread_statistic() -> None:
    stats, test = analyse(["a", "b"], [[1, 0.5]])
    assert [(s.n, s.facility) for s in stats] == [(1, 1.0), (1, 0.5)]
    for s in stats:
        assert s.sd is None
        assert s.discrimination_index is None
        assert s.discriminative_efficiency is None
        assert s.effective_weight is None
    assert test == TestStatistics(1, 75.0, 75.0, None, None, None, None, None, None)


def test_no_attempts_at_all() -> None:
    stats, test = analyse(["a"], [])
    assert stats == [ItemStatistics("a", 0, None, None, None, None, None, ())]
    assert test == TestStatistics(0, None, None, None, None, None, None, None, None)


def test_two_and_three_attempts_define_only_what_their_formulas_allow() -> None:
    _, two = analyse(["a", "b"], [[1, 1], [0, 0.5]])
    assert two.sd is not None and two.skewness is None and two.kurtosis is None
    assert two.alpha is not None  # alpha only needs a variance
    _, three = analyse(["a", "b"], [[1, 1], [0, 0.5], [0, 0]])
    assert three.skewness is not None and three.kurtosis is None


def test_an_item_everyone_got_right_has_no_discrimination_and_no_weight() -> None:
    stats, _ = analyse(["easy", "q"], [[1, 1], [1, 0], [1, 0.5]])
    easy = stats[0]
    assert (easy.facility, easy.sd) == (1.0, 0.0)
    assert easy.discrimination_index is None
    assert easy.discriminative_efficiency is None
    assert easy.effective_weight == 0.0  # no covariance with the total: it spreads nothing
    assert easy.flags == (FLAG_EASY,)
    assert stats[1].effective_weight == pytest.approx(100.0)


def test_all_totals_equal_gives_none_not_an_error() -> None:
    stats, test = analyse(["a", "b"], [[1, 0], [0, 1], [1, 0]])
    assert test.sd == 0.0
    assert test.skewness is None and test.kurtosis is None
    assert test.alpha is None and test.error_ratio is None and test.standard_error is None
    # Each item is the exact opposite of the rest of the test, and neither covaries with the total.
    assert stats[0].discrimination_index == pytest.approx(-100.0)
    assert [s.effective_weight for s in stats] == [None, None]


def test_rounding_dust_is_not_spread() -> None:
    # 0.1 + 0.2 and 0.3 + 0.0 differ in the last bit; the totals are still equal.
    _, test = analyse(["a", "b"], [[0.1, 0.2], [0.2, 0.1], [0.3, 0.0], [0.0, 0.3]])
    assert test.sd == pytest.approx(0.0, abs=1e-9)
    assert test.skewness is None and test.kurtosis is None and test.alpha is None


def test_missing_cells_use_only_the_attempts_that_had_the_item() -> None:
    # Random two-item forms from a pool of three; the last attempt had no items at all.
    marks: list[list[float | None]] = [
        [1, 1, None],  # total 2
        [0, None, 1],  # total 1
        [None, 0.5, 0],  # total 0.5
        [1, None, 0.5],  # total 1.5
        [None, 1, 1],  # total 2
        [0.5, 0, None],  # total 0.5
        [None, None, None],  # ignored everywhere
    ]
    stats, test = analyse(["a", "b", "c"], marks)
    a = by_item(stats)["a"]
    assert a.n == 4
    assert a.facility == pytest.approx((1 + 0 + 1 + 0.5) / 4)
    assert a.sd == pytest.approx(statistics.stdev([1, 0, 1, 0.5]))
    # Rest of test: the attempt's total over the items it had, minus this item.
    x, rest = [1, 0, 1, 0.5], [1, 1, 0.5, 0]
    assert a.discrimination_index == pytest.approx(100 * statistics.correlation(x, rest))
    sorted_cov = statistics.covariance(sorted(x), sorted(rest))
    assert a.discriminative_efficiency == pytest.approx(
        100 * statistics.covariance(x, rest) / sorted_cov
    )
    assert [s.n for s in stats] == [4, 4, 4]
    # Test level: each attempt's total as a percent of the items it had.
    percents = [100, 50, 25, 75, 100, 25]
    assert test.n_attempts == 6
    assert test.mean == pytest.approx(statistics.mean(percents))
    assert test.median == pytest.approx(statistics.median(percents))
    assert test.sd == pytest.approx(statistics.stdev(percents))
    # Alpha assumes every attempt sat the same items; random forms do not.
    assert test.alpha is None and test.error_ratio is None and test.standard_error is None


def test_an_item_no_attempt_had_is_left_out_of_alpha() -> None:
    with_unused = [[*row, None] for row in MARKS]
    stats, test = analyse([*ITEMS, "unused"], with_unused)
    _, plain = analyse(ITEMS, MARKS)
    assert stats[-1] == ItemStatistics("unused", 0, None, None, None, None, None, ())
    assert test == plain


FLAG_ITEMS = ["c1", "c2", "c3", "hard", "easy", "neg", "weak"]
FLAG_MARKS: list[list[float | None]] = [
    # c1, c2, c3 follow ability; hard: only the two best; easy: everyone; neg: the weakest;
    # weak: half of everyone, barely related to ability.
    [1, 1, 1, 1, 1, 0, 0],
    [1, 1, 1, 1, 1, 0, 1],
    [1, 1, 0.5, 0, 1, 0, 0],
    [1, 1, 1, 0, 1, 0, 1],
    [1, 0.5, 0, 0, 1, 0, 1],
    [0.5, 0.5, 0.5, 0, 1, 0, 1],
    [0.5, 0.5, 0.5, 0, 1, 1, 0],
    [0, 0, 0, 0, 1, 0, 0],
    [0, 0, 0.5, 0, 1, 1, 1],
    [0, 0, 0, 0, 1, 1, 0],
]


def test_flags() -> None:
    stats = by_item(analyse(FLAG_ITEMS, FLAG_MARKS)[0])
    assert {item: s.flags for item, s in stats.items()} == {
        "c1": (),
        "c2": (),
        "c3": (),
        "hard": (FLAG_HARD,),
        "easy": (FLAG_EASY,),
        "neg": (FLAG_NEGATIVE,),  # facility exactly 0.3 is not "< 0.3"
        "weak": (FLAG_WEAK,),
    }
    assert stats["neg"].facility == 0.3
    assert 0 <= (stats["weak"].discrimination_index or -1) < 20
    assert stats["neg"].effective_weight is None  # negative covariance with the total
    assert (FLAG_HARD, FLAG_EASY, FLAG_WEAK, FLAG_NEGATIVE) == (
        "facility < 0.3",
        "facility > 0.9",
        "discrimination < 0.2",
        "negative discrimination",
    )


def test_facility_of_exactly_0_9_is_not_flagged() -> None:
    marks: list[list[float | None]] = [[1.0, 1.0] for _ in range(9)]
    marks.append([0.0, 0.0])
    stats, _ = analyse(["a", "b"], marks)
    assert stats[0].facility == 0.9
    assert FLAG_EASY not in stats[0].flags


def test_a_hard_item_can_also_discriminate_badly() -> None:
    stats, _ = analyse(["core", "odd"], [[1, 0], [1, 0], [0, 1], [0, 0], [0, 0]])
    assert stats[1].flags == (FLAG_HARD, FLAG_NEGATIVE)


def test_analyse_refuses_a_matrix_that_does_not_fit() -> None:
    with pytest.raises(ValueError, match="2 marks for 3 items"):
        analyse(["a", "b", "c"], [[1, 0]])
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        analyse(["a"], [[1.5]])
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        analyse(["a"], [[math.nan]])
    with pytest.raises(ValueError, match="unique"):
        analyse(["a", "a"], [[1, 0]])


# --- maximum marks ------------------------------------------------------------------------------
# Items a, b and c are worth 1, 2 and 0 marks. Fractions per attempt (A..E), and in marks:
MAXED_ITEMS = ["a", "b", "c"]
MAXED_MARKS = [1.0, 2.0, 0.0]
MAXED: list[list[float | None]] = [
    [1, 1, 1],  # A: x_a = 1, x_b = 2,   x_c = 0 → X = 3
    [1, 0.5, 0],  # B: 1, 1,   0 → X = 2
    [0, 0.5, 1],  # C: 0, 1,   0 → X = 1
    [1, 0.25, 0],  # D: 1, 0.5, 0 → X = 1.5
    [0, 0, 1],  # E: 0, 0,   0 → X = 0
]
# -----------------------------------------------------------------------------------------------
# Worked by hand with Moodle's formulas on marks (qas.fraction × maxmark), N = 5, (N − 1) = 4.
# c is worth 0: it adds nothing to any total and is left out of every statistic but its count.
#
# a: x = (1, 1, 0, 1, 0), Σx = 3, Σx² = 3, V(x_a) = (3 − 9/5)/4 = 0.3
#    facility = mean mark / max mark = 0.6 / 1 = 0.6;  SD = √0.3 / 1 = 0.547723
# b: x = (2, 1, 1, 0.5, 0), Σx = 4.5, Σx² = 6.25, V(x_b) = (6.25 − 20.25/5)/4 = 0.55
#    facility = (4.5/5) / 2 = 0.45;  SD = √0.55 / 2 = 0.741620 / 2 = 0.370810
# The rest of the test of a is x_b and that of b is x_a (c adds 0):
#    Σ x_a x_b = 2 + 1 + 0 + 0.5 + 0 = 3.5,  C(x_a, x_b) = (3.5 − 3 · 4.5/5)/4 = 0.2
#    D_a = D_b = 100 · 0.2 / √(0.3 · 0.55) = 20 / 0.406202 = 49.2366
#    sorted alike: (0, 0, 1, 1, 1) with (0, 0.5, 1, 1, 2): Σ = 4, C_max = (4 − 2.7)/4 = 0.325
#    DE_a = DE_b = 100 · 0.2 / 0.325 = 61.5385
# Totals X = (3, 2, 1, 1.5, 0), ΣX = 7.5, ΣX² = 16.25, V(X) = (16.25 − 56.25/5)/4 = 1.25
#    C(x_a, X) = V(x_a) + C(x_a, x_b) = 0.5,  C(x_b, X) = 0.55 + 0.2 = 0.75
#    EW_a = 100 · √0.5 / (√0.5 + √0.75) = 70.7107 / 1.573132 = 44.9490;  EW_b = 55.0510
# Intended weight: max mark over the form's maximum 1 + 2 + 0 = 3: a 33.33 %, b 66.67 %, c 0 %.
# Test, in percent of the maximum 3: T = (100, 66.67, 33.33, 50, 0)
#    mean = 100 · 1.5 / 3 = 50 %;  median X = 1.5 → 50 %;  SD = 100 · √1.25 / 3 = 37.2678 %
#    deviations d = X − 1.5 = (1.5, 0.5, −0.5, 0, −1.5): Σd² = 5, Σd³ = 0, Σd⁴ = 10.25
#    m2 = 1, m3 = 0, m4 = 2.05;  k2 = 1.25, k3 = 0 → skewness 0
#    k4 = 25 · (6 · 2.05 − 3 · 4 · 1) / (4 · 3 · 2) = 25 · 0.3 / 24 = 0.3125
#    kurtosis = 0.3125 / 1.25² = 0.2
#    alpha over the k = 2 items that carry marks = 2/1 · (1 − (0.3 + 0.55)/1.25) = 0.64
#    ER = 100 · √(1 − 0.64) = 60 %;  SE = 0.6 · 37.2678 = 22.3607 %
# (Moodle counts a zero-mark slot in k, which would give 3/2 · 0.32 = 0.48: see the docs.)
# -----------------------------------------------------------------------------------------------
HAND_MAXED = {
    "a": (0.6, 0.547723, 49.2366, 61.5385, 44.9490, 1.0, 33.3333),
    "b": (0.45, 0.370810, 49.2366, 61.5385, 55.0510, 2.0, 66.6667),
}
HAND_MAXED_TEST = {
    "mean": 50.0,
    "median": 50.0,
    "sd": 37.2678,
    "skewness": 0.0,
    "kurtosis": 0.2,
    "alpha": 0.64,
    "error_ratio": 60.0,
    "standard_error": 22.3607,
}


def test_unequal_maximum_marks_match_the_hand_worked_values() -> None:
    stats, test = analyse(MAXED_ITEMS, MAXED, max_marks=MAXED_MARKS)
    for item, (facility, sd, d, de, ew, top, intended) in HAND_MAXED.items():
        s = by_item(stats)[item]
        assert s.n == 5 and s.max_mark == top and s.flags == ()
        got = (s.facility, s.sd, s.discrimination_index, s.discriminative_efficiency)
        for value, expected in zip(got, (facility, sd, d, de), strict=True):
            assert close(value, expected), (item, got)
        assert close(s.effective_weight, ew) and close(s.intended_weight, intended)
    for name, expected in HAND_MAXED_TEST.items():
        assert close(getattr(test, name), expected), (name, getattr(test, name), expected)
    assert test.n_attempts == 5


def test_a_zero_mark_item_is_counted_but_left_out_of_every_statistic() -> None:
    stats, test = analyse(MAXED_ITEMS, MAXED, max_marks=MAXED_MARKS)
    c = by_item(stats)["c"]
    assert c == ItemStatistics("c", 5, None, None, None, None, None, (), 0.0, 0.0)
    # Without c at all the figures are the same, but for each item's count of the test's items.
    without, plain = analyse(["a", "b"], [row[:2] for row in MAXED], max_marks=[1, 2])
    assert plain == test
    assert [s for s in stats if s.item != "c"] == without


def test_every_item_worth_one_is_the_same_as_no_maximum_marks() -> None:
    for items, marks in ((ITEMS, MARKS), (FLAG_ITEMS, FLAG_MARKS), (list("1234567"), MOODLE_00)):
        assert analyse(items, marks, max_marks=[1.0] * len(items)) == analyse(items, marks)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0, None]), min_size=4, max_size=4),
        min_size=0,
        max_size=12,
    ),
    st.sampled_from([0.5, 2.0, 3.0, 10.0]),
)
def test_the_same_maximum_mark_on_every_item_changes_no_figure(
    marks: list[list[float | None]], worth: float
) -> None:
    """Facility and SD are fractions of the maximum, the indices are ratios, the test's figures
    percentages: scaling every item alike leaves them all as they were."""
    scaled, scaled_test = analyse(ITEMS, marks, max_marks=[worth] * 4)
    plain, plain_test = analyse(ITEMS, marks)

    def same(a: float | None, b: float | None) -> bool:
        if a is None or b is None:
            return a is b
        # the effective weight takes the square root of a covariance: rounding noise of 1e-14
        # in a covariance that should be 0 is 1e-7 in its root, and more after scaling
        return math.isclose(a, b, abs_tol=1e-5)

    numbers = ("facility", "sd", "discrimination_index", "discriminative_efficiency")
    for a, b in zip(scaled, plain, strict=True):
        assert a.max_mark == worth and a.n == b.n
        for name in (*numbers, "effective_weight", "intended_weight"):
            assert same(getattr(a, name), getattr(b, name)), (name, a, b)
    for name in SUMMARY_FIELDS:
        assert same(getattr(scaled_test, name), getattr(plain_test, name)), name


SUMMARY_FIELDS = (
    "n_attempts", "mean", "median", "sd", "skewness", "kurtosis", "alpha", "error_ratio",
    "standard_error",
)  # fmt: skip


def test_an_item_whose_maximum_mark_differs_between_forms() -> None:
    # q was worth 1 on the first two forms and 3 on the last two (a new version of it).
    stats, _ = analyse(
        ["q", "r"],
        [[1, 1], [0, 1], [1, 0], [0.5, 0]],
        cell_max_marks=[[1, 1], [1, 1], [3, 1], [3, 1]],
    )
    q = stats[0]
    # Facility is the marks earned over the marks available: (1 + 0 + 3 + 1.5) / (1 + 1 + 3 + 3).
    assert q.facility == pytest.approx(5.5 / 8)
    assert q.max_mark == 2.0  # the mean over its forms
    assert q.intended_weight == pytest.approx((50 + 50 + 75 + 75) / 4)


def test_maximum_marks_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ValueError, match="2 maximum marks for 3 items"):
        analyse(["a", "b", "c"], [[1, 0, 1]], max_marks=[1, 2])
    with pytest.raises(ValueError, match="number ≥ 0"):
        analyse(["a"], [[1]], max_marks=[-1])
    with pytest.raises(ValueError, match="number ≥ 0"):
        analyse(["a"], [[1]], max_marks=[math.inf])
    with pytest.raises(ValueError, match="not both"):
        analyse(["a"], [[1]], max_marks=[1], cell_max_marks=[[1]])
    with pytest.raises(ValueError, match="1 rows of maximum marks for 2 attempts"):
        analyse(["a"], [[1], [0]], cell_max_marks=[[1]])
    with pytest.raises(ValueError, match="a mark without a maximum mark"):
        analyse(["a"], [[1]], cell_max_marks=[[None]])


# --- read_marks_csv ---------------------------------------------------------------------------

GOOD = '\ufeffattempt, q1 ,q2,"q,3"\nA1,1,0.5,\n\nA2, 0 ,,0.25\r\nA3,1.0,1,1\n'


def test_read_marks_csv_reads_a_good_file() -> None:
    items, attempts, marks = read_marks_csv(GOOD)
    assert items == ["q1", "q2", "q,3"]
    assert attempts == ["A1", "A2", "A3"]
    assert marks == [[1.0, 0.5, None], [0.0, None, 0.25], [1.0, 1.0, 1.0]]


def test_read_marks_csv_of_a_header_only_file_has_no_attempts() -> None:
    assert read_marks_csv("attempt,q1\n") == (["q1"], [], [])


def test_read_marks_csv_round_trips_into_analyse() -> None:
    rows = "\n".join(
        f"p{p}," + ",".join("" if m is None else str(m) for m in row) for p, row in enumerate(MARKS)
    )
    items, _, marks = read_marks_csv("attempt,q1,q2,q3,q4\n" + rows)
    assert analyse(items, marks) == analyse(ITEMS, MARKS)


HEAD = "attempt,q1,q2\na,1,0\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "the file is empty"),
        ("\n\n", 1, "the file is empty"),
        ("student,q1\na,1\n", 1, "the first column must be 'attempt'"),
        ("attempt\na\n", 1, "no item columns"),
        ("attempt,q1,,q3\n", 1, "column 3 has no item id"),
        ("attempt,q1,q1\n", 1, "duplicate item id 'q1'"),
        (HEAD + "b,1,x\n", 3, "item 'q2': 'x' is not a number"),
        (HEAD + "b,nan,1\n", 3, "item 'q1': 'nan' is not a number"),
        (HEAD + "b,1,inf\n", 3, "item 'q2': 'inf' is not a number"),
        (HEAD + "b,1,1.5\n", 3, "item 'q2': mark 1.5 is outside 0..1"),
        (HEAD + "b,-0.25,1\n", 3, "item 'q1': mark -0.25 is outside 0..1"),
        (HEAD + "b,1\n", 3, "expected 3 cells, found 2"),
        (HEAD + "b,1,0,1\n", 3, "expected 3 cells, found 4"),
        (HEAD + ",1,0\n", 3, "the attempt id is empty"),
        (HEAD + "\n\na,0,0\n", 5, "duplicate attempt id 'a' (first on line 2)"),
        (HEAD + "b," + "1" * 200_000 + ",0\n", 3, "field larger than field limit"),
    ],
)
def test_read_marks_csv_names_the_bad_line(text: str, line: int, message: str) -> None:
    with pytest.raises(MarksFileError) as caught:
        read_marks_csv(text)
    assert caught.value.line == line
    assert message in caught.value.message
    assert str(caught.value) == f"line {line}: {caught.value.message}"
    assert isinstance(caught.value, ValueError)


# --- output -----------------------------------------------------------------------------------


def test_items_csv_header_and_formatting() -> None:
    stats = [
        ItemStatistics("q1", 6, 0.75, 0.41833, 60.64496, 78.571428, 24.377082, ()),
        ItemStatistics("a,b", 1, 1.0, None, None, None, None, (FLAG_EASY,)),
    ]
    text = items_csv(stats)
    assert text.splitlines()[0] == (
        "item,n,facility,sd,discrimination_index,discriminative_efficiency,effective_weight"
    )
    assert list(csv.reader(io.StringIO(text)))[1:] == [
        ["q1", "6", "0.7500", "0.4183", "60.64", "78.57", "24.38"],
        ["a,b", "1", "1.0000", "", "", "", ""],
    ]
    assert text.endswith("\n")


def test_items_csv_of_the_worked_example() -> None:
    assert items_csv(analyse(ITEMS, MARKS)[0]).splitlines()[1:] == [
        "q1,6,0.7500,0.4183,60.64,78.57,24.38",
        "q2,6,0.6250,0.4402,47.11,49.33,23.69",
        "q3,6,0.5000,0.4472,51.03,52.63,24.38",
        "q4,6,0.3750,0.4937,67.30,86.89,27.56",
    ]


def test_summary_dict_keys_and_json() -> None:
    _, test = analyse(ITEMS, MARKS)
    summary = summary_dict(test)
    assert list(summary) == [
        "n_attempts",
        "mean",
        "median",
        "sd",
        "skewness",
        "kurtosis",
        "alpha",
        "error_ratio",
        "standard_error",
    ]
    assert summary["n_attempts"] == 6
    assert summary["alpha"] == test.alpha
    empty = summary_dict(analyse(["a"], [])[1])
    assert json.loads(json.dumps(empty)) == {**dict.fromkeys(summary), "n_attempts": 0}


# --- Moodle's own fixture ---------------------------------------------------------------------
# Moodle checks its quiz statistics with a walkthrough of 25 attempts at a 7-slot quiz, every slot
# worth 1 (mod/quiz/report/statistics/tests/fixtures/results00.csv for the marks, qstats00.csv and
# stats_from_steps_walkthrough_test.php for the expected figures, which its authors worked out in a
# spreadsheet). The one mark the fixture rounds to 0.3333333 is a third.
MOODLE_00: list[list[float | None]] = [
    [1, 1, 1, 1, 1, 0, 1],
    [1, 1, 1, 1, 0.5, 1, 0],
    [1, 1, 1, 1, 0.5, 0, 1],
    [0, 0, 1, 1, 1, 0, 0],
    [1, 0, 1, 0, 0, 1, 0.5],
    [1, 1, 1, 1, 0.5, 0, 0.5],
    [0, 1, 1, 1, 0.5, 1, 0.5],
    [1, 1, 1, 0, 0.5, 1, 0.5],
    [1, 0, 1, 1, 1, 1, 1],
    [0, 1, 1, 0, 0.5, 1, 0.5],
    [0.8, 0, 1, 1, 0.5, 1, 0.5],
    [1, 1, 1, 0, 0.5, 1, 1],
    [1, 0, 1, 1, 0.5, 1, 0.5],
    [1, 0, 1, 1, 1, 0, 0.5],
    [0, 0, 1, 1, 0, 1, 1],
    [1, 0, 1, 0, 0.5, 1, 1],
    [0.8, 0, 1, 1, 0.5, 0, 1],
    [1, 0, 1, 1, 0, 1, 0.5],
    [1, 0, 1, 1, 0.5, 0, 0.5],
    [0, 1, 1, 0, 0.5, 1, 0],
    [1, 1, 1 / 3, 1, 0.5, 0, 0.5],
    [1, 1, 1, 0, 0.5, 0, 0.5],
    [1, 1, 1, 1, 0, 1, 0.5],
    [0, 0, 1, 0, 0.5, 1, 1],
    [0, 0, 1, 1, 1, 1, 1],
]
# Per slot: facility, SD, discrimination index, discriminative efficiency, effective weight.
MOODLE_00_SLOTS = [
    (0.704, 0.4513682901, -7.0650767526, -9.4550536967, 21.2922742344),
    (0.48, 0.5099019514, -28.8982125772, -36.7834118938, 18.8979800309),
    (0.973333332, 0.13333334, -9.1230674268, -21.6545012165, 4.443012573),
    (0.68, 0.4760952286, -22.6306444113, -31.4411395613, 18.9347251357),
    (0.52, 0.3055050463, -17.6997047674, -21.1794802584, 11.1450138688),
    (0.64, 0.4898979486, -45.3785178421, -56.9365974439, 9.8081339177),
    (0.62, 0.331662479, -5.6543166602, -6.5043742058, 15.4788602394),
]
# The quiz: Moodle gives the mean, median, SD and SE in marks out of 7, the CIC in percent.
MOODLE_00_QUIZ = {
    "mean": 4.617333332,
    "median": 4.5,
    "sd": 0.8117265554,
    "skewness": -0.092502502,
    "kurtosis": -0.7073968557,
    "cic": -87.2230935542,
    "error_ratio": 136.8294900795,
    "standard_error": 1.1106813066,
}


def test_moodle_walkthrough_fixture_00() -> None:
    """Every figure within the tolerance Moodle's own test allows (relative 1e-5 or finer)."""
    stats, test = analyse([str(slot) for slot in range(1, 8)], MOODLE_00)
    for s, (facility, sd, d, de, ew) in zip(stats, MOODLE_00_SLOTS, strict=True):
        assert s.n == 25
        assert s.facility == pytest.approx(facility, rel=1e-6)
        assert s.sd == pytest.approx(sd, rel=1e-6)
        assert s.discrimination_index == pytest.approx(d, rel=1e-5)
        assert s.discriminative_efficiency == pytest.approx(de, rel=1e-5)
        assert s.effective_weight == pytest.approx(ew, rel=1e-5)
    out_of = 7 / 100  # our percentages back to Moodle's marks out of 7
    assert test.n_attempts == 25
    ours = {
        "mean": (test.mean or 0) * out_of,
        "median": (test.median or 0) * out_of,
        "sd": (test.sd or 0) * out_of,
        "skewness": test.skewness,
        "kurtosis": test.kurtosis,
        "cic": 100 * (test.alpha or 0),
        "error_ratio": test.error_ratio,
        "standard_error": (test.standard_error or 0) * out_of,
    }
    for name, expected in MOODLE_00_QUIZ.items():
        assert ours[name] == pytest.approx(expected, rel=1.5e-5), name


# The figures the analysis gave on Moodle's fixture before items had maximum marks, to the last
# digit: with every item worth 1 (given or not) it must give them still.
MOODLE_00_BEFORE_MARKS = [
    (0.7040000000000001, 0.45136829012828683, -7.065076635234516, -9.455053563111317, 21.292274341564447),
    (0.48, 0.5099019513592785, -28.89821245018274, -36.783411744206305, 18.897980152435462),
    (0.9733333333333333, 0.13333333333333333, -9.123067426824704, -21.654501216544986, 4.443012228952126),
    (0.68, 0.47609522856952335, -22.630644322387763, -31.441139505655638, 18.93472523895462),
    (0.52, 0.30550504633038933, -17.699704788552026, -21.17948027467349, 11.145013909191835),
    (0.64, 0.4898979485566356, -45.378518014980145, -56.936597614563716, 9.808133842578913),
    (0.62, 0.33166247903553997, -5.654316728540787, -6.504374286801068, 15.478860286322607),
]  # fmt: skip
MOODLE_00_TEST_BEFORE_MARKS = (
    65.96190476190476, 64.28571428571429, 11.596093642046101, -0.0925025068530546,
    -0.7073968488775252, -0.8722309348352755, 136.82949005368965, 15.86687579656001,
)  # fmt: skip


@pytest.mark.parametrize("max_marks", [None, [1.0] * 7])
def test_moodle_fixture_figures_are_unchanged_by_marks_of_one(
    max_marks: list[float] | None,
) -> None:
    stats, test = analyse(list("1234567"), MOODLE_00, max_marks=max_marks)
    for s, before in zip(stats, MOODLE_00_BEFORE_MARKS, strict=True):
        now = (s.facility, s.sd, s.discrimination_index, s.discriminative_efficiency)
        for value, old in zip((*now, s.effective_weight), before, strict=True):
            assert value is not None and abs(value - old) <= 1e-10
        assert s.max_mark == 1.0 and s.intended_weight == pytest.approx(100 / 7)
    figures = (test.mean, test.median, test.sd, test.skewness, test.kurtosis, test.alpha)
    for value, old in zip(
        (*figures, test.error_ratio, test.standard_error), MOODLE_00_TEST_BEFORE_MARKS, strict=True
    ):
        assert value is not None and abs(value - old) <= 1e-10
