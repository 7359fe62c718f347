"""Aiken and Moodle XML files import as valid items; what cannot be mapped is skipped by line."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elearn.content.aiken import parse_aiken
from elearn.content.importing import ImportResult, ImportSyntaxError, Skipped
from elearn.content.moodle_xml import parse_moodle_xml
from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes import get_item_type

FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def assert_valid(result: ImportResult) -> None:
    """Every item passes the content model and its type's own checks; ids are unique."""
    for produced in result.items:
        spec = ItemSpec.model_validate(produced)
        assert get_item_type(spec.type).validate(spec) == [], produced
    ids = [i["id"] for i in result.items]
    assert len(ids) == len(set(ids))
    assert all(s.line >= 1 for s in result.skipped)


def aiken(text: str, **kwargs: Any) -> ImportResult:
    result = parse_aiken(textwrap.dedent(text), lang="en", default_topic="general", **kwargs)
    assert_valid(result)
    return result


def moodle(body: str, **kwargs: Any) -> ImportResult:
    """``body`` (the questions) inside a quiz; line 1 is the XML declaration, 2 is <quiz>."""
    text = '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' + textwrap.dedent(body) + "</quiz>\n"
    result = parse_moodle_xml(text, lang="nb", default_topic="general", **kwargs)
    assert_valid(result)
    return result


def aiken_error(text: str) -> ImportSyntaxError:
    with pytest.raises(ImportSyntaxError) as caught:
        parse_aiken(textwrap.dedent(text), lang="en", default_topic="general")
    return caught.value


def moodle_error(text: str) -> ImportSyntaxError:
    with pytest.raises(ImportSyntaxError) as caught:
        parse_moodle_xml(text, lang="nb", default_topic="general")
    return caught.value


# --- Aiken --------------------------------------------------------------------------------------


def test_aiken_questions_become_single_choice_items() -> None:
    result = aiken(
        """\
        How many goals does Agenda 2030 have?
        A) 8
        B) 17
        C) 169
        ANSWER: B

        Which law governs public procurement in Norway?
        A. The Procurement Act
        B. The Planning Act
        ANSWER: A
        """,
        source_name="sdg.txt",
    )
    assert result.skipped == []
    assert result.items == [
        {
            "id": "aiken-001",
            "topic": "general",
            "type": "single_choice",
            "key": "b",
            "source": "Imported from Aiken (sdg.txt, line 1)",
            "text": {
                "en": {
                    "stem": "How many goals does Agenda 2030 have?",
                    "options": {"a": "8", "b": "17", "c": "169"},
                }
            },
        },
        {
            "id": "aiken-002",
            "topic": "general",
            "type": "single_choice",
            "key": "a",
            "source": "Imported from Aiken (sdg.txt, line 7)",
            "text": {
                "en": {
                    "stem": "Which law governs public procurement in Norway?",
                    "options": {"a": "The Procurement Act", "b": "The Planning Act"},
                }
            },
        },
    ]


def test_aiken_tolerates_crlf_bom_spacing_and_questions_without_blank_lines() -> None:
    text = "\ufeff  First?\r\nline two\r\n\r\nA)  yes \r\nB) no\r\nANSWER:  b\r\nSecond?\r\nA) 1\r\nB) 2\r\nANSWER: A\r\n\r\n\r\n"
    result = parse_aiken(text, lang="da", default_topic="t", prefix="imp")
    assert_valid(result)
    assert [(i["id"], i["key"], i["source"]) for i in result.items] == [
        ("imp-001", "b", "Imported from Aiken (line 1)"),
        ("imp-002", "a", "Imported from Aiken (line 7)"),
    ]
    assert result.items[0]["text"] == {
        "da": {"stem": "First?\nline two", "options": {"a": "yes", "b": "no"}}
    }


def test_aiken_option_letters_map_to_ids_in_source_order() -> None:
    result = aiken("Q?\nA) one\nC) three\nANSWER: C\n")
    assert result.items[0]["key"] == "b"
    assert result.items[0]["text"]["en"]["options"] == {"a": "one", "b": "three"}


