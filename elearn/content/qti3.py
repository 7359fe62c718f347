"""Export a question bank as a QTI 3.0 content package (a zip that other test systems import).

The package holds ``imsmanifest.xml`` (IMS CP 1.2 as QTI 3.0 profiles it), one
``qti-assessment-item`` per item under ``items/`` and one ``qti-assessment-test`` per exam of the
bank under ``tests/``. A test has one section per blueprint topic that selects as many items as
the blueprint draws (``qti-selection select="n"``) and shuffles them, the exam's time limit, and
outcome processing for its pass rules (overall and per topic, from each section's ``SCORE``).

Each item scores itself with inline response processing that gives what elearn's scorer gives:

- ``single_choice``, ``true_false``: 1 when the response matches the correct response, else 0;
- ``multiple_response``: the mapped sum of the chosen options' fractions, bounded to 0..1;
- ``matching``: ``directedPair`` responses, each right pair worth 1/n of the prompts;
- ``numeric``: 1 when the number lies within the key's interval (value ± tolerance or min..max);
- ``short_answer``: the credit of the accepted answer, case-insensitively (elearn also ignores
  spacing and end punctuation, which QTI's mapping cannot express).

The rationale is modal feedback shown after the response is processed. What QTI has no place
for: the other languages (one package per language), outcome minima of a blueprint and the
difficulty tolerance of fair forms (the test draws uniformly within each section).

The zip is deterministic: the same bank and language give the same bytes.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable

from elearn.content.exporting import EXPORT_NOTE, ExportSource, number, numeric_interval
from elearn.domain.content import ExamSpec, ItemSpec
from elearn.domain.items import text_in, weights

QTI_NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
CP_NS = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
QTI_XSD = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd"
CP_XSD = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqtiv3p0_imscpv1p2_v1p0.xsd"
ITEM_RESOURCE = "imsqti_item_xmlv3p0"
TEST_RESOURCE = "imsqti_test_xmlv3p0"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_NOT_NAME_START = re.compile(r"^[^A-Za-z_]")


def identifier(value: str) -> str:
    """A slug as a QTI identifier, which may not begin with a digit: ``2030`` -> ``_2030``."""
    return "_" + value if _NOT_NAME_START.match(value) else value


def item_path(item: ItemSpec) -> str:
    return f"items/{item.id}.xml"


def test_path(exam: ExamSpec) -> str:
    return f"tests/{exam.id}.xml"


# --- building XML --------------------------------------------------------------------------------


def _el(parent: ET.Element | None, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    attributes = {k.replace("_", "-"): v for k, v in attrs.items()}
    node = ET.Element(tag, attributes) if parent is None else ET.SubElement(parent, tag, attributes)
    if text is not None:
        node.text = text
    return node


def _inline(parent: ET.Element, text: str) -> None:
    """Plain text inside ``parent``, a new line as ``<br/>``."""
    lines = text.split("\n")
    parent.text = lines[0]
    for line in lines[1:]:
        _el(parent, "br").tail = line


def _value(parent: ET.Element, value: str, base_type: str) -> ET.Element:
    return _el(parent, "qti-base-value", value, base_type=base_type)


def _set(parent: ET.Element, outcome: str, value: str, base_type: str = "float") -> None:
    _value(_el(parent, "qti-set-outcome-value", identifier=outcome), value, base_type)


def _document(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def _root(tag: str, namespace: str, schema: str, **attrs: str) -> ET.Element:
    root = _el(None, tag, **attrs)
    root.set("xmlns", namespace)
    root.set("xmlns:xsi", XSI_NS)
    root.set("xsi:schemaLocation", f"{namespace} {schema}")
    return root


# --- items ---------------------------------------------------------------------------------------


def write_item(item: ItemSpec, lang: str) -> bytes:
    text = text_in(item, lang)
    root = _root(
        "qti-assessment-item",
        QTI_NS,
        QTI_XSD,
        identifier=identifier(item.id),
        title=item.id,
        adaptive="false",
        time_dependent="false",
    )
    root.set("xml:lang", lang)
    declaration = _el(root, "qti-response-declaration", identifier="RESPONSE")
    for name, default in (("SCORE", "0"), ("MAXSCORE", "1")):
        outcome = _el(
            root,
            "qti-outcome-declaration",
            identifier=name,
            cardinality="single",
            base_type="float",
        )
        _el(_el(outcome, "qti-default-value"), "qti-value", default)
    if text.feedback:
        _el(
            root,
            "qti-outcome-declaration",
            identifier="FEEDBACK",
            cardinality="single",
            base_type="identifier",
        )
    body = _el(root, "qti-item-body")
    processing = _el(root, "qti-response-processing")
    _BUILDERS[item.type](item, lang, declaration, body, processing)
    if text.feedback:
        _set(processing, "FEEDBACK", "RATIONALE", "identifier")
        feedback = _el(
            root,
            "qti-modal-feedback",
            outcome_identifier="FEEDBACK",
            identifier="RATIONALE",
            show_hide="show",
        )
        _inline(_el(_el(feedback, "qti-content-body"), "p"), text.feedback)
    return _document(root)


def _declare(declaration: ET.Element, cardinality: str, base_type: str, *correct: str) -> None:
    declaration.set("cardinality", cardinality)
    declaration.set("base-type", base_type)
    values = _el(declaration, "qti-correct-response")
    for value in correct:
        _el(values, "qti-value", value)


def _mapping(declaration: ET.Element, entries: Iterable[tuple[str, float]], **extra: str) -> None:
    mapping = _el(declaration, "qti-mapping", lower_bound="0", upper_bound="1", default_value="0")
    for key, value in entries:
        _el(mapping, "qti-map-entry", map_key=key, mapped_value=number(value), **extra)


def _if_null_zero(processing: ET.Element) -> ET.Element:
    """``if RESPONSE is NULL: SCORE = 0``; returns the condition for its else branches."""
    condition = _el(processing, "qti-response-condition")
    branch = _el(condition, "qti-response-if")
    _el(_el(branch, "qti-is-null"), "qti-variable", identifier="RESPONSE")
    _set(branch, "SCORE", "0")
    return condition


def _score_match_correct(processing: ET.Element) -> None:
    condition = _el(processing, "qti-response-condition")
    branch = _el(condition, "qti-response-if")
    match = _el(branch, "qti-match")
    _el(match, "qti-variable", identifier="RESPONSE")
    _el(match, "qti-correct", identifier="RESPONSE")
    _set(branch, "SCORE", "1")
    _set(_el(condition, "qti-response-else"), "SCORE", "0")


def _score_mapped(processing: ET.Element) -> None:
    condition = _if_null_zero(processing)
    otherwise = _el(condition, "qti-response-else")
    _el(
        _el(otherwise, "qti-set-outcome-value", identifier="SCORE"),
        "qti-map-response",
        identifier="RESPONSE",
    )


def _prompt(interaction: ET.Element, stem: str) -> None:
    _inline(_el(interaction, "qti-prompt"), stem)


def _choice(item: ItemSpec, lang: str, decl: ET.Element, body: ET.Element, rp: ET.Element) -> None:
    text = text_in(item, lang)
    options = text.options or {}
    single = item.type == "single_choice"
    interaction = _el(
        body,
        "qti-choice-interaction",
        response_identifier="RESPONSE",
        max_choices="1" if single else "0",
        shuffle="true",
    )
    _prompt(interaction, text.stem)
    for oid, option in options.items():
        attrs = {"fixed": "true"} if oid in item.pinned else {}
        _el(interaction, "qti-simple-choice", option, identifier=identifier(oid), **attrs)
    if single:
        _declare(decl, "single", "identifier", identifier(item.key))
        _score_match_correct(rp)
        return
    w = weights(item)
    _declare(decl, "multiple", "identifier", *(identifier(o) for o in options if w.get(o, 0) > 0))
    _mapping(decl, ((identifier(o), f) for o, f in w.items() if f))
    _score_mapped(rp)


# Labels of the two choices of a true/false item, in the item's language.
TRUE_FALSE_LABELS = {
    "nb": ("Sant", "Usant"),
    "da": ("Sandt", "Falsk"),
    "en": ("True", "False"),
}


def _true_false(
    item: ItemSpec, lang: str, decl: ET.Element, body: ET.Element, rp: ET.Element
) -> None:
    interaction = _el(
        body,
        "qti-choice-interaction",
        response_identifier="RESPONSE",
        max_choices="1",
        shuffle="false",
    )
    _prompt(interaction, text_in(item, lang).stem)
    true_label, false_label = TRUE_FALSE_LABELS.get(lang, TRUE_FALSE_LABELS["en"])
    _el(interaction, "qti-simple-choice", true_label, identifier="true")
    _el(interaction, "qti-simple-choice", false_label, identifier="false")
    _declare(decl, "single", "identifier", "true" if item.key else "false")
    _score_match_correct(rp)


def _numeric(item: ItemSpec, lang: str, decl: ET.Element, body: ET.Element, rp: ET.Element) -> None:
    low, high = numeric_interval(item.key)
    correct = item.key["value"] if "value" in item.key else (low + high) / 2
    _declare(decl, "single", "float", number(correct))
    block = _el(body, "div")
    _inline(_el(block, "p"), text_in(item, lang).stem)
    entry = _el(block, "p")
    _el(entry, "qti-text-entry-interaction", response_identifier="RESPONSE", expected_length="15")
    condition = _if_null_zero(rp)
    branch = _el(condition, "qti-response-else-if")
    both = _el(branch, "qti-and")
    for comparison, bound in (("qti-gte", low), ("qti-lte", high)):
        test = _el(both, comparison)
        _el(test, "qti-variable", identifier="RESPONSE")
        _value(test, number(bound), "float")
    _set(branch, "SCORE", "1")
    _set(_el(condition, "qti-response-else"), "SCORE", "0")


def _matching(
    item: ItemSpec, lang: str, decl: ET.Element, body: ET.Element, rp: ET.Element
) -> None:
    text = text_in(item, lang)
    prompts, options = text.prompts or {}, text.options or {}
    interaction = _el(
        body,
        "qti-match-interaction",
        response_identifier="RESPONSE",
        max_associations=str(len(prompts)),
        shuffle="true",
    )
    _prompt(interaction, text.stem)
    left = _el(interaction, "qti-simple-match-set")
    for pid, prompt in prompts.items():
        _el(left, "qti-simple-associable-choice", prompt, identifier=identifier(pid), match_max="1")
    right = _el(interaction, "qti-simple-match-set")
    for oid, option in options.items():
        _el(
            right,
            "qti-simple-associable-choice",
            option,
            identifier=identifier(oid),
            match_max=str(len(prompts)),
        )
    pairs = [f"{identifier(p)} {identifier(item.key[p])}" for p in prompts]
    _declare(decl, "multiple", "directedPair", *pairs)
    _mapping(decl, ((pair, 1 / len(pairs)) for pair in pairs))
    _score_mapped(rp)


def _short_answer(
    item: ItemSpec, lang: str, decl: ET.Element, body: ET.Element, rp: ET.Element
) -> None:
    text = text_in(item, lang)
    accepted = text.accepted or []
    _declare(decl, "single", "string", next(a.answer for a in accepted if a.credit == 1.0))
    _mapping(decl, ((a.answer, a.credit) for a in accepted), case_sensitive="false")
    block = _el(body, "div")
    _inline(_el(block, "p"), text.stem)
    entry = _el(block, "p")
    _el(entry, "qti-text-entry-interaction", response_identifier="RESPONSE", expected_length="30")
    _score_mapped(rp)


_BUILDERS = {
    "single_choice": _choice,
    "multiple_response": _choice,
    "true_false": _true_false,
    "numeric": _numeric,
    "matching": _matching,
    "short_answer": _short_answer,
}


# --- tests ---------------------------------------------------------------------------------------


def write_test(exam: ExamSpec, source: ExportSource) -> bytes:
    lang = source.lang
    root = _root(
        "qti-assessment-test",
        QTI_NS,
        QTI_XSD,
        identifier=identifier(exam.id),
        title=source.title(exam.title),
    )
    root.set("xml:lang", lang)
    outcomes = [("SCORE", "float"), ("MAXSCORE", "float"), ("PASS", "boolean")]
    for name, base_type in outcomes:
        _el(
            root,
            "qti-outcome-declaration",
            identifier=name,
            cardinality="single",
            base_type=base_type,
        )
    part = _el(
        root,
        "qti-test-part",
        identifier="part-1",
        navigation_mode="nonlinear",
        submission_mode="simultaneous",
    )
    _el(
        part,
        "qti-item-session-control",
        max_attempts="1",
        show_feedback="false",
        allow_review="true",
        show_solution="false",
    )
    _el(part, "qti-time-limits", max_time=str(exam.time_limit_minutes * 60))
    for entry in exam.blueprint:
        section = _el(
            part,
            "qti-assessment-section",
            identifier=identifier(entry.topic),
            title=source.topic_title(entry.topic),
            visible="true",
        )
        _el(section, "qti-selection", select=str(entry.items))
        _el(section, "qti-ordering", shuffle="true")
        for item in source.items:
            if item.topic == entry.topic:
                _el(
                    section,
                    "qti-assessment-item-ref",
                    identifier=identifier(item.id),
                    href=f"../{item_path(item)}",
                )
    _pass_rules(_el(root, "qti-outcome-processing"), exam)
    return _document(root)


def _sum_of_scores(parent: ET.Element, section: str | None = None) -> None:
    total = _el(parent, "qti-sum")
    attrs = {"variable_identifier": "SCORE"}
    if section is not None:
        attrs["section_identifier"] = identifier(section)
    _el(total, "qti-test-variables", **attrs)


def _at_least(parent: ET.Element, items: int, percent: float, section: str | None) -> None:
    """``sum(SCORE) / items >= percent / 100`` (of the whole test, or of one section)."""
    test = _el(parent, "qti-gte")
    share = _el(test, "qti-divide")
    _sum_of_scores(share, section)
    _value(share, str(items), "float")
    _value(test, number(percent / 100), "float")


def _pass_rules(processing: ET.Element, exam: ExamSpec) -> None:
    total_items = sum(entry.items for entry in exam.blueprint)
    _sum_of_scores(_el(processing, "qti-set-outcome-value", identifier="SCORE"))
    _set(processing, "MAXSCORE", str(total_items))
    rules = _el(_el(processing, "qti-set-outcome-value", identifier="PASS"), "qti-and")
    _at_least(rules, total_items, exam.pass_rules.overall_percent, None)
    drawn = {entry.topic: entry.items for entry in exam.blueprint}
    for topic, percent in exam.pass_rules.topics.items():
        _at_least(rules, drawn[topic], percent, topic)


# --- the package ---------------------------------------------------------------------------------


def write_manifest(source: ExportSource) -> bytes:
    root = _root("manifest", CP_NS, CP_XSD, identifier=f"elearn-{source.bank.id}-{source.lang}")
    metadata = _el(root, "metadata")
    _el(metadata, "schema", "QTI Package")
    _el(metadata, "schemaversion", "3.0.0")
    root.append(ET.Comment(f" {EXPORT_NOTE}: bank {source.bank.id}, language {source.lang} "))
    _el(root, "organizations")
    resources = _el(root, "resources")
    for item in source.items:
        resource = _el(
            resources,
            "resource",
            identifier=f"item-{item.id}",
            type=ITEM_RESOURCE,
            href=item_path(item),
        )
        _el(resource, "file", href=item_path(item))
    for exam in source.exams:
        resource = _el(
            resources,
            "resource",
            identifier=f"test-{exam.id}",
            type=TEST_RESOURCE,
            href=test_path(exam),
        )
        _el(resource, "file", href=test_path(exam))
        drawn = {entry.topic for entry in exam.blueprint}
        for item in source.items:
            if item.topic in drawn:
                _el(resource, "dependency", identifierref=f"item-{item.id}")
    return _document(root)


def write_qti3(source: ExportSource) -> bytes:
    files = [("imsmanifest.xml", write_manifest(source))]
    files += [(item_path(item), write_item(item, source.lang)) for item in source.items]
    files += [(test_path(exam), write_test(exam, source)) for exam in source.exams]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()
