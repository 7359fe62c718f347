"""The ordering item type: validation, Moodle's nine gradings, reading answers, pages, formats."""

from __future__ import annotations

import itertools
import textwrap
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from elearn.content.exporting import ExportSource
from elearn.content.formats import export_items, import_items
from elearn.content.qti3 import write_item
from elearn.domain.content import BankSpec, ItemSpec
from elearn.domain.itemtypes import (
    IncompleteResponse,
    InvalidResponse,
    decode_answer,
    describe_answer,
    full_key_response,
    get_item_type,
    present,
    read_answer,
)
from elearn.domain.itemtypes.ordering import GRADINGS, grade
from tests.domain.conftest import item
from tests.qti import QtiItem, as_qti

ORDERING = get_item_type("ordering")
STEPS = {"a": "Plan", "b": "Announce", "c": "Evaluate", "d": "Award"}
RIGHT = ["a", "b", "c", "d"]


def ordering(grading: str = "absolute_position", **extra: Any) -> ItemSpec:
    return item("ordering", {"order": RIGHT, "grading": grading, **extra}, options=STEPS)


def problems(spec: ItemSpec) -> list[str]:
    return [m.message for m in ORDERING.validate(spec)]


# --- the item as authored ---------------------------------------------------------------------


def test_a_well_formed_ordering_item_has_no_problems() -> None:
    for grading in GRADINGS:
        assert problems(ordering(grading)) == []
    # The grading may be left out: absolute position.
    assert problems(item("ordering", {"order": RIGHT}, options=STEPS)) == []


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (["a", "b", "c", "d"], "the key must be {order: [step ids], grading: ...}"),
        ({"order": ["a", "b", "c"]}, "the order must name every step once"),
        ({"order": ["a", "b", "c", "d", "d"]}, "the order must name every step once"),
        ({"order": ["a", "b", "c", "x"]}, "the order must name every step once"),
        ({"order": "abcd"}, "the order must be a list of step ids"),
        ({"order": RIGHT, "grading": "by_feel"}, "unknown grading 'by_feel'"),
        ({"order": RIGHT, "shuffle": True}, "the key must be {order: [step ids], grading: ...}"),
    ],
)
def test_a_key_that_does_not_order_every_step_once_is_refused(key: Any, expected: str) -> None:
    found = problems(item("ordering", key, options=STEPS))
    assert any(message.startswith(expected) for message in found), found


def test_fewer_than_two_steps_prompts_and_pinned_steps_are_refused() -> None:
    one = item("ordering", {"order": ["a"]}, options={"a": "Only"})
    assert "needs at least 2 options" in problems(one)
    with_prompts = item(
        "ordering", {"order": ["a", "b"]}, options={"a": "A", "b": "B"}, prompts={"p": "P"}
    )
    assert "'prompts' has no meaning for a ordering item" in problems(with_prompts)
    pinned = ItemSpec.model_validate({**ordering().model_dump(), "pinned": ["a"]})
    assert "'pinned' has no meaning for a ordering item" in problems(pinned)


# --- Moodle's gradings --------------------------------------------------------------------------
# The cases of Moodle's own unit tests for its ordering question (question/type/ordering/tests/
# question_test.php): the key MOODLE's six words, each response's grade under each grading.

WORDS = ["Modular", "Object", "Oriented", "Dynamic", "Learning", "Environment"]
REVERSE = WORDS[::-1]
ENV_FIRST = ["Environment", "Object", "Oriented", "Dynamic", "Learning", "Modular"]
ORIENTED_FIRST = ["Oriented", "Object", "Dynamic", "Learning", "Environment", "Modular"]
OBJECT_FIRST = ["Object", "Oriented", "Dynamic", "Learning", "Environment", "Modular"]