def test_empty_aiken_file_has_no_items() -> None:
    assert parse_aiken(" \n\n", lang="en", default_topic="t") == ImportResult([], [])


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("Q?\nA) x\nB) y\n", 1, "the question has no ANSWER line"),
        ("Q1?\nA) x\nB) y\n\nQ2?\nA) x\nB) y\nANSWER: A\n", 1, "the question has no ANSWER line"),
        (
            "Q1?\nA) x\nB) y\nANSWER: A\n\nQ2?\nA) x\nB) y\nQ3?\n",
            9,
            "expected another option ('A) ...') or 'ANSWER: <letter>' (the question on line 6 has no ANSWER line)",
        ),
        ("Q?\nA) x\nB) y\nANSWER: D\n", 4, "ANSWER names 'D', which is not an option (A, B)"),
        ("Q?\nA) x\nB) y\nANSWER:\n", 4, "ANSWER names no letter, which is not an option (A, B)"),
        ("Q?\nA) x\nB) y\nANSWER: AB\n", 4, "ANSWER names 'AB', which is not an option (A, B)"),
        ("\n\nQ?\nA) only\nANSWER: A\n", 3, "the question needs at least 2 options, found 1"),
        ("Q?\nANSWER: A\n", 1, "the question needs at least 2 options, found 0"),
        ("Q?\nA) x\n", 1, "the question needs at least 2 options, found 1"),
        ("Q?\nA) x\nB)\nANSWER: A\n", 3, "option B has no text"),
        ("Q?\nA) x\nA) y\nANSWER: A\n", 3, "option A is given twice"),
    ],
)
def test_aiken_errors_name_their_line(text: str, line: int, message: str) -> None:
    error = aiken_error(text)
    assert (error.line, error.message) == (line, message)
    assert str(error) == f"line {line}: {message}"


def test_aiken_refuses_text_that_is_not_unicode() -> None:
    error = aiken_error("Q?\nA) \ud800\nB) y\nANSWER: A\n")
    assert (error.line, error.message) == (2, "the text is not valid Unicode")


# --- Moodle XML: one sample per type --------------------------------------------------------------

SINGLE = """\
<question type="multichoice">
  <name><text>Terskelverdi</text></name>
  <questiontext format="html">
    <text><![CDATA[<p>Hva er <strong>nasjonal terskelverdi</strong> &amp; hvorfor?</p><script>alert(1)</script><p onclick="x()">Velg ett svar.</p>]]></text>
  </questiontext>
  <generalfeedback format="html"><text><![CDATA[<p>Se <a href="https://lovdata.no">FOA</a> § 5-1.</p>]]></text></generalfeedback>
  <defaultgrade>1</defaultgrade>
  <single>true</single>
  <shuffleanswers>true</shuffleanswers>
  <answer fraction="0" format="html"><text>100 000 kr</text><feedback><text>Nei</text></feedback></answer>
  <answer fraction="100" format="html"><text><![CDATA[<p>1,3 mill. kr</p>]]></text></answer>
  <answer fraction="0" format="html"><text>&amp;lt;b&amp;gt; 5 mill. kr <i>eks. mva.</i></text></answer>
</question>
"""


def test_multichoice_single_answer_is_single_choice_with_sanitised_plain_text() -> None:
    result = moodle(SINGLE, source_name="quiz.xml")
    assert result.skipped == []
    assert result.items == [
        {
            "id": "terskelverdi",
            "topic": "general",
            "type": "single_choice",
            "key": "b",
            "source": "Imported from Moodle XML (quiz.xml, line 3)",
            "text": {
                "nb": {
                    "stem": "Hva er nasjonal terskelverdi & hvorfor?\nVelg ett svar.",
                    "options": {
                        "a": "100 000 kr",
                        "b": "1,3 mill. kr",
                        "c": "<b> 5 mill. kr eks. mva.",
                    },
                    "feedback": "Se FOA § 5-1.",
                }
            },
        }
    ]


