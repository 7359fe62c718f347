"""GIFT imports as Moodle reads it: each construct maps to a valid item, or is skipped with its line."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elearn.content.gift import parse_gift
from elearn.content.importing import ImportResult, ImportSyntaxError, Skipped
from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes import get_item_type


def parse(text: str, **kwargs: Any) -> ImportResult:
    options: dict[str, Any] = {"lang": "en", "default_topic": "general", **kwargs}
    result = parse_gift(text, **options)
    for item in result.items:
        spec = ItemSpec.model_validate(item)
        assert get_item_type(spec.type).validate(spec) == []
    return result


def one(text: str, **kwargs: Any) -> dict[str, Any]:
    result = parse(text, **kwargs)
    assert result.skipped == []
    assert len(result.items) == 1
    return result.items[0]


def skipped(text: str) -> list[Skipped]:
    result = parse(text)
    assert result.items == []
    return result.skipped


def syntax_error(text: str) -> ImportSyntaxError:
    with pytest.raises(ImportSyntaxError) as info:
        parse_gift(text, lang="en", default_topic="general")
    return info.value


# --- each question type --------------------------------------------------------------------------


def test_single_choice_with_name_and_general_feedback() -> None:
    text = "::Grant::Who is buried in Grant's tomb?{~Grant ~Jefferson =no one#Right! ####Nobody.}"
    assert one(text, source_name="quiz.gift") == {
        "id": "grant",
        "topic": "general",
        "type": "single_choice",
        "key": "c",
        "source": "Imported from GIFT (quiz.gift, line 1)",
        "text": {
            "en": {
                "stem": "Who is buried in Grant's tomb?",
                "options": {"a": "Grant", "b": "Jefferson", "c": "no one"},
                "feedback": "Nobody.",
            }
        },
    }


def test_answers_on_their_own_lines_with_feedback_are_one_question() -> None:
    item = one(
        "What's between orange and green in the spectrum?\n"
        "{\n"
        "=yellow # right; good!\n"
        "~red # wrong, it's yellow\n"
        "~blue # wrong, it's yellow\n"
        "}\n"
    )
    assert item["key"] == "a"
    assert item["text"] == {
        "en": {
            "stem": "What's between orange and green in the spectrum?",
            "options": {"a": "yellow", "b": "red", "c": "blue"},
        }
    }


def test_missing_word_leaves_a_blank_where_the_answers_were() -> None:
    item = one("Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert item["type"] == "single_choice"
    assert item["key"] == "b"
    assert item["text"]["en"]["stem"] == "Grant is _____ in Grant's tomb."


def test_weighted_choices_become_multiple_response_with_fractions() -> None:
    item = one(
        "What two people are entombed in Grant's tomb? {\n"
        "   ~%-100%No one\n"
        "   ~%50%Grant\n"
        "   ~%50%Grant's wife\n"
        "   ~%-100%Grant's father\n"
        "}"
    )
    assert item == {
        "id": "gift-001",
        "topic": "general",
        "type": "multiple_response",
        "key": {"a": -1.0, "b": 0.5, "c": 0.5, "d": -1.0},
        "source": "Imported from GIFT (line 1)",
        "text": {
            "en": {
                "stem": "What two people are entombed in Grant's tomb?",
                "options": {
                    "a": "No one",
                    "b": "Grant",
                    "c": "Grant's wife",
                    "d": "Grant's father",
                },
            }
        },
    }


def test_a_weight_of_100_without_an_equals_answer_is_still_multiple_response() -> None:
    # No '=': Moodle shows checkboxes, and so does elearn.
    item = one("Pick the goal about climate {~%100%Goal 13 ~Goal 2 ~%-50%Goal 9}")
    assert item["type"] == "multiple_response"
    assert item["key"] == {"a": 1.0, "c": -0.5}


def test_rounded_thirds_are_accepted_as_thirds() -> None:
    item = one("Which are Nordic? {~%33.3%Norway ~%33.3%Sweden ~%33.3%Denmark ~%-100%Chile}")
    assert item["key"] == {"a": 0.3333333, "b": 0.3333333, "c": 0.3333333, "d": -1.0}
    exact = one("Which are Nordic? {~%33.33333%Norway ~%33.33333%Sweden ~%33.33333%Denmark ~Chile}")
    assert exact["key"] == {"a": 0.3333333, "b": 0.3333333, "c": 0.3333333}


def test_weights_that_do_not_add_up_to_100_are_skipped_with_the_reason() -> None:
    text = "First question {=a ~b}\n\nSecond\nquestion {~%50%a ~%30%b ~c}\n"
    result = parse(text)
    assert [i["id"] for i in result.items] == ["gift-001"]
    assert result.skipped == [
        Skipped(3, "the positive weights add up to 80 %, not 100 % (elearn requires 100 %)")
    ]
    assert skipped("Q {~%-50%a ~%-50%b}") == [Skipped(1, "no answer carries a positive weight")]
    assert skipped("Q {~%150%a ~b}") == [Skipped(1, "a weight lies outside -100 %..100 %")]


def test_a_single_choice_question_that_elearn_cannot_score_alike_is_skipped() -> None:
    assert skipped("Two right {=a ~%100%b ~c}") == [
        Skipped(1, "more than one answer gets full credit, but elearn's single_choice has one key")
    ]
    reason = (
        "partial credit or a penalty on another answer: elearn's single_choice scores"
        " only right (1) or wrong (0)"
    )
    assert skipped("Partial {=a ~%50%b ~c}") == [Skipped(1, reason)]
    assert skipped("Penalty {=a ~%-25%b ~c}") == [Skipped(1, reason)]


@pytest.mark.parametrize(
    ("answer", "key"), [("T", True), ("TRUE", True), ("F", False), ("FALSE", False)]
)
def test_true_false(answer: str, key: bool) -> None:
    assert one(f"The 2030 Agenda was adopted in 2015.{{{answer}}}") == {
        "id": "gift-001",
        "topic": "general",
        "type": "true_false",
        "key": key,
        "source": "Imported from GIFT (line 1)",
        "text": {"en": {"stem": "The 2030 Agenda was adopted in 2015."}},
    }


def test_true_false_feedback_per_answer_is_dropped_and_general_feedback_kept() -> None:
    item = one(
        "Grant is buried in Grant's tomb.{FALSE#No, he is entombed.#Right.####See the tomb.}"
    )
    assert item["key"] is False
    assert item["text"] == {
        "en": {"stem": "Grant is buried in Grant's tomb.", "feedback": "See the tomb."}
    }


def test_lower_case_true_is_a_short_answer_as_in_moodle() -> None:
    item = one("Say yes {true}")
    assert item["type"] == "short_answer"
    assert item["text"]["en"]["accepted"] == [{"answer": "true", "credit": 1.0}]


def test_short_answer_with_partial_credit() -> None:
    assert one("Who's buried in Grant's tomb?{=no one#Yes =%50%nobody =%0%Grant#No}") == {
        "id": "gift-001",
        "topic": "general",
        "type": "short_answer",
        "key": None,
        "source": "Imported from GIFT (line 1)",
        "text": {
            "en": {
                "stem": "Who's buried in Grant's tomb?",
                "accepted": [
                    {"answer": "no one", "credit": 1.0},
                    {"answer": "nobody", "credit": 0.5},
                ],
            }
        },
    }


def test_short_answer_without_equals_and_with_exported_weights() -> None:
    assert one("Capital of Norway? {Oslo}")["text"]["en"]["accepted"] == [
        {"answer": "Oslo", "credit": 1.0}
    ]
    # Moodle exports every answer as =%w%answer#feedback
    item = one("Capital? {\n\t=%100%Oslo#\n\t=%50%Christiania#\n}")
    assert item["text"]["en"]["accepted"] == [
        {"answer": "Oslo", "credit": 1.0},
        {"answer": "Christiania", "credit": 0.5},
    ]


def test_short_answers_elearn_cannot_hold_are_skipped() -> None:
    assert skipped("Capital? {=Os*}") == [Skipped(1, "wildcard answers ('*') are not supported")]
    assert skipped("Capital? {=%50%Oslo}") == [Skipped(1, "no answer gets full credit")]
    assert skipped("Capital? {=%150%Oslo}") == [
        Skipped(1, "a credit of 150 % is not within 0..100 %")
    ]
    assert one("Star? {=a\\*b}")["text"]["en"]["accepted"] == [{"answer": "a*b", "credit": 1.0}]


def test_numeric_with_tolerance() -> None:
    assert one("When was Ulysses S. Grant born?{#1822:5}") == {
        "id": "gift-001",
        "topic": "general",
        "type": "numeric",
        "key": {"value": 1822, "tolerance": 5},
        "source": "Imported from GIFT (line 1)",
        "text": {"en": {"stem": "When was Ulysses S. Grant born?"}},
    }


_HALF_1822 = {"value": 1822, "tolerance": 2, "credit": 0.5}
_ZERO_0_3 = {"min": 0, "max": 3, "credit": 0.0}
_HALF_0_5 = {"min": 0, "max": 5, "credit": 0.5}


@pytest.mark.parametrize(
    ("answers", "key"),
    [
        ("#1..5", {"min": 1, "max": 5}),
        ("#-2.5..-0.5", {"min": -2.5, "max": -0.5}),
        ("#42", {"value": 42, "tolerance": 0}),
        ("# 3.14159 : -0.0005 ", {"value": 3.14159, "tolerance": 0.0005}),
        ("#1e3:10", {"value": 1000.0, "tolerance": 10}),
        (
            "#=%100%3.14:0.01 =%50%3:0.5",
            [{"value": 3.14, "tolerance": 0.01}, {"value": 3, "tolerance": 0.5, "credit": 0.5}],
        ),
        ("#=%100%1822:0 =%50%1822:2", [{"value": 1822, "tolerance": 0}, _HALF_1822]),
        ("#=%100%1..2 =%0%0..3 =%50%0..5", [{"min": 1, "max": 2}, _ZERO_0_3, _HALF_0_5]),
        ("#\n\t=%100%17:0#\n\t~#Any other answer\n", {"value": 17, "tolerance": 0}),
        ("#=17 =%0%*#Anything else", {"value": 17, "tolerance": 0}),
    ],
)
def test_numeric_keys(answers: str, key: Any) -> None:
    item = one(f"How many? {{{answers}}}")
    assert item["type"] == "numeric"
    assert item["key"] == key
    # A catch-all's feedback ("~#…" or "=%0%*#…") becomes the general feedback.
    assert {k: v for k, v in item["text"]["en"].items() if k != "feedback"} == {"stem": "How many?"}
    assert item["text"]["en"].get("feedback") in (None, "Any other answer", "Anything else")


def test_numeric_questions_without_one_full_answer_are_skipped() -> None:
    assert skipped("Pi? {#=%50%3:0.5 =%25%4}") == [
        Skipped(1, "no numeric answer gets full credit (100 %)")
    ]
    # Moodle tries the answers in order: the band 3±0.5 takes 3.14 before its full credit.
    assert skipped("Pi? {#=%50%3:0.5#Close =3.14:0.01#Yes ~#Wrong}") == [
        Skipped(
            1,
            "a band before the first full-credit band holds its value, so the right answer"
            " scores less than 1 (the first band that holds a response counts)",
        )
    ]
    assert skipped("Pi? {#=%0%* =3.14}") == [
        Skipped(
            1,
            "a catch-all answer ('*') before the credited answers would take every response"
            " (Moodle takes the first answer that matches)",
        )
    ]
    assert skipped("Pi? {#5..1}") == [
        Skipped(1, "the range 5..1 has its minimum above its maximum")
    ]
    assert skipped("Pi? {#=*}") == [
        Skipped(1, "a catch-all '*' answer with credit cannot be scored")
    ]


def test_matching_dedupes_options_and_keeps_distractors() -> None:
    text = (
        "Match the goals with their themes. {\n"
        "   =Goal 6 -> Water\n"
        "   =Goal 14 -> Water\n"
        "   =Goal 13 -> Climate\n"
        "   = -> Energy\n"
        "####Goals 6 and 14 both concern water.}"
    )
    assert one(text) == {
        "id": "gift-001",
        "topic": "general",
        "type": "matching",
        "key": {"p1": "a", "p2": "a", "p3": "b"},
        "source": "Imported from GIFT (line 1)",
        "text": {
            "en": {
                "stem": "Match the goals with their themes.",
                "prompts": {"p1": "Goal 6", "p2": "Goal 14", "p3": "Goal 13"},
                "options": {"a": "Water", "b": "Climate", "c": "Energy"},
                "feedback": "Goals 6 and 14 both concern water.",
            }
        },
    }


def test_matching_elearn_cannot_hold_is_skipped() -> None:
    assert skipped("Match {=a -> 1 = -> 2}") == [
        Skipped(1, "a matching question needs at least 2 prompts")
    ]
    assert skipped("Match {=a -> 1 =b -> 1}") == [
        Skipped(1, "a matching question needs at least 2 different answers")
    ]
    assert skipped("Match {=a -> 1 =b -> }") == [
        Skipped(1, "a matching pair has no answer after '->'")
    ]


# --- skipped questions ---------------------------------------------------------------------------


def test_essays_and_descriptions_are_skipped_by_line_and_the_rest_imported() -> None:
    text = (
        "// A quiz\n"
        "::Intro:: Read the following questions carefully.\n"
        "\n"
        "Write about sustainable procurement. {}\n"
        "\n"
        "Also an essay {####with general feedback}\n"
        "\n"
        "Real question {T}\n"
    )
    result = parse(text)
    assert result.skipped == [
        Skipped(2, "a description (text without an answer block) is not a question"),
        Skipped(4, "essay questions cannot be scored"),
        Skipped(6, "essay questions cannot be scored"),
    ]
    assert [(i["id"], i["source"]) for i in result.items] == [
        ("gift-004", "Imported from GIFT (line 8)")
    ]


def test_a_question_without_text_is_skipped() -> None:
    assert skipped("{T}") == [Skipped(1, "the question has no text")]


def test_images_a_gift_file_does_not_carry_are_skipped_not_silently_dropped() -> None:
    assert skipped('[html]<p>What does this show?</p><img src="@@PLUGINFILE@@/a.png">{T}') == [
        Skipped(1, "the image '@@PLUGINFILE@@/a.png' is not in the file")
    ]
    assert skipped("[markdown]Which? ![chart](chart.png){T}") == [
        Skipped(1, "the image 'chart.png' is not in the file")
    ]
    assert skipped('[html]Hear this: <audio src="a.mp3"></audio>{T}') == [
        Skipped(1, "the question depends on embedded media (<audio>), not imported")
    ]
    assert skipped('Which? {=<a href\\="@@PLUGINFILE@@/x.pdf">file</a> ~b}') == [
        Skipped(1, "embedded file (@@PLUGINFILE@@) not supported")
    ]


# --- syntax errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("Q1 {T}\n\nQ2\n{=a ~b\n", 4, "'{' is never closed with '}'"),
        (
            "Q1 {T}\n\nQ2 } {T}\n",
            3,
            "'}' without an opening '{' (write \\} for a literal brace)",
        ),
        ("Q1 {=a ~b\nQ2 {T}\n", 1, "'{' is not closed before the next '{' begins"),
        (
            "Q1 {T}\nQ2 {F}\n",
            2,
            "a second answer block: a question has one '{…}', and a blank line must separate"
            " questions (write \\{ and \\} for literal braces)",
        ),
        (
            "Q1 {T}\n\n\n::Broken name\nQ2 {T}\n",
            4,
            "the question name has no closing '::' before its answers (write \\: for a colon)",
        ),
        ("// c\nQ {~only one}\n", 2, "a multiple-choice question needs at least 2 answers"),
        ("Q {~ ~}", 1, "the answer block holds no answer"),
        ("Q {=%50% =}", 1, "the answer block holds no answer"),
        ("Q {#}", 1, "the numeric answer block holds no number"),
        ("Q {#\n=1\n=\n}", 3, "a numeric answer has no number"),
        ("Q {#\n=12\n=%50%abc:1\n}", 3, "'abc' is not a number"),
        ("Q {#3,14}", 1, "'3,14' is not a number (write a point for decimals)"),
        ("Q {#1e999}", 1, "'1e999' is out of range"),
        ("Q {=a -> 1}", 1, "a matching question needs at least 2 pairs"),
        ("Q {\n=a -> 1\n=b -> 2\n=c\n}", 4, "a matching pair needs the form 'prompt -> answer'"),
    ],
)
def test_syntax_errors_name_their_line(text: str, line: int, message: str) -> None:
    error = syntax_error(text)
    assert (error.line, error.message) == (line, message)
    assert str(error) == f"line {line}: {message}"


def test_a_syntax_error_in_a_question_that_would_be_skipped_still_stops_the_import() -> None:
    # The image would skip it, the broken numeric answer is still reported.
    error = syntax_error("Good {T}\n\n[html]<img src=x> {#=1 =x}")
    assert error.line == 3
    error = syntax_error("Pairs {\n=a -> 1\n=%50%b -> 2\n=c 3\n}")
    assert error.line == 4


# --- text: escapes, formats, comments ------------------------------------------------------------


def test_escapes_are_literal_characters() -> None:
    item = one(
        "::A\\:B:: Is 1 \\= 1 \\~ \\#1 \\{set\\} a\\\\b\\nnext?"
        " {=yes \\= right#fb ~no \\~ wrong ~a\\#b}"
    )
    assert item["id"] == "a-b"
    assert item["text"]["en"]["stem"] == "Is 1 = 1 ~ #1 {set} a\\b\nnext?"
    assert item["text"]["en"]["options"] == {"a": "yes = right", "b": "no ~ wrong", "c": "a#b"}
    assert item["key"] == "a"


def test_other_backslashes_stay() -> None:
    item = one("Solve \\(x^2\\) {=\\(x\\) ~y}")
    assert item["text"]["en"]["stem"] == "Solve \\(x^2\\)"
    assert item["text"]["en"]["options"]["a"] == "\\(x\\)"


def test_html_is_sanitised_then_reduced_to_text() -> None:
    item = one(
        "::h::[html]<p>Is <b>R&amp;D</b><br>public?</p><script>alert(1)</script>"
        '<p onclick="x()">More</p>\n<p>text</p>'
        "{=[html]<em>Yes</em> ~No ####[html]<p>Because <a href='javascript:x'>law</a>.</p>}"
    )
    assert item["text"]["en"] == {
        "stem": "Is R&D\npublic?\nMore\ntext",
        "options": {"a": "Yes", "b": "No"},
        "feedback": "Because law.",
    }


def test_moodle_format_is_html_with_line_breaks_kept() -> None:
    item = one("First line\n<b>second</b> line &lt;3 {T}")
    assert item["text"]["en"]["stem"] == "First line\nsecond line <3"


def test_markdown_and_plain_formats() -> None:
    markdown = one("[markdown]Some **bold**, *it* and `code`\n- one\n- two\n{T}")
    assert markdown["text"]["en"]["stem"] == "Some bold, it and code\none\ntwo"
    plain = one("[plain]Is <b> a tag?   Yes. {T}")
    assert plain["text"]["en"]["stem"] == "Is <b> a tag? Yes."  # shown as typed, never as markup
    unknown = one("[latex]Is this text? {T}")
    assert unknown["text"]["en"]["stem"] == "[latex]Is this text?"


def test_the_question_format_applies_to_answers_and_feedback() -> None:
    item = one("[markdown]Pick **one** {=**bold** ~_it_ ####*Because*}")
    assert item["text"]["en"] == {
        "stem": "Pick one",
        "options": {"a": "bold", "b": "it"},
        "feedback": "Because",
    }


def test_comments_are_ignored_and_keep_line_numbers() -> None:
    text = (
        "// header comment\n"
        "// [id:q1] [tag:x]\n"
        "Question with a URL http://example.org {\n"
        "// a comment among the answers\n"
        "=right\n"
        "~wrong\n"
        "}\n"
        "\n"
        "Second {\n"
        "// comment\n"
        "=a\n"
        "=b -> 2\n"
        "}\n"
    )
    error = syntax_error(text)
    assert error.line == 11
    text = text.replace("=b -> 2", "=b -> 2\n=c -> 3").replace("=a\n", "=a -> 1\n")
    result = parse(text)
    assert result.items[0]["text"]["en"] == {
        "stem": "Question with a URL http://example.org",
        "options": {"a": "right", "b": "wrong"},
    }
    assert [i["source"] for i in result.items] == [
        "Imported from GIFT (line 3)",
        "Imported from GIFT (line 9)",
    ]


def test_windows_line_ends_and_a_byte_order_mark() -> None:
    result = parse("\ufeff// c\r\nQ1 {T}\r\n\r\nQ2 {F}\r\n")
    assert [i["source"] for i in result.items] == [
        "Imported from GIFT (line 2)",
        "Imported from GIFT (line 4)",
    ]
    assert syntax_error("\ufeffQ1 {T}\r\n\r\nQ2 {\r\n").line == 3


# --- categories, ids, arguments ------------------------------------------------------------------


def test_categories_set_the_topic_of_the_questions_after_them() -> None:
    text = (
        "Before {T}\n"
        "\n"
        "$CATEGORY: $course$/top/Sustainability/Mål og delmål\n"
        "\n"
        "In goals {T}\n"
        "\n"
        "$CATEGORY: Procurement//Tendering\n"
        "Right after the category line {T}\n"
        "\n"
        "$CATEGORY:\n"
        "\n"
        "Back to default {T}\n"
    )
    result = parse(text)
    assert [(i["topic"], i["source"]) for i in result.items] == [
        ("general", "Imported from GIFT (line 1)"),
        ("mal-og-delmal", "Imported from GIFT (line 5)"),
        ("procurement-tendering", "Imported from GIFT (line 8)"),
        ("general", "Imported from GIFT (line 12)"),
    ]


def test_ids_come_from_names_are_unique_and_fall_back_to_the_prefix() -> None:
    text = (
        "::Grønn omstilling:: Q {T}\n\n"
        "::Grønn omstilling:: Q {F}\n\n"
        ":::: Q {T}\n\n"
        "::???:: Q {T}\n\n"
        "Unnamed {T}\n\n"
        "::Grønn omstilling:: Q {T}\n"
    )
    result = parse(text, prefix="sdg")
    assert [i["id"] for i in result.items] == [
        "gronn-omstilling",
        "gronn-omstilling-2",
        "sdg-003",
        "sdg-004",
        "sdg-005",
        "gronn-omstilling-3",
    ]


def test_the_language_is_the_callers() -> None:
    item = one("Er det sant? {T}", lang="nb", default_topic="sdgs")
    assert item["topic"] == "sdgs"
    assert item["text"] == {"nb": {"stem": "Er det sant?"}}
    with pytest.raises(ValueError, match="language"):
        parse_gift("Q {T}", lang="fr", default_topic="sdgs")
    with pytest.raises(ValueError, match="slug"):
        parse_gift("Q {T}", lang="nb", default_topic="Not a slug")


def test_an_empty_file_imports_nothing() -> None:
    assert parse("") == ImportResult(items=[], skipped=[])
    assert parse("// only a comment\n\n\n$CATEGORY: a/b\n") == ImportResult(items=[], skipped=[])


def test_a_moodle_export_imports() -> None:
    exported = (
        "// question: 0  name: Switch category to $course$/top/Default for SPP\n"
        "$CATEGORY: $course$/top/Default for SPP\n"
        "\n"
        "\n"
        "// question: 12  name: Targets\n"
        "::Targets::[html]<p>How many targets\\: the SDGs?</p>{\n"
        "\t~[html]<p>17</p>#[html]<p>Goals, not targets.</p>\n"
        "\t=[html]<p>169</p>#\n"
        "\t####<p>General <i>feedback</i></p>\n"
        "}\n"
    )
    item = one(exported)
    assert item["id"] == "targets"
    assert item["topic"] == "default-for-spp"
    assert item["key"] == "b"
    assert item["text"]["en"] == {
        "stem": "How many targets: the SDGs?",
        "options": {"a": "17", "b": "169"},
        "feedback": "General feedback",
    }


# --- never anything but ImportSyntaxError --------------------------------------------------------

FRAGMENTS = [
    *["::", "{", "}", "~", "=", "#", "->", "%50%", "%100%", "%-100%", "%33.3%", "*", ":", ".."],
    *["\\~", "\\=", "\\#", "\\{", "\\}", "\\:", "\\n", "\\", "//", "####"],
    *["$CATEGORY:", "$CATEGORY: a/b"],
    *["[html]", "[markdown]", "[plain]", "[moodle]", "a", "Q?", "T", "TRUE", "F", "FALSE"],
    *["1", "-2.5", "<b>", "<img src=x>", "&amp;", "@@PLUGINFILE@@", "æøå", "\ufeff", "\ufdd0"],
    *["\n", "\n\n", "\r", " ", "\t"],
]


def check_never_raises_else(text: str) -> None:
    try:
        result = parse(text)  # every item produced is valid
    except ImportSyntaxError as error:
        assert 1 <= error.line <= text.count("\n") + text.count("\r") + 1
        return
    ids = [i["id"] for i in result.items]
    assert len(set(ids)) == len(ids)
    assert all(s.line >= 1 and s.reason for s in result.skipped)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_text_raises_only_import_syntax_errors(text: str) -> None:
    check_never_raises_else(text)


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
def test_gift_fragments_raise_only_import_syntax_errors(text: str) -> None:
    check_never_raises_else(text)


# Question-shaped files reach the mapping of each type, not only the syntax checks.
ANSWER = st.builds(
    "{}{}{}".format,
    st.sampled_from(["=", "~", "", "~%50%", "~%-100%", "=%50%", "~%100%", "=%33.3%", "-> "]),
    st.sampled_from(["a", "b", "T", "1", "-2.5", "1..2", "3:0.1", "x -> y", "*", "<img>", " "]),
    st.sampled_from(["", "", "#fb", "#[html]<b>fb</b>"]),
)
ANSWERS = st.one_of(
    st.builds(
        "{}{}{}".format,
        st.sampled_from(["", "", "#"]),
        st.lists(ANSWER, max_size=6).map(" ".join),
        st.sampled_from(["", "####gf"]),
    ),
    st.lists(st.sampled_from([f for f in FRAGMENTS if f not in "{}\n\n"]), max_size=16).map(
        "".join
    ),
)
QUESTION = st.builds(
    "{}Q {{{}}}{}".format,
    st.sampled_from(["", "::n::", "[html]<b>x</b>", "[markdown]*x*", "[plain]", "\\{"]),
    ANSWERS,
    st.sampled_from(["", "", " tail", "\n// c"]),
)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(QUESTION, min_size=1, max_size=4).map("\n\n".join))
def test_question_shaped_input_raises_only_import_syntax_errors(text: str) -> None:
    check_never_raises_else(text)