@pytest.mark.parametrize(
    ("grading", "response", "expected"),
    [
        ("all_or_nothing", WORDS, 1),
        ("all_or_nothing", REVERSE, 0),
        ("all_or_nothing", ORIENTED_FIRST, 0),
        ("absolute_position", WORDS, 1),
        ("absolute_position", REVERSE, 0),
        ("absolute_position", ENV_FIRST, 4 / 6),
        ("absolute_position", ORIENTED_FIRST, 1 / 6),
        ("relative_next_exclude_last", WORDS, 1),
        ("relative_next_exclude_last", REVERSE, 0),
        ("relative_next_exclude_last", ENV_FIRST, 0.6),
        ("relative_next_exclude_last", ORIENTED_FIRST, 0.4),
        ("relative_next_include_last", WORDS, 1),
        ("relative_next_include_last", REVERSE, 0),
        ("relative_next_include_last", ENV_FIRST, 0.5),
        ("relative_one_previous_and_next", WORDS, 1),
        ("relative_one_previous_and_next", REVERSE, 0),
        ("relative_one_previous_and_next", ORIENTED_FIRST, 4 / 12),
        ("relative_all_previous_and_next", WORDS, 1),
        ("relative_all_previous_and_next", REVERSE, 0),
        ("relative_all_previous_and_next", ORIENTED_FIRST, 0.6),
        ("relative_all_previous_and_next", OBJECT_FIRST, 2 / 3),
        ("longest_ordered_subset", WORDS, 1),
        ("longest_ordered_subset", REVERSE, 0),
        ("longest_ordered_subset", OBJECT_FIRST, 5 / 6),
        ("longest_contiguous_subset", WORDS, 1),
        ("longest_contiguous_subset", REVERSE, 0),
        ("longest_contiguous_subset", OBJECT_FIRST, 5 / 6),
        ("relative_to_correct", WORDS, 1),
        ("relative_to_correct", REVERSE, 0.4),  # Moodle's own note: "very generous"
        ("relative_to_correct", OBJECT_FIRST, 2 / 3),
    ],
)
def test_each_grading_gives_what_moodle_gives(
    grading: str, response: list[str], expected: float
) -> None:
    assert grade(WORDS, response, grading) == pytest.approx(expected)


def test_ordered_and_contiguous_subsets_differ_where_the_run_has_gaps() -> None:
    key = ["1", "2", "3", "4", "5"]
    given = ["1", "3", "5", "2", "4"]
    # In the key's order: 1 3 5 (not next to each other in the key); next to each other: 1 2, 3 4.
    assert grade(key, given, "longest_ordered_subset") == pytest.approx(3 / 5)
    assert grade(key, given, "longest_contiguous_subset") == pytest.approx(2 / 5)
    # A run of one step counts nothing.
    assert grade(key, ["5", "4", "3", "2", "1"], "longest_ordered_subset") == 0


@pytest.mark.parametrize("grading", GRADINGS)
def test_every_order_of_four_steps_scores_within_0_and_1_and_only_the_key_scores_1(
    grading: str,
) -> None:
    spec = ordering(grading)
    for permutation in itertools.permutations(RIGHT):
        mark = ORDERING.score(spec, list(permutation), "nb")
        assert 0 <= mark <= 1
        assert (mark == 1) == (list(permutation) == RIGHT)
    assert ORDERING.score(spec, None, "nb") == 0


# --- reading answers ------------------------------------------------------------------------------

SERVED = ["c", "a", "d", "b"]  # served order: position 1 is step c, 2 is a, ...


def places(**by_position: str) -> dict[str, list[str]]:
    return {f"answer-{pos.removeprefix('p')}": [place] for pos, place in by_position.items()}


def test_places_posted_by_served_position_become_the_order_of_step_ids() -> None:
    # c is placed 3rd, a 1st, d 4th, b 2nd: the learner's order is a b c d.
    raw = places(p1="3", p2="1", p3="4", p4="2")
    assert read_answer(ordering(), raw, SERVED, [], "nb") == ["a", "b", "c", "d"]
    assert ORDERING.score(ordering(), read_answer(ordering(), raw, SERVED, [], "nb"), "nb") == 1


def test_nothing_placed_is_no_answer() -> None:
    assert read_answer(ordering(), places(p1="", p2="", p3="", p4=""), SERVED, [], "nb") is None
    assert read_answer(ordering(), {}, SERVED, [], "nb") is None


@pytest.mark.parametrize(
    "raw",
    [
        places(p1="1", p2="2", p3="3"),  # one step without a place
        places(p1="1", p2="1", p3="3", p4="4"),  # two steps in one place
        places(p1="1", p2="", p3="", p4=""),
    ],
)
def test_an_unfinished_order_is_incomplete_not_forged(raw: dict[str, list[str]]) -> None:
    with pytest.raises(IncompleteResponse):
        read_answer(ordering(), raw, SERVED, [], "nb")


@pytest.mark.parametrize(
    "raw",
    [
        places(p1="5", p2="1", p3="2", p4="3"),  # a place that does not exist
        places(p1="0", p2="1", p3="2", p4="3"),
        places(p1="²", p2="1", p3="2", p4="3"),  # a digit that is not an ASCII digit
        {"answer-5": ["1"]},  # a step the form never served
        {"answer-x": ["1"]},
        {"answer-1": ["1", "2"]},  # two places for one step
    ],
)
def test_a_forged_place_or_step_is_refused(raw: dict[str, list[str]]) -> None:
    with pytest.raises(InvalidResponse) as refused:
        read_answer(ordering(), raw, SERVED, [], "nb")
    assert not isinstance(refused.value, IncompleteResponse)