def test_multichoice_several_answers_is_multiple_response_with_fractions() -> None:
    result = moodle(
        """\
        <question type="multichoice">
          <name><text>Miljøkrav</text></name>
          <questiontext format="plain_text"><text>Which are environmental criteria?</text></questiontext>
          <single>false</single>
          <answer fraction="50"><text>Energy use</text></answer>
          <answer fraction="50"><text>Emissions</text></answer>
          <answer fraction="-100"><text>Price</text></answer>
          <answer fraction="0"><text>Colour</text></answer>
        </question>
        """
    )
    assert result.items == [
        {
            "id": "miljokrav",
            "topic": "general",
            "type": "multiple_response",
            "key": {"a": 0.5, "b": 0.5, "c": -1.0},
            "source": "Imported from Moodle XML (line 3)",
            "text": {
                "nb": {
                    "stem": "Which are environmental criteria?",
                    "options": {"a": "Energy use", "b": "Emissions", "c": "Price", "d": "Colour"},
                }
            },
        }
    ]


def test_multiple_response_thirds_are_rescaled_to_add_up_to_one() -> None:
    result = moodle(
        """\
        <question type="multichoice">
          <questiontext><text>Pick three</text></questiontext>
          <single>false</single>
          <answer fraction="33.333"><text>a</text></answer>
          <answer fraction="33.333"><text>b</text></answer>
          <answer fraction="33.333"><text>c</text></answer>
          <answer fraction="-33.333"><text>d</text></answer>
        </question>
        """
    )
    key = result.items[0]["key"]
    assert sum(w for w in key.values() if w > 0) == pytest.approx(1.0, abs=1e-12)
    # Moodle takes -33.333 as its grade option -0.3333333 (within 0.00001), as elearn does.
    assert key["a"] == pytest.approx(1 / 3) and key["d"] == -0.3333333


def test_truefalse_becomes_true_false() -> None:
    result = moodle(
        """\
        <question type="truefalse">
          <name><text>Agenda 2030</text></name>
          <questiontext format="moodle_auto_format"><text>Agenda 2030 has 18 goals.
        Think first.</text></questiontext>
          <generalfeedback><text>It has 17.</text></generalfeedback>
          <answer fraction="0"><text>true</text></answer>
          <answer fraction="100"><text>false</text></answer>
        </question>
        """
    )
    assert result.items == [
        {
            "id": "agenda-2030",
            "topic": "general",
            "type": "true_false",
            "key": False,
            "source": "Imported from Moodle XML (line 3)",
            "text": {
                "nb": {"stem": "Agenda 2030 has 18 goals.\nThink first.", "feedback": "It has 17."}
            },
        }
    ]


def test_shortanswer_accepted_answers_carry_their_credit() -> None:
    result = moodle(
        """\
        <question type="shortanswer">
          <name><text>Hovedstad</text></name>
          <questiontext format="html"><text>Hva er hovedstaden i Norge?</text></questiontext>
          <usecase>0</usecase>
          <answer fraction="100"><text>Oslo</text></answer>
          <answer fraction="50"><text>Christiania</text></answer>
          <answer fraction="0"><text>*</text><feedback><text>Nei</text></feedback></answer>
        </question>
        """
    )
    assert result.items == [
        {
            "id": "hovedstad",
            "topic": "general",
            "type": "short_answer",
            "source": "Imported from Moodle XML (line 3)",
            "text": {
                "nb": {
                    "stem": "Hva er hovedstaden i Norge?",
                    "accepted": [
                        {"answer": "Oslo", "credit": 1.0},
                        {"answer": "Christiania", "credit": 0.5},
                    ],
                    # The zero-credit catch-all's feedback becomes the general feedback.
                    "feedback": "Nei",
                }
            },
        }
    ]
    assert result.imported[0].changes == (
        "the zero-credit catch-all answer ('*') was left out: other answers score 0 anyway",
        "the catch-all answer's feedback became the question's general feedback",
    )


