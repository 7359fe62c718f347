"""Export a question bank as a QTI 3.0 content package (a zip that other test systems import).

The package holds ``imsmanifest.xml`` (IMS CP 1.2 as QTI 3.0 profiles it), one
``qti-assessment-item`` per item under ``items/`` and one ``qti-assessment-test`` per exam of the
bank under ``tests/``. A test has one section per blueprint topic that selects as many items as
the blueprint draws (``qti-selection select="n"``) and shuffles them, the exam's time limit, and
outcome processing for its pass rules (overall and per topic, from each section's ``SCORE``).

Each item scores itself with inline response processing that gives what elearn's scorer gives;
its type writes its interaction and that processing (``write_qti`` in
:mod:`elearn.domain.itemtypes`): choices by matching or mapping, matching as ``directedPair``
shares, numbers by interval, short answers by a case-insensitive mapping (elearn also ignores
spacing and end punctuation, which QTI's mapping cannot express), ordering by position with
``qti-index``. An item QTI cannot express (an ordering graded by its longest ordered subset) is
left out of the package and reported.

The rationale is modal feedback shown after the response is processed. What QTI has no place
for: the other languages (one package per language), outcome minima of a blueprint and the
difficulty tolerance of fair forms (the test draws uniformly within each section).

The zip is deterministic: the same bank and language give the same bytes.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import replace

from elearn.content.exporting import EXPORT_NOTE, Exported, ExportSource, Skips, pick_alt
from elearn.domain.content import ExamSpec, ItemSpec
from elearn.domain.images import MEDIA_FOLDER
from elearn.domain.itemtypes import get_item_type, text_in
from elearn.domain.itemtypes.formats import QtiItemParts, inline, number, qti_identifier
from elearn.domain.itemtypes.formats import base_value as _value
from elearn.domain.itemtypes.formats import el as _el
from elearn.domain.itemtypes.formats import set_outcome as _set

QTI_NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
CP_NS = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
QTI_XSD = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd"
CP_XSD = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqtiv3p0_imscpv1p2_v1p0.xsd"
ITEM_RESOURCE = "imsqti_item_xmlv3p0"
TEST_RESOURCE = "imsqti_test_xmlv3p0"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

identifier = qti_identifier


def item_path(item: ItemSpec) -> str:
    return f"items/{item.id}.xml"


def image_path(name: str) -> str:
    """Where an image is in the package: beside the items that show it."""
    return f"items/{MEDIA_FOLDER}/{name}"


def test_path(exam: ExamSpec) -> str:
    return f"tests/{exam.id}.xml"


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
    """One ``qti-assessment-item``; the item's type writes its interaction and scoring
    (:class:`~elearn.domain.itemtypes.Unsupported` when QTI cannot express it)."""
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
    if item.images:  # shown with the question, before it is answered
        figures = _el(body, "div", **{"class": "images"})
        for image in item.images:
            _el(figures, "img", src=f"{MEDIA_FOLDER}/{image.file}", alt=pick_alt(image, lang))
    processing = _el(root, "qti-response-processing")
    get_item_type(item.type).write_qti(QtiItemParts(declaration, body, processing), item, lang)
    if text.feedback:
        _set(processing, "FEEDBACK", "RATIONALE", "identifier")
        feedback = _el(
            root,
            "qti-modal-feedback",
            outcome_identifier="FEEDBACK",
            identifier="RATIONALE",
            show_hide="show",
        )
        inline(_el(_el(feedback, "qti-content-body"), "p"), text.feedback)
    return _document(root)


# --- tests ---------------------------------------------------------------------------------------


def write_test(exam: ExamSpec, source: ExportSource) -> bytes:
    """A ``qti-assessment-test``: a section per blueprint topic over the items written."""
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
            if item.topic == entry.topic and item.pool == exam.pool:
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
        for image in item.images:
            _el(resource, "file", href=image_path(image.file))
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
            if item.topic in drawn and item.pool == exam.pool:
                _el(resource, "dependency", identifierref=f"item-{item.id}")
    return _document(root)


def write_qti3(source: ExportSource) -> Exported:
    """The package; an item QTI cannot express is left out of it (and of every test) and noted."""
    skips = Skips()
    written = list(
        skips.each(
            source.items, lambda item: (item, write_item(source.has_media(item), source.lang))
        )
    )
    source = replace(source, items=[item for item, _data in written])
    files = [("imsmanifest.xml", write_manifest(source))]
    files += [(item_path(item), data) for item, data in written]
    files += [(test_path(exam), write_test(exam, source)) for exam in source.exams]
    names = sorted({image.file for item in source.items for image in item.images})
    files += [(image_path(name), source.media[name]) for name in names]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return skips.result(buffer.getvalue())