def test_decoding_maps_served_positions_to_step_ids_only() -> None:
    assert decode_answer("ordering", {"answer-2": ["1"]}, SERVED, []) == {"answer-a": ["1"]}


# --- pages ----------------------------------------------------------------------------------------


def test_unanswered_steps_are_shown_as_served_with_no_places_and_no_key() -> None:
    shown = present(ordering(), "en", SERVED, [])
    assert [c.text for c in shown.options] == ["Evaluate", "Plan", "Award", "Announce"]
    assert [c.id for c in shown.options] == ["1", "2", "3", "4"]
    assert shown.chosen == {}
    assert shown.template == "itemtypes/ordering.html"
    assert not any(c.id in STEPS for c in shown.options)  # positions, never step ids


def test_an_answer_is_shown_in_the_learners_order_with_each_steps_place() -> None:
    shown = present(ordering(), "en", SERVED, [], ["b", "a", "c", "d"])
    assert [c.text for c in shown.options] == ["Announce", "Plan", "Evaluate", "Award"]
    # Served position -> place: c (1) is 3rd, a (2) 2nd, d (3) 4th, b (4) 1st.
    assert shown.chosen == {"1": "3", "2": "2", "3": "4", "4": "1"}


def test_the_key_is_described_as_numbered_steps() -> None:
    assert describe_answer(ordering(), "en") == (
        "1. Plan",
        "2. Announce",
        "3. Evaluate",
        "4. Award",
    )
    assert full_key_response(ordering(), "en") == RIGHT


# --- formats --------------------------------------------------------------------------------------

BANK = BankSpec.model_validate(
    {
        "id": "b",
        "languages": ["en"],
        "title": {"en": "B"},
        "topics": [{"id": "t", "title": {"en": "T"}}],
    }
)


def source(*items: ItemSpec) -> ExportSource:
    return ExportSource(BANK, list(items), [], "en")


def named(spec: ItemSpec, item_id: str) -> ItemSpec:
    return ItemSpec.model_validate({**spec.model_dump(), "id": item_id})


def test_gift_has_no_ordering_question_so_the_export_leaves_it_out_and_says_why() -> None:
    single = item("single_choice", "a", options={"a": "Yes", "b": "No"})
    exported = export_items("gift", source(named(ordering(), "steps"), named(single, "yes")))
    assert exported.skipped == (("steps", "GIFT has no ordering question type"),)
    text = exported.data.decode()
    assert "::yes::" in text and "::steps::" not in text


def test_the_ordering_plugins_gift_form_is_skipped_with_the_reason() -> None:
    result = import_items(
        "gift",
        "::o::Order these {>3 ALL VERTICAL ABSOLUTE_POSITION\nOne\nTwo\nThree\n}",
        lang="en",
        default_topic="t",
    )
    assert result.items == []
    assert "GIFT has no ordering question" in result.skipped[0].reason


@pytest.mark.parametrize("grading", GRADINGS)
def test_moodle_xml_export_and_import_give_back_the_same_order_and_grading(grading: str) -> None:
    spec = named(ordering(grading), "steps")
    exported = export_items("moodle-xml", source(spec))
    assert exported.skipped == ()
    question = ET.fromstring(exported.data).find("question[@type='ordering']")
    assert question is not None
    assert question.findtext("gradingtype") == grading.upper()
    assert [a.findtext("text") for a in question.findall("answer")] == [
        "Plan",
        "Announce",
        "Evaluate",
        "Award",
    ]
    back = import_items("moodle-xml", exported.data.decode(), lang="en", default_topic="t")
    assert back.skipped == []
    again = ItemSpec.model_validate(back.items[0])
    assert again.key["grading"] == grading
    order = [again.text["en"].options[s] for s in again.key["order"]]  # type: ignore[index]
    assert order == ["Plan", "Announce", "Evaluate", "Award"]
    for permutation in itertools.permutations(range(4)):
        mine = [RIGHT[i] for i in permutation]
        theirs = [again.key["order"][i] for i in permutation]
        assert ORDERING.score(again, theirs, "en") == ORDERING.score(spec, mine, "en")


def moodle(body: str) -> Any:
    return import_items(
        "moodle-xml", "<quiz>" + textwrap.dedent(body) + "</quiz>", lang="en", default_topic="t"
    )


MODULAR = "".join(
    f'<answer fraction="{i}" format="html"><text>{w}</text></answer>'
    for i, w in enumerate(WORDS, start=1)
)