def test_numerical_full_credit_answer_gives_value_and_tolerance() -> None:
    result = moodle(
        """\
        <question type="numerical">
          <name><text>Delmål</text></name>
          <questiontext format="html"><text>Hvor mange delmål (antall)?</text></questiontext>
          <answer fraction="100"><text>169</text><tolerance>0.5</tolerance></answer>
          <answer fraction="0"><text>*</text></answer>
          <units><unit><multiplier>1</multiplier><unit_name>stk</unit_name></unit></units>
        </question>
        """
    )
    assert result.items == [
        {
            "id": "delmal",
            "topic": "general",
            "type": "numeric",
            "key": {"value": 169, "tolerance": 0.5},
            "source": "Imported from Moodle XML (line 3)",
            "text": {"nb": {"stem": "Hvor mange delmål (antall)?"}},
        }
    ]


def test_matching_pairs_with_a_distractor() -> None:
    result = moodle(
        """\
        <question type="matching">
          <name><text>Match</text></name>
          <questiontext format="html"><text>Match the goal to its number.</text></questiontext>
          <subquestion format="html"><text><![CDATA[<p>No poverty</p>]]></text><answer><text>1</text></answer></subquestion>
          <subquestion format="html"><text>Zero hunger</text><answer><text>2</text></answer></subquestion>
          <subquestion format="html"><text>End hunger</text><answer><text>2</text></answer></subquestion>
          <subquestion format="html"><text></text><answer><text>17</text></answer></subquestion>
        </question>
        """
    )
    assert result.items == [
        {
            "id": "match",
            "topic": "general",
            "type": "matching",
            "key": {"p1": "a", "p2": "b", "p3": "b"},
            "source": "Imported from Moodle XML (line 3)",
            "text": {
                "nb": {
                    "stem": "Match the goal to its number.",
                    "prompts": {"p1": "No poverty", "p2": "Zero hunger", "p3": "End hunger"},
                    "options": {"a": "1", "b": "2", "c": "17"},
                }
            },
        }
    ]


# --- Moodle XML: topics, ids, skips -----------------------------------------------------------------


def tf(name: str = "", stem: str = "S") -> str:
    named = f"<name><text>{name}</text></name>" if name else ""
    return (
        f'<question type="truefalse">{named}<questiontext><text>{stem}</text></questiontext>'
        '<answer fraction="100"><text>true</text></answer>'
        '<answer fraction="0"><text>false</text></answer></question>\n'
    )


def category(path: str) -> str:
    return f'<question type="category"><category><text>{path}</text></category></question>\n'


def test_categories_set_the_topic_of_the_questions_after_them() -> None:
    result = moodle(
        tf()
        + category("$course$/top/Offentlige anskaffelser/Miljø og klima")
        + tf()
        + category("$course$/top/Lover // forskrifter")
        + tf()
        + category("$course$/top")
        + tf()
        + category("$system$/Etikk")
        + tf()
    )
    assert [i["topic"] for i in result.items] == [
        "general",
        "miljo-og-klima",
        "lover-forskrifter",
        "general",
        "etikk",
    ]


def test_ids_come_from_names_are_unique_and_fall_back_to_the_prefix_and_number() -> None:
    result = moodle(tf("Spørsmål 1") + tf("Spørsmål 1") + tf() + tf("!!!") + tf("Spørsmål 1"))
    assert [i["id"] for i in result.items] == [
        "sporsmal-1",
        "sporsmal-1-2",
        "moodle-003",
        "moodle-004",
        "sporsmal-1-3",
    ]
    again = parse_moodle_xml(
        "<quiz>" + tf() + tf() + "</quiz>", lang="en", default_topic="t", prefix="bank"
    )
    assert [i["id"] for i in again.items] == ["bank-001", "bank-002"]


