"""Reading QTI 3.0 items from other systems: standard response templates, each interaction's
type, and everything that is refused or skipped with its reason."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elearn.content.formats import import_items
from elearn.content.importing import ImportResult, ImportSyntaxError
from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes import get_item_type

NS = 'xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0"'
TEMPLATE = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/{}.xml"


def item(declaration: str, body: str, processing: str = "", ident: str = "Q-1") -> str:
    return (
        f'<qti-assessment-item {NS} identifier="{ident}" title="A question">'
        f"{declaration}"
        '<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>'
        f"<qti-item-body>{body}</qti-item-body>{processing}</qti-assessment-item>"
    )


def template(name: str) -> str:
    return f'<qti-response-processing template="{TEMPLATE.format(name)}"/>'


def read(text: str | bytes) -> ImportResult:
    return import_items("qti3", text, lang="en", default_topic="t")


def one(text: str | bytes) -> ItemSpec:
    result = read(text)
    assert result.skipped == [], result.skipped
    spec = ItemSpec.model_validate(result.items[0])
    assert get_item_type(spec.type).validate(spec) == []
    return spec


CHOICES = (
    '<qti-simple-choice identifier="ChoiceA">Oslo</qti-simple-choice>'
    '<qti-simple-choice identifier="ChoiceB">Bergen</qti-simple-choice>'
    '<qti-simple-choice identifier="Choice_C">Trondheim</qti-simple-choice>'
)


def test_a_choice_item_scored_by_the_match_correct_template_is_single_choice() -> None:
    spec = one(
        item(
            '<qti-response-declaration identifier="RESPONSE" cardinality="single" '
            'base-type="identifier"><qti-correct-response><qti-value>ChoiceA</qti-value>'
            "</qti-correct-response></qti-response-declaration>",
            '<qti-choice-interaction response-identifier="RESPONSE" max-choices="1">'
            f"<qti-prompt>Which is the capital?</qti-prompt>{CHOICES}</qti-choice-interaction>",
            template("match_correct"),
        )
    )
    assert spec.type == "single_choice"
    assert spec.id == "q-1" and spec.text["en"].stem == "Which is the capital?"  # type: ignore[union-attr]
    assert spec.text["en"].options == {
        "choicea": "Oslo",
        "choiceb": "Bergen",
        "choice-c": "Trondheim",
    }  # type: ignore[union-attr]
    assert spec.key == "choicea"


def test_a_choice_item_scored_by_a_mapping_is_multiple_response_with_its_shares() -> None:
    spec = one(
        item(
            '<qti-response-declaration identifier="RESPONSE" cardinality="multiple" '
            'base-type="identifier"><qti-correct-response><qti-value>ChoiceA</qti-value>'
            "<qti-value>ChoiceB</qti-value></qti-correct-response>"
            '<qti-mapping lower-bound="0" upper-bound="1" default-value="0">'
            '<qti-map-entry map-key="ChoiceA" mapped-value="0.5"/>'
            '<qti-map-entry map-key="ChoiceB" mapped-value="0.5"/>'
            '<qti-map-entry map-key="Choice_C" mapped-value="-0.5"/>'
            "</qti-mapping></qti-response-declaration>",
            '<qti-choice-interaction response-identifier="RESPONSE" max-choices="0">'
            f"<qti-prompt>Which are in Norway?</qti-prompt>{CHOICES}</qti-choice-interaction>",
            template("map_response"),
        )
    )
    assert spec.type == "multiple_response"
    assert spec.key == {"choicea": 0.5, "choiceb": 0.5, "choice-c": -0.5}


def test_all_or_nothing_over_several_choices_is_skipped_not_changed() -> None:
    result = read(
        item(
            '<qti-response-declaration identifier="RESPONSE" cardinality="multiple" '
            'base-type="identifier"><qti-correct-response><qti-value>ChoiceA</qti-value>'
            "</qti-correct-response></qti-response-declaration>",
            f'<qti-choice-interaction response-identifier="RESPONSE">{CHOICES}'
            "</qti-choice-interaction>",
            template("match_correct"),
        )
    )
    assert result.items == []
    assert "must score each choice by a mapping" in result.skipped[0].reason


ORDER = (
    '<qti-order-interaction response-identifier="RESPONSE" shuffle="true">'
    "<qti-prompt>Order the steps.</qti-prompt>"
    '<qti-simple-choice identifier="S1">Plan</qti-simple-choice>'
    '<qti-simple-choice identifier="S2">Tender</qti-simple-choice>'
    '<qti-simple-choice identifier="S3">Award</qti-simple-choice>'
    "</qti-order-interaction>"
)
ORDERED = (
    '<qti-response-declaration identifier="RESPONSE" cardinality="ordered" base-type="identifier">'
    "<qti-correct-response><qti-value>S1</qti-value><qti-value>S2</qti-value>"
    "<qti-value>S3</qti-value></qti-correct-response></qti-response-declaration>"
)


def test_an_order_interaction_with_match_correct_is_an_all_or_nothing_ordering() -> None:
    spec = one(item(ORDERED, ORDER, template("match_correct")))
    assert spec.type == "ordering"
    assert spec.key == {"order": ["s1", "s2", "s3"], "grading": "all_or_nothing"}
    assert get_item_type("ordering").score(spec, ["s1", "s2", "s3"], "en") == 1
    assert get_item_type("ordering").score(spec, ["s2", "s1", "s3"], "en") == 0


def test_an_order_interaction_with_someone_elses_partial_credit_is_skipped() -> None:
    custom = (
        "<qti-response-processing><qti-set-outcome-value identifier='SCORE'>"
        "<qti-base-value base-type='float'>0.5</qti-base-value></qti-set-outcome-value>"
        "</qti-response-processing>"
    )
    result = read(item(ORDERED, ORDER, custom))
    assert result.items == []
    assert "only all-or-nothing ordering" in result.skipped[0].reason


def test_text_entry_items_become_short_answers_or_numbers_by_base_type() -> None:
    text = one(
        item(
            '<qti-response-declaration identifier="RESPONSE" cardinality="single" '
            'base-type="string"><qti-correct-response><qti-value>KOFA</qti-value>'
            "</qti-correct-response></qti-response-declaration>",
            "<p>Which body hears complaints?</p><p>"
            '<qti-text-entry-interaction response-identifier="RESPONSE"/></p>',
            template("match_correct"),
        )
    )
    assert text.type == "short_answer"
    assert text.text["en"].stem == "Which body hears complaints?"  # type: ignore[union-attr]
    assert [a.answer for a in text.text["en"].accepted or []] == ["KOFA"]  # type: ignore[union-attr]
    number = one(
        item(
            '<qti-response-declaration identifier="RESPONSE" cardinality="single" '
            'base-type="float"><qti-correct-response><qti-value>17</qti-value>'
            "</qti-correct-response></qti-response-declaration>",
            '<p>How many goals? <qti-text-entry-interaction response-identifier="RESPONSE"/></p>',
            template("match_correct"),
        )
    )
    assert number.type == "numeric" and number.key == {"value": 17, "tolerance": 0}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "<p>Write an essay.</p><qti-extended-text-interaction response-identifier='RESPONSE'/>",
            "qti-extended-text-interaction items are not supported",
        ),
        (f"<p><img src='map.png' alt='A map'/></p>{ORDER}", "the image 'map.png' is not in the"),
        (f"<p><audio src='a.mp3'/></p>{ORDER}", "depends on embedded media (<audio>)"),
        (f"{ORDER}{ORDER}", "several interactions"),
        ("<p>Nothing to answer.</p>", "no interaction"),
    ],
)
def test_what_elearn_cannot_hold_is_skipped_with_the_reason(body: str, reason: str) -> None:
    result = read(item(ORDERED, body, template("match_correct")))
    assert result.items == []
    assert reason in result.skipped[0].reason


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('<!DOCTYPE x [<!ENTITY a "b">]><qti-assessment-item/>', "DTDs and entities"),
        ("<qti-assessment-item><unclosed></qti-assessment-item>", "malformed XML"),
        ("<quiz/>", "no qti-assessment-item found"),
    ],
)
def test_a_file_that_is_not_qti_is_refused_whole(text: str, message: str) -> None:
    with pytest.raises(ImportSyntaxError, match=message):
        read(text)


def package(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_package_is_read_in_manifest_order_and_a_broken_one_is_refused() -> None:
    first = item(ORDERED, ORDER, template("match_correct"), ident="second-in-name-order")
    second = item(ORDERED, ORDER, template("match_correct"), ident="a-first-in-name-order")
    manifest = (
        "<manifest><resources>"
        '<resource href="items/z.xml" type="imsqti_item_xmlv3p0"/>'
        '<resource href="items/a.xml" type="imsqti_item_xmlv3p0"/>'
        "</resources></manifest>"
    )
    result = read(
        package(
            {
                "imsmanifest.xml": manifest.encode(),
                "items/a.xml": second.encode(),
                "items/z.xml": first.encode(),
            }
        )
    )
    assert [i["id"] for i in result.items] == ["second-in-name-order", "a-first-in-name-order"]
    with pytest.raises(ImportSyntaxError, match="not a readable zip"):
        read(b"PK\x03\x04 but not really a zip")
    with pytest.raises(ImportSyntaxError, match="not UTF-8"):
        read(package({"items/a.xml": "<qti-assessment-item/>".encode("utf-16")}))
    with pytest.raises(ImportSyntaxError, match="not UTF-8 text and not a zip"):
        read(b"\xff\xfe\x00 binary")


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_input_is_read_or_refused_with_a_line_never_a_crash(data: Any) -> None:
    try:
        result = read(data)
    except ImportSyntaxError as exc:
        assert exc.line >= 1
    else:
        assert isinstance(result, ImportResult)