def test_a_moodle_ordering_question_is_read_in_file_order_with_moodles_defaults() -> None:
    # As Moodle's own import fixture: no layout, selection or grading given. Moodle then shows
    # six items drawn at random (all six here) and grades relative to the next item.
    result = moodle(
        f"""<question type="ordering"><name><text>Moodle</text></name>
        <questiontext format="html"><text>Put these words in order.</text></questiontext>
        <generalfeedback format="html"><text>Modular Object Oriented ...</text></generalfeedback>
        {MODULAR}</question>"""
    )
    assert result.skipped == []
    spec = ItemSpec.model_validate(result.items[0])
    assert spec.key["grading"] == "relative_next_exclude_last"
    assert [spec.text["en"].options[s] for s in spec.key["order"]] == WORDS  # type: ignore[index]
    assert spec.text["en"].feedback == "Modular Object Oriented ..."  # type: ignore[union-attr]
    assert ORDERING.validate(spec) == []


def test_moodle_aliases_of_gradings_are_read_and_an_unknown_one_falls_back_as_moodle_does() -> None:
    for given, expected in [
        ("ABS", "absolute_position"),
        ("rel", "relative_next_exclude_last"),
        ("ALL_OR_NOTHING", "all_or_nothing"),
        ("nonsense", "relative_next_exclude_last"),
    ]:
        result = moodle(
            f"""<question type="ordering"><questiontext><text>Q</text></questiontext>
            <selecttype>ALL</selecttype><gradingtype>{given}</gradingtype>{MODULAR}</question>"""
        )
        assert result.items[0]["key"]["grading"] == expected, given


@pytest.mark.parametrize(
    ("select", "count", "reason"),
    [
        ("RANDOM", "3", "Moodle shows 3 of the 6 items, drawn at random"),
        ("CONTIGUOUS", "4", "Moodle shows 4 of the 6 items, drawn at random"),
        ("", "2", "Moodle shows 2 of the 6 items, drawn at random"),
    ],
)
def test_a_moodle_question_that_shows_a_random_subset_is_skipped(
    select: str, count: str, reason: str
) -> None:
    result = moodle(
        f"""<question type="ordering"><questiontext><text>Q</text></questiontext>
        <selecttype>{select}</selecttype><selectcount>{count}</selectcount>{MODULAR}</question>"""
    )
    assert result.items == []
    assert result.skipped[0].reason.startswith(reason)


def test_a_moodle_question_with_repeated_or_too_few_items_is_skipped() -> None:
    twice = "<answer><text>Same</text></answer><answer><text>Same</text></answer>"
    result = moodle(
        f"""<question type="ordering"><questiontext><text>Q</text></questiontext>{twice}</question>
        <question type="ordering"><questiontext><text>Q</text></questiontext>
        <answer><text>One</text></answer><answer><text> </text></answer></question>"""
    )
    assert [s.reason for s in result.skipped] == [
        "two items of the ordering question have the same text",
        "an ordering question needs at least 2 items",
    ]


QTI_GRADINGS = [
    "all_or_nothing",
    "absolute_position",
    "relative_next_exclude_last",
    "relative_next_include_last",
    "relative_to_correct",
]


@pytest.mark.parametrize("grading", QTI_GRADINGS)
def test_qti_scores_every_order_as_elearn_does(grading: str) -> None:
    spec = named(ordering(grading), "steps")
    root = ET.fromstring(write_item(spec, "en"))
    interaction = root.find(".//{*}qti-order-interaction")
    assert interaction is not None
    qti = QtiItem(root)
    assert qti.cardinality == "ordered"
    for permutation in itertools.permutations(RIGHT):
        response = list(permutation)
        score, _ = qti.score(as_qti(spec, response))
        assert score == pytest.approx(ORDERING.score(spec, response, "en")), response
    assert qti.score(None)[0] == 0


@pytest.mark.parametrize("grading", sorted(set(GRADINGS) - set(QTI_GRADINGS)))
def test_a_grading_qti_cannot_express_leaves_the_item_out_of_the_package(grading: str) -> None:
    exported = export_items("qti3", source(named(ordering(grading), "steps")))
    assert [item_id for item_id, _reason in exported.skipped] == ["steps"]
    assert f"'{grading}'" in exported.skipped[0][1]


def test_an_unfinished_answer_is_shown_back_as_given_so_it_can_be_finished() -> None:
    raw = places(p1="1", p2="1", p3="4")  # c and a both first, d last, b not placed
    with pytest.raises(IncompleteResponse) as unfinished:
        read_answer(ordering(), raw, SERVED, [], "nb")
    shown = present(ordering(), "en", SERVED, [], unfinished.value.partial)
    assert shown.chosen == {"1": "1", "2": "1", "3": "4"}
    assert [c.text for c in shown.options] == ["Evaluate", "Plan", "Award", "Announce"]
