"""What the candidate sees: served positions only, the saved answer, never the key."""

from __future__ import annotations

import dataclasses

import pytest

from elearn.domain.itemtypes import InvalidResponse, decode_answer, describe_answer, present
from tests.domain.conftest import item

OPTIONS = {"a": "A text", "b": "B text", "c": "C text"}
SERVED = ["c", "a", "b"]


def test_choices_carry_positions_in_served_order_and_the_saved_answer() -> None:
    single = item("single_choice", "a", options=OPTIONS, feedback="Because A.")
    shown = present(single, "en", SERVED, [], "a")
    assert [(c.id, c.text, c.selected) for c in shown.options] == [
        ("1", "C text", False),
        ("2", "A text", True),
        ("3", "B text", False),
    ]
    multi = item("multiple_response", ["a", "b"], options=OPTIONS)
    assert [c.selected for c in present(multi, "en", SERVED, [], ["a", "b"]).options] == [
        False,
        True,
        True,
    ]


def test_nothing_secret_is_in_what_is_presented() -> None:
    single = item("single_choice", "a", options=OPTIONS, feedback="Because A.")
    shown = present(single, "nb", SERVED, [])
    text = repr(dataclasses.asdict(shown))
    assert "Because A." not in text and "key" not in text
    assert not any(c.id in OPTIONS for c in shown.options)


@pytest.mark.parametrize(
    ("type_", "key", "extra", "response", "value"),
    [
        ("true_false", False, {}, False, "false"),
        ("numeric", {"value": 1250.5, "tolerance": 0}, {}, 1250.5, "1250.5"),
        ("short_answer", None, {"accepted": [{"answer": "KOFA"}]}, "kofa", "kofa"),
        ("true_false", True, {}, None, None),
    ],
)
def test_typed_answers_come_back_as_text(
    type_: str, key: object, extra: dict[str, object], response: object, value: str | None
) -> None:
    assert present(item(type_, key, **extra), "en", [], [], response).value == value


def test_matching_shows_pairs_by_position() -> None:
    spec = item(
        "matching", {"p": "a", "q": "b"}, prompts={"p": "P", "q": "Q"}, options={"a": "A", "b": "B"}
    )
    shown = present(spec, "en", ["b", "a"], ["q", "p"], {"p": "a", "q": "b"})
    assert [c.id for c in shown.prompts] == ["1", "2"]
    assert shown.chosen == {"2": "2", "1": "1"}


def test_positions_decode_to_authored_ids_and_forged_ones_are_refused() -> None:
    assert decode_answer("single_choice", {"answer": ["2"]}, SERVED, []) == {"answer": ["a"]}
    assert decode_answer("multiple_response", {"answer": ["1", "3"]}, SERVED, []) == {
        "answer": ["c", "b"]
    }
    assert decode_answer("matching", {"answer-1": ["2"]}, ["b", "a"], ["q", "p"]) == {
        "answer-q": ["a"]
    }
    assert decode_answer("numeric", {"answer": ["12,5"]}, [], []) == {"answer": ["12,5"]}
    for raw in ({"answer": ["4"]}, {"answer": ["0"]}, {"answer": ["a"]}, {"answer": ["-1"]}):
        with pytest.raises(InvalidResponse):
            decode_answer("single_choice", raw, SERVED, [])
    with pytest.raises(InvalidResponse):
        decode_answer("matching", {"answer-3": ["1"]}, ["b", "a"], ["q", "p"])
    with pytest.raises(InvalidResponse):
        decode_answer("matching", {"answer-q": ["1"]}, ["b", "a"], ["q", "p"])


def test_the_right_answer_in_words() -> None:
    multi = item("multiple_response", {"a": 0.5, "c": 0.5, "b": -1}, options=OPTIONS)
    assert describe_answer(multi, "en") == ("A text", "C text")
    numeric = item("numeric", {"min": 10, "max": 12})
    assert describe_answer(numeric, "en") == ("10 – 12",)


def test_numbers_are_read_as_the_answers_language_writes_them() -> None:
    cases = [
        ("en", "12,500", "12500"),
        ("en", "1,234,567.5", "1234567.5"),
        ("en", "12.5", "12.5"),
        ("nb", "12 500", "12500"),
        ("nb", "12.500", "12500"),
        ("nb", "12,5", "12,5"),
        ("da", "1.234.567,5", "1234567,5"),
        ("da", "12,500", "12,500"),
    ]
    for lang, typed, expected in cases:
        assert decode_answer("numeric", {"answer": [typed]}, [], [], lang) == {"answer": [expected]}