def test_unsupported_types_and_embedded_files_are_skipped_with_their_line() -> None:
    result = moodle(
        """\
        <question type="essay"><questiontext><text>Discuss.</text></questiontext></question>
        <question type="description"><questiontext><text>Read this.</text></questiontext></question>
        <question type="multianswer"><questiontext><text>{1:SHORTANSWER:=x}</text></questiontext></question>
        <question type="calculated"><questiontext><text>{a}+1</text></questiontext></question>
        <question type="ddwtos"><questiontext><text>[[1]]</text></questiontext></question>
        <question type="ordering"><questiontext><text>Order</text></questiontext><answer><text>Only</text></answer></question>
        <question><questiontext><text>No type</text></questiontext></question>
        <question type="truefalse">
          <questiontext format="html">
            <text><![CDATA[<p>Is this a tree? <img src="@@PLUGINFILE@@/tree.png"></p>]]></text>
            <file name="tree.png" path="/" encoding="base64">PHN2Zz48L3N2Zz4=</file>
          </questiontext>
          <answer fraction="100"><text>true</text></answer>
          <answer fraction="0"><text>false</text></answer>
        </question>
        <question type="truefalse">
          <questiontext format="html"><text><![CDATA[See <a href="@@PLUGINFILE@@/a.pdf">this</a>.]]></text></questiontext>
          <answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer>
        </question>
        <question type="truefalse">
          <questiontext format="html"><text><![CDATA[<img src="https://example.org/x.png">]]></text></questiontext>
          <answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer>
        </question>
        """
        + tf("kept")
    )
    assert [i["id"] for i in result.items] == ["kept"]
    assert result.skipped == [
        Skipped(3, "essay questions cannot be scored automatically"),
        Skipped(4, "a description is not a question"),
        Skipped(5, "cloze (embedded answers) questions are not supported"),
        Skipped(6, "calculated questions are not supported"),
        Skipped(7, "drag-and-drop questions are not supported"),
        Skipped(8, "an ordering question needs at least 2 items"),  # read as ordering, but one item
        Skipped(9, "the question has no type"),
        # An SVG under a .png name is no image elearn takes; a PDF the text links to and an
        # image on another site are not in the file: the question depends on them.
        Skipped(
            10,
            "the image '@@PLUGINFILE@@/tree.png': not a PNG, JPEG, GIF or WebP image"
            " (SVG and other formats are refused)",
        ),
        Skipped(18, "the question depends on the linked media file '@@PLUGINFILE@@/a.pdf'"),
        Skipped(22, "the image 'https://example.org/x.png' is not in the file"),
    ]
    assert result.items[0]["source"] == "Imported from Moodle XML (line 26)"


def mc(answers: str, single: str = "true") -> str:
    return (
        '<question type="multichoice"><questiontext><text>Q</text></questiontext>'
        f"<single>{single}</single>{answers}</question>\n"
    )


