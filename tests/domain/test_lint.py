"""The item-writing checks find the cues a test-wise candidate uses, by bank and language."""

from __future__ import annotations

from typing import Any

import pytest

from elearn.domain.content import ItemSpec
from elearn.domain.lint import lint_items


def choice(n: int, key: str, options: dict[str, str], stem: str = "Which one?") -> ItemSpec:
    return ItemSpec.model_validate(
        {
            "id": f"q-{n}",
            "topic": "t",
            "type": "single_choice",
            "key": key,
            "source": "s",
            "text": {"en": {"stem": stem, "options": options}},
        }
    )


def bank(specs: list[tuple[str, dict[str, str]]], **kw: Any) -> list[ItemSpec]:
    return [choice(n, key, options, **kw) for n, (key, options) in enumerate(specs)]


SHORT = {"a": "Yes", "b": "No", "c": "Maybe", "d": "Later"}


def test_a_key_that_is_the_longest_option_is_counted_and_limited() -> None:
    long_key = {**SHORT, "a": "Yes, under the conditions of § 7-9"}
    items = bank([("a", long_key)] * 8 + [("b", SHORT)] * 12)
    lint = lint_items(items, "en")
    assert (lint.single_choice_items, lint.key_longest_share) == (20, 0.4)
    assert lint.key_longest_items == tuple(f"q-{n}" for n in range(8))
    assert "the key is the longest option in 40% of single-choice items (at most 30%)" in (
        lint.findings
    )
    assert lint_items(items[2:], "en").key_longest_share == pytest.approx(6 / 18, abs=1e-4)


def test_key_positions_must_spread_over_four_options() -> None:
    balanced = bank([(k, SHORT) for k in "abcd" * 5])
    lint = lint_items(balanced, "en")
    assert lint.key_position_shares == {1: 0.25, 2: 0.25, 3: 0.25, 4: 0.25}
    assert lint.within_limits
    skewed = bank([("a", SHORT)] * 10 + [(k, SHORT) for k in "bcd" * 4])
    findings = lint_items(skewed, "en").findings
    assert "the key is option 1 in 45% of four-option items (20% to 30%)" in findings


def test_a_handful_of_items_is_not_held_to_the_share_limits() -> None:
    assert lint_items(bank([("a", SHORT)] * 3), "en").within_limits


def test_absolute_words_only_in_distractors_all_of_the_above_and_negative_stems() -> None:
    absolute = {"a": "Only the buyer", "b": "The supplier", "c": "Always the court", "d": "Never"}
    items = bank([("b", absolute)] * 6)
    items.append(choice(7, "a", {**SHORT, "d": "All of the above"}))
    items.append(choice(8, "a", SHORT, stem="Which is not a principle?"))
    items.append(choice(9, "a", SHORT, stem="Which is NOT a principle?"))
    lint = lint_items(items, "en")
    # 3 in each of six items, and "All of the above" once more.
    assert (lint.absolute_words_in_keys, lint.absolute_words_in_distractors) == (0, 19)
    assert lint.absolute_only_in_distractors_items == (*(f"q-{n}" for n in range(6)), "q-7")
    assert lint.all_or_none_of_the_above_items == ("q-7",)
    assert lint.negative_stems_not_emphasised == ("q-8",)
    assert not lint.within_limits
