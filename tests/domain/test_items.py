"""The item-type registry checks each type's key against its options."""

from __future__ import annotations

import pytest

from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes import get_item_type, item_type_names
from tests.domain.conftest import item


def messages(spec: ItemSpec) -> list[str]:
    return [m.message for m in get_item_type(spec.type).validate(spec)]


def test_registry_knows_the_seven_types_and_refuses_others() -> None:
    assert item_type_names() == sorted(
        [
            "single_choice",
            "multiple_response",
            "true_false",
            "numeric",
            "matching",
            "short_answer",
            "ordering",
        ]
    )
    with pytest.raises(KeyError, match="unknown item type 'essay'"):
        get_item_type("essay")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (item("single_choice", "a", options={"a": "1", "b": "2"}), []),
        (
            item("single_choice", ["a"], options={"a": "1", "b": "2"}),
            ["the key must be one option id"],
        ),
        (item("single_choice", "a", options={"a": "1"}), ["needs at least 2 options"] * 2),
        (item("multiple_response", ["a", "b"], options={"a": "1", "b": "2", "c": "3"}), []),
        (
            item(
                "multiple_response",
                {"a": 0.5, "b": 0.5, "c": -1},
                options={"a": "1", "b": "2", "c": "3"},
            ),
            [],
        ),
        (
            item("multiple_response", {"a": -0.5}, options={"a": "1", "b": "2"}),
            ["the key gives no option positive credit"],
        ),
        (
            item("multiple_response", {"a": 2}, options={"a": "1", "b": "2"}),
            ["the positive fractions must add up to 1", "a fraction must lie within -1..1"],
        ),
        (
            item("multiple_response", {"a": 0.5, "b": 0.3}, options={"a": "1", "b": "2"}),
            ["the positive fractions must add up to 1"],
        ),
        (item("true_false", False), []),
        (item("true_false", "false"), ["the key must be true or false"]),
        (
            item("true_false", True, options={"a": "1", "b": "2"}),
            ["'options' has no meaning for a true_false item"] * 2,
        ),
        (item("numeric", {"value": 1250.5, "tolerance": 0.5}), []),
        (item("numeric", {"min": 10, "max": 1}), ["min and max must be numbers with min <= max"]),
        (
            item("numeric", 12),
            ["the key must be {value, tolerance}, {min, max} or a list of bands"],
        ),
        (
            item(
                "matching",
                {"p": "a", "q": "b"},
                prompts={"p": "P", "q": "Q"},
                options={"a": "A", "b": "B"},
            ),
            [],
        ),
        (
            item(
                "matching", {"p": "a"}, prompts={"p": "P", "q": "Q"}, options={"a": "A", "b": "B"}
            ),
            ["prompt 'q' has no key"],
        ),
        (
            item(
                "matching",
                {"p": "a", "q": "z"},
                prompts={"p": "P", "q": "Q"},
                options={"a": "A", "b": "B"},
            ),
            ["the key 'z' is not an option"],
        ),
        (item("short_answer", None, accepted=[{"answer": "KOFA"}]), []),
        (
            item("short_answer", None, accepted=[{"answer": "KOFA", "credit": 0.5}]),
            ["needs an accepted answer with credit 1"] * 2,
        ),
    ],
)
def test_validation_by_type(spec: ItemSpec, expected: list[str]) -> None:
    assert messages(spec) == expected


def test_pinned_option_must_exist() -> None:
    spec = ItemSpec.model_validate(
        {
            "id": "x",
            "topic": "t",
            "type": "single_choice",
            "key": "a",
            "source": "s",
            "pinned": ["z"],
            "text": {"nb": {"stem": "Q", "options": {"a": "1", "b": "2"}}},
        }
    )
    assert messages(spec) == ["pinned option 'z' is not an option"]