def ans(fraction: str, text: str = "x", extra: str = "") -> str:
    return f'<answer fraction="{fraction}"><text>{text}</text>{extra}</answer>'


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        (mc(ans("100", "a") + ans("0", "b"), "false"), None),
        (
            mc(ans("50", "a") + ans("30", "b") + ans("0", "c"), "false"),
            "the right answers' fractions add up to 80 %, not 100 %",
        ),
        (mc(ans("0", "a") + ans("-50", "b"), "false"), "no answer gets credit"),
        (mc(ans("100", "a")), "needs at least 2 answers, found 1"),
        (mc(ans("0", "a") + ans("0", "b")), "no answer gets full credit"),
        (
            mc(ans("100", "a") + ans("100", "b")),
            "more than one answer gets full credit in a single-answer question",
        ),
        (
            mc(ans("100", "a") + ans("50", "b")),
            "partial or negative credit in a single-answer question is not supported",
        ),
        (mc(ans("100", "a") + ans("0", "")), "an answer has no text"),
        (mc(ans("100", "a") + ans("abc", "b")), "answer fraction 'abc' is not a number"),
        (mc(ans("100", "a") + ans("nan", "b")), "answer fraction 'nan' is outside -100..100"),
        (
            mc(ans("100", "a") + ans("150", "b"), "false"),
            "answer fraction '150' is outside -100..100",
        ),
        (
            '<question type="truefalse"><questiontext><text>Q</text></questiontext>'
            + ans("100", "sant")
            + ans("0", "usant")
            + "</question>",
            "the answers of a true/false question must be 'true' and 'false'",
        ),
        (
            '<question type="truefalse"><questiontext><text>Q</text></questiontext>'
            + ans("100", "true")
            + ans("100", "false")
            + "</question>",
            "exactly one of true and false must get full credit",
        ),
        (
            '<question type="shortanswer"><questiontext><text>Q</text></questiontext>'
            + ans("100", "Os*")
            + "</question>",
            "wildcard answers ('*') are not supported",
        ),
        (
            '<question type="shortanswer"><questiontext><text>Q</text></questiontext>'
            + ans("90", "Oslo")
            + "</question>",
            "no answer gets full credit",
        ),
        (
            '<question type="numerical"><questiontext><text>Q</text></questiontext>'
            + ans("50", "3", "<tolerance>1</tolerance>")
            + "</question>",
            "no numeric answer gets full credit (100 %)",
        ),
        (
            '<question type="numerical"><questiontext><text>Q</text></questiontext>'
            + ans("0", "3")
            + "</question>",
            "no numeric answer gets full credit (100 %)",
        ),
        (
            '<question type="numerical"><questiontext><text>Q</text></questiontext>'
            + ans("100", "three")
            + "</question>",
            "the answer 'three' is not a number",
        ),
        (
            '<question type="numerical"><questiontext><text>Q</text></questiontext>'
            + ans("100", "3")
            + "<units><unit><multiplier>1000</multiplier><unit_name>g</unit_name></unit></units>"
            + "</question>",
            "unit multipliers are not supported",
        ),
        (
            '<question type="matching"><questiontext><text>Q</text></questiontext>'
            "<subquestion><text>one</text><answer><text>1</text></answer></subquestion>"
            "</question>",
            "a matching question needs at least 2 pairs",
        ),
        (
            '<question type="shortanswer"><questiontext><text> </text></questiontext>'
            + ans("100", "x")
            + "</question>",
            "the question has no text",
        ),
    ],
)
def test_scoring_that_cannot_be_mapped_exactly_is_skipped(
    question: str, reason: str | None
) -> None:
    result = moodle(question)
    if reason is None:
        assert len(result.items) == 1 and result.skipped == []
    else:
        assert result.items == [] and result.skipped == [Skipped(3, reason)]


def test_a_shortanswer_escaped_star_is_a_literal_star() -> None:
    result = moodle(
        '<question type="shortanswer"><questiontext><text>Q</text></questiontext>'
        + ans("100", "a\\*b")
        + "</question>"
    )
    assert result.items[0]["text"]["nb"]["accepted"] == [{"answer": "a*b", "credit": 1.0}]


# --- Moodle XML: malformed and refused input ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("<quiz>\n<question>\n</quiz>\n", 3, "malformed XML: mismatched tag (column 3)"),
        ("", 1, "malformed XML: no element found (column 1)"),
        ("not xml at all", 1, "malformed XML: syntax error (column 1)"),
        ("<quiz>\n\n<a>&bogus;</a></quiz>", 3, "malformed XML: undefined entity (column 4)"),
        ("<quiz/>\n<quiz/>", 2, "malformed XML: junk after document element (column 1)"),
        ("\n<questions/>", 2, "the root element must be <quiz>, not <questions>"),
    ],
)
def test_malformed_xml_names_its_line(text: str, line: int, message: str) -> None:
    error = moodle_error(text)
    assert (error.line, error.message) == (line, message)


@pytest.mark.parametrize(
    "text",
    [
        '<?xml version="1.0"?>\n<!DOCTYPE quiz [\n<!ENTITY a "aaaaaaaaaa">\n<!ENTITY b "&a;&a;&a;&a;&a;">\n]>\n<quiz>&b;</quiz>',
        '<?xml version="1.0"?>\n<!DOCTYPE quiz SYSTEM "http://example.org/quiz.dtd">\n<quiz/>',
        '<?xml version="1.0"?>\n<!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<quiz>&x;</quiz>',
    ],
)
def test_dtds_and_entities_are_refused(text: str) -> None:
    error = moodle_error(text)
    assert error.line == 2
    assert error.message.startswith("DTDs are not accepted")


def test_an_empty_quiz_has_no_items() -> None:
    assert parse_moodle_xml("<quiz/>", lang="en", default_topic="t") == ImportResult([], [])


# --- fuzzing: nothing but ImportSyntaxError, and whatever comes out is valid ---------------------------

AIKEN_LINES = [
    "Question?",
    "A) one",
    "B) two",
    "C. three",
    "A)",
    "a) lower",
    "ANSWER: A",
    "ANSWER: b",
    "ANSWER: Z",
    "ANSWER:",
    "",
    "  ",
    "\t",
    "\x1c",
    "\u2028",
    "Z) last",
]


def try_parse(parser: Callable[..., ImportResult], text: str) -> None:
    """Any text gives valid items or an ImportSyntaxError naming a line, never another error."""
    try:
        result = parser(text, lang="en", default_topic="t")
    except ImportSyntaxError as error:
        assert error.line >= 1
        return
    assert_valid(result)


def try_aiken(text: str) -> None:
    try_parse(parse_aiken, text)


@FUZZ
@given(st.text())
def test_aiken_fuzz_any_text(text: str) -> None:
    try_aiken(text)


@FUZZ
@given(
    st.lists(st.sampled_from(AIKEN_LINES) | st.text(max_size=6), max_size=30),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_aiken_fuzz_fragments(lines: list[str], newline: str) -> None:
    try_aiken(newline.join(lines))


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.text(min_size=1, max_size=10).filter(lambda s: s.strip() != ""),
            st.lists(st.text(min_size=1, max_size=10).filter(str.strip), min_size=2, max_size=6),
            st.integers(min_value=0, max_value=5),
        ),
        max_size=5,
    )
)
def test_aiken_well_formed_questions_all_import(
    questions: list[tuple[str, list[str], int]],
) -> None:
    blocks = []
    for stem, options, pick in questions:
        letters = "ABCDEF"[: len(options)]
        body = [
            " ".join(stem.split()) or "x",
            *(f"{c}) {' '.join(o.split())}" for c, o in zip(letters, options, strict=True)),
        ]
        blocks.append("\n".join([*body, f"ANSWER: {letters[pick % len(options)]}"]))
    result = parse_aiken("\n\n".join(blocks), lang="nb", default_topic="t")
    assert_valid(result)
    assert len(result.items) == len(questions)


MOODLE_FRAGMENTS = [
    "<quiz>",
    "</quiz>",
    '<question type="multichoice">',
    '<question type="truefalse">',
    '<question type="shortanswer">',
    '<question type="numerical">',
    '<question type="matching">',
    '<question type="category">',
    '<question type="essay">',
    "<question>",
    "</question>",
    "<name><text>N</text></name>",
    "<text>",
    "</text>",
    '<questiontext format="html">',
    "</questiontext>",
    '<answer fraction="100">',
    '<answer fraction="-50">',
    "</answer>",
    "<single>false</single>",
    "<subquestion>",
    "</subquestion>",
    '<file name="a.png">',
    "</file>",
    "@@PLUGINFILE@@",
    "<![CDATA[<p>x</p>]]>",
    "&amp;",
    "&bogus;",
    "<!DOCTYPE quiz>",
    '<!ENTITY a "b">',
    "<?xml version='1.0'?>",
    "<!-- c -->",
    "true",
    "\n",
]

TAGS = [
    "name",
    "text",
    "questiontext",
    "generalfeedback",
    "answer",
    "subquestion",
    "single",
    "tolerance",
    "category",
    "file",
    "units",
    "unit",
    "multiplier",
    "feedback",
    "question",
]
ATTRS = [
    "",
    ' format="html"',
    ' format="plain_text"',
    ' format="moodle_auto_format"',
    ' format="markdown"',
    ' fraction="100"',
    ' fraction="50"',
    ' fraction="-100"',
    ' fraction="33.33333"',
    ' fraction="0"',
    ' fraction="1e400"',
    ' fraction=""',
    ' type="category"',
]
TEXTS = [
    "true",
    "false",
    "1",
    "0",
    "42",
    "*",
    "\\*",
    "0.5",
    "inf",
    "$course$/top/A//B",
    "@@PLUGINFILE@@/x.png",
    "<![CDATA[<p>Hi <img src=x> <script>x</script></p>]]>",
    "<![CDATA[<br/>]]>",
    "&lt;b&gt;",
    " ",
    "\n",
]
XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=8,
).map(escape)
ELEMENTS = st.recursive(
    st.sampled_from(TEXTS) | XML_TEXT,
    lambda inner: st.builds(
        lambda tag, attr, body: f"<{tag}{attr}>{''.join(body)}</{tag}>",
        st.sampled_from(TAGS),
        st.sampled_from(ATTRS),
        st.lists(inner, max_size=4),
    ),
    max_leaves=25,
)
QTYPES = [
    "multichoice",
    "truefalse",
    "shortanswer",
    "numerical",
    "matching",
    "category",
    "essay",
    "",
]
FORMATS = ["", ' format="html"', ' format="plain_text"', ' format="moodle_auto_format"']
SIMPLE = st.sampled_from(["true", "false", "42", "3.5", "Oslo", "a", "b", "Q?"])
LEAF_TEXT = st.one_of(SIMPLE, SIMPLE, SIMPLE, XML_TEXT, st.sampled_from(TEXTS))
FRACTION = st.sampled_from(["100", "0", "50", "-50", "33.33333", "-100", "", "x"])
ANSWER = st.builds(
    lambda fraction, fmt, body, extra: (
        f'<answer fraction="{fraction}"{fmt}><text>{body}</text>{extra}</answer>'
    ),
    FRACTION,
    st.sampled_from(FORMATS),
    LEAF_TEXT,
    st.sampled_from(["", "", "<tolerance>0.5</tolerance>", "<feedback><text>f</text></feedback>"]),
)
KNOWN_ANSWERS = st.sampled_from(
    [
        '<answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer>',
        '<answer fraction="0"><text>true</text></answer><answer fraction="100"><text>false</text></answer>',
        '<answer fraction="100"><text>42</text><tolerance>0.5</tolerance></answer>',
    ]
)
SUBQUESTION = st.builds(
    lambda fmt, prompt, match: (
        f"<subquestion{fmt}><text>{prompt}</text><answer><text>{match}</text></answer></subquestion>"
    ),
    st.sampled_from(FORMATS),
    LEAF_TEXT,
    LEAF_TEXT,
)
QUESTION = st.builds(
    lambda qtype, name, fmt, stem, single, parts, noise: (
        f'<question type="{qtype}"><name><text>{name}</text></name>'
        f"<questiontext{fmt}><text>{stem}</text></questiontext>"
        f"<generalfeedback><text>{stem}</text></generalfeedback>"
        f"<category><text>{name}</text></category>{single}{''.join(parts + noise)}</question>\n"
    ),
    st.sampled_from(QTYPES),
    LEAF_TEXT,
    st.sampled_from(FORMATS),
    LEAF_TEXT,
    st.sampled_from(["", "<single>true</single>", "<single>false</single>"]),
    st.lists(ANSWER | SUBQUESTION | KNOWN_ANSWERS, max_size=6),
    st.lists(ELEMENTS, max_size=1),
)


def try_moodle(text: str) -> None:
    try_parse(parse_moodle_xml, text)


@FUZZ
@given(st.text())
def test_moodle_fuzz_any_text(text: str) -> None:
    try_moodle(text)


@FUZZ
@given(st.lists(st.sampled_from(MOODLE_FRAGMENTS) | st.text(max_size=4), max_size=40))
def test_moodle_fuzz_fragments(fragments: list[str]) -> None:
    try_moodle("".join(fragments))


@FUZZ
@given(st.lists(QUESTION, max_size=5))
def test_moodle_fuzz_well_formed_quizzes(questions: list[str]) -> None:
    try_moodle("<quiz>\n" + "".join(questions) + "</quiz>")
