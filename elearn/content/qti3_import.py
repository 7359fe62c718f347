"""Import questions from QTI 3.0: a content package (zip) or one ``qti-assessment-item`` file.

Each item's one interaction names the item type that reads it (``qti_interaction`` and
``read_qti`` in :mod:`elearn.domain.itemtypes`): choice (single, multiple, true/false), match,
text entry (numeric, short answer) and order. What the scoring must be for elearn to score it
the same is the type's to decide; this module reads the response declaration (cardinality, base
type, correct response, mapping) and recognises the response processing: the standard templates
``match_correct`` and ``map_response``, elearn's own inline forms of them, and a numeric interval.
A package's tests give the items their topics (a section per topic, as elearn writes them).

Refused, with the line: an item with no interaction or several, an interaction elearn has no
type for, media, and scoring that would change. A file that is not a QTI 3.0 item or package
raises :class:`ImportSyntaxError`. DTDs and entities are refused before anything is expanded.
"""

from __future__ import annotations

import io
import posixpath
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from elearn.content.importing import (
    PLACEHOLDER_NOTE,
    IdAllocator,
    Imported,
    ImportResult,
    ImportSyntaxError,
    Skipped,
    TakenImage,
    html_to_text,
    image_fields,
    lines_of,
    slug,
    source_note,
)
from elearn.domain.images import MAX_IMAGE_BYTES, PLACEHOLDER_ALT, image_name, image_problem
from elearn.domain.itemtypes import item_types
from elearn.domain.itemtypes.formats import Skip, finite

FORMAT_NAME = "QTI 3.0"
QTI_NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
ITEM_TAG = "qti-assessment-item"
_TEMPLATES = {
    "match_correct": "match_correct",
    "map_response": "map_response",
}
_MEDIA = {"object", "audio", "video", "picture", "iframe", "embed", "svg", "math"}
_INTERACTIONS = {
    "qti-choice-interaction",
    "qti-order-interaction",
    "qti-match-interaction",
    "qti-text-entry-interaction",
    "qti-extended-text-interaction",
    "qti-inline-choice-interaction",
    "qti-associate-interaction",
    "qti-gap-match-interaction",
    "qti-hotspot-interaction",
    "qti-hottext-interaction",
    "qti-graphic-order-interaction",
    "qti-graphic-associate-interaction",
    "qti-graphic-gap-match-interaction",
    "qti-select-point-interaction",
    "qti-slider-interaction",
    "qti-drawing-interaction",
    "qti-upload-interaction",
    "qti-media-interaction",
    "qti-custom-interaction",
    "qti-portable-custom-interaction",
    "qti-position-object-interaction",
    "qti-end-attempt-interaction",
}
_MAX_PACKAGE_FILES = 10_000
_MAX_UNPACKED = 200 * 1024 * 1024


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# --- reading XML safely, with line numbers -------------------------------------------------------


def _parse(text: str, name: str) -> ET.Element:
    """An element tree of ``text``; a DTD, an entity or malformed XML is an ImportSyntaxError.

    Namespaces are dropped from tags, so that a QTI 3.0 file reads the same with or without its
    default namespace; every element carries the line it starts on as ``_line``.
    """
    lines_of(text)
    parser = expat.ParserCreate()
    builder = ET.TreeBuilder()

    def start(tag: str, attrs: dict[str, str]) -> None:
        element = builder.start(_local(tag), {_local(k): v for k, v in attrs.items()})
        element.set("_line", str(parser.CurrentLineNumber))

    def refuse(*_args: object) -> None:
        raise ImportSyntaxError(parser.CurrentLineNumber, "DTDs and entities are not accepted")

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda tag: builder.end(_local(tag))
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        reason = expat.ErrorString(exc.code) or "not well-formed"
        where = f" in {name}" if name else ""
        raise ImportSyntaxError(exc.lineno, f"malformed XML{where}: {reason}") from None
    return builder.close()


def _line(element: ET.Element) -> int:
    return int(element.get("_line", "1"))


def _text(element: ET.Element | None, skip: frozenset[str] | set[str] = frozenset()) -> str:
    """Plain text of an element (its HTML reduced as elsewhere), leaving out ``skip`` elements."""
    if element is None:
        return ""
    clone = _without(element, skip)
    markup = ET.tostring(clone, encoding="unicode", method="html")
    return html_to_text(markup)


def _without(element: ET.Element, skip: frozenset[str] | set[str]) -> ET.Element:
    clone = ET.Element(element.tag, {k: v for k, v in element.attrib.items() if k != "_line"})
    clone.text = element.text
    clone.tail = element.tail
    for child in element:
        if child.tag in skip:
            if child.tail:  # keep the text after a skipped element
                last = clone[-1] if len(clone) else None
                if last is not None:
                    last.tail = (last.tail or "") + child.tail
                else:
                    clone.text = (clone.text or "") + child.tail
            continue
        clone.append(_without(child, skip))
    return clone


# --- one item ------------------------------------------------------------------------------------


@dataclass
class _Read:
    """A QTI item as a type reads it (:class:`elearn.domain.itemtypes.formats.QtiRead`).

    Identifiers become content ids (lower-case slugs), the same way in choices, the correct
    response and the mapping, so that a type sees one set of ids.
    """

    interaction: ET.Element
    cardinality: str
    base_type: str
    correct: list[str]
    mapping: dict[str, float]
    scoring: str
    ids: dict[str, str] = field(default_factory=dict)

    def text(self, element: ET.Element | None) -> str:
        return _text(element)

    def choices(self, tag: str) -> dict[str, str]:
        return self._choices(self.interaction.iter(tag))

    def choices_of(self, parent: ET.Element) -> dict[str, str]:
        return self._choices(parent.iter("qti-simple-associable-choice"))

    def _choices(self, elements: Any) -> dict[str, str]:
        out: dict[str, str] = {}
        for choice in elements:
            body = _text(choice)
            if not body:
                raise Skip("a choice has no text")
            out[self.ids.get(choice.get("identifier", ""), "")] = body
        return out


def _id_map(interaction: ET.Element) -> dict[str, str]:
    """Each choice identifier -> a content id: its slug when that is unique, else a letter."""
    given = [
        c.get("identifier", "")
        for c in interaction.iter()
        if c.tag in ("qti-simple-choice", "qti-simple-associable-choice")
    ]
    slugs = [slug(g.lstrip("_"), "") for g in given]
    if all(slugs) and len(set(slugs)) == len(slugs):
        return dict(zip(given, slugs, strict=True))
    return {g: _letter(i) for i, g in enumerate(given)}


def _letter(index: int) -> str:
    return chr(ord("a") + index) if index < 26 else f"o{index + 1}"


def _scoring(processing: ET.Element | None) -> str:
    """Which scoring an item's response processing is, in the words the types use."""
    if processing is None:
        return "none"
    template = processing.get("template", "")
    for name, meaning in _TEMPLATES.items():
        if template.rstrip("/").endswith(f"{name}.xml") or template.endswith(f"/{name}"):
            return meaning
    if template:
        return "template:" + template
    tags = [e.tag for e in processing.iter()]
    if "qti-map-response" in tags:
        return "map_response"
    graded = _bands(processing)
    if graded is not None and not (len(graded) == 1 and graded[0][2] == 1):
        return "bands:" + ";".join(f"{lo!r}:{hi!r}:{credit!r}" for lo, hi, credit in graded)
    interval = _interval(processing)
    if interval is not None:
        return f"interval:{interval[0]!r}:{interval[1]!r}"
    if "qti-correct" in tags and "qti-match" in tags and "qti-index" not in tags:
        return "match_correct"
    return "custom"


def _bands(processing: ET.Element) -> list[tuple[float, float, float]] | None:
    """Graded bands as elearn writes them: one condition whose branches, after ``is-null -> 0``,
    each set SCORE for a RESPONSE within ``gte low`` and ``lte high``; the rest scores 0."""
    conditions = list(processing)
    if len(conditions) != 1 or conditions[0].tag != "qti-response-condition":
        return None
    out: list[tuple[float, float, float]] = []
    for branch in list(conditions[0])[1:]:
        if branch.tag == "qti-response-else":
            if _score_set(branch) != 0.0:
                return None
            continue
        if branch.tag != "qti-response-else-if" or len(branch) != 2:
            return None
        test, credit = branch[0], _score_set(branch)
        if test.tag != "qti-and" or len(test) != 2 or credit is None or not 0 <= credit <= 1:
            return None
        bounds = {}
        for comparison in test:
            if len(comparison) != 2 or comparison[0].tag != "qti-variable":
                return None
            if comparison[1].tag != "qti-base-value":
                return None
            bounds[comparison.tag] = finite(comparison[1].text or "", "bound")
        if set(bounds) != {"qti-gte", "qti-lte"} or bounds["qti-gte"] > bounds["qti-lte"]:
            return None
        out.append((bounds["qti-gte"], bounds["qti-lte"], credit))
    return out or None


def _score_set(branch: ET.Element) -> float | None:
    """The SCORE a branch sets to a constant, else None."""
    sets = branch.findall("qti-set-outcome-value")
    if len(sets) != 1 or sets[0].get("identifier") != "SCORE" or len(sets[0]) != 1:
        return None
    value = sets[0][0]
    if value.tag != "qti-base-value":
        return None
    try:
        return float(value.text or "")
    except ValueError:
        return None


def _interval(processing: ET.Element) -> tuple[float, float] | None:
    """(low, high) when SCORE is 1 for a RESPONSE within ``gte low`` and ``lte high``."""
    low = high = None
    for comparison in processing.iter():
        if comparison.tag not in ("qti-gte", "qti-lte") or len(comparison) != 2:
            continue
        variable, bound = comparison[0], comparison[1]
        if variable.tag != "qti-variable" or bound.tag != "qti-base-value":
            continue
        value = finite(bound.text or "", "bound")
        if comparison.tag == "qti-gte":
            low = value
        else:
            high = value
    return (low, high) if low is not None and high is not None and low <= high else None


def _images(
    body: ET.Element, name: str, blobs: dict[str, bytes], notes: list[str]
) -> list[TakenImage]:
    """The ``<img>`` of an item body, read from the package beside the item; raises Skip."""
    taken = []
    for img in body.iter("img"):
        src = img.get("src", "")
        path = posixpath.normpath(posixpath.join(posixpath.dirname(name), src))
        data = blobs.get(path) if name and "://" not in src else None
        if data is None:
            raise Skip(f"the image {src[:80]!r} is not in the package")
        problem = image_problem(data)
        if problem:
            raise Skip(f"the image {src[:80]!r}: {problem}")
        alt = " ".join((img.get("alt") or "").split())
        if not alt:
            alt = PLACEHOLDER_ALT
            if PLACEHOLDER_NOTE not in notes:
                notes.append(PLACEHOLDER_NOTE)
        taken.append(TakenImage(image_name(data), data, alt))
    return taken


def _item(
    root: ET.Element, name: str = "", blobs: dict[str, bytes] | None = None
) -> tuple[str, Any, dict[str, Any], list[TakenImage], list[str]]:
    """(type name, key, text fields, images, changes) of one item; raises Skip."""
    body = root.find("qti-item-body")
    if body is None:
        raise Skip("the item has no body")
    media = next((e.tag for e in body.iter() if e.tag in _MEDIA), None)
    if media:
        raise Skip(f"the item depends on embedded media (<{media}>), not imported")
    notes: list[str] = []
    images = _images(body, name, blobs or {}, notes)
    interactions = [e for e in body.iter() if e.tag in _INTERACTIONS]
    if not interactions:
        raise Skip("the item has no interaction to answer")
    if len(interactions) > 1:
        raise Skip("an item with several interactions is not supported")
    interaction = interactions[0]
    kinds = [t for t in item_types() if t.qti_interaction == interaction.tag]
    if not kinds:
        raise Skip(f"{interaction.tag} items are not supported")
    declarations = {d.get("identifier"): d for d in root.findall("qti-response-declaration")}
    declaration = declarations.get(interaction.get("response-identifier"))
    if declaration is None:
        raise Skip("the interaction has no response declaration")
    ids = _id_map(interaction)

    def as_id(value: str) -> str:
        parts = value.split()
        return " ".join(ids.get(p, p) for p in parts)

    correct = [as_id(v.text or "") for v in declaration.iter("qti-value") if v.text]
    mapping: dict[str, float] = {}
    for entry in declaration.iter("qti-map-entry"):
        key = entry.get("map-key", "")
        mapping[as_id(key) if ids else key] = finite(entry.get("mapped-value", "0"), "mapped value")
    read = _Read(
        interaction=interaction,
        cardinality=declaration.get("cardinality", "single"),
        base_type=declaration.get("base-type", ""),
        correct=correct,
        mapping=mapping,
        scoring=_scoring(root.find("qti-response-processing")),
        ids=ids,
    )
    kind = next((t for t in kinds if t.qti_claims(read)), None)
    if kind is None:
        raise Skip(f"no item type reads this {interaction.tag}")
    key, fields = kind.read_qti(read)
    prompt = interaction.find("qti-prompt")
    stem = _text(prompt) if prompt is not None else _text(body, _INTERACTIONS)
    if not stem:
        raise Skip("the item has no text")
    text: dict[str, Any] = {"stem": stem, **fields}
    feedback = " ".join(_text(f) for f in root.findall("qti-modal-feedback")).strip()
    if feedback:
        text["feedback"] = feedback
    return kind.name, key, text, images, notes


# --- the importer --------------------------------------------------------------------------------


def parse_qti3(
    data: str | bytes,
    *,
    lang: str,
    default_topic: str,
    prefix: str = "qti",
    source_name: str = "",
) -> ImportResult:
    """A QTI 3.0 package (zip bytes) or item (XML text) -> items and skipped questions."""
    files, blobs = _files(data, source_name)
    topics = _topics(files, default_topic)
    ids = IdAllocator(prefix)
    items: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    imported: list[Imported] = []
    media: dict[str, bytes] = {}
    number = 0
    for name, root in files:
        if root.tag != ITEM_TAG:
            continue
        number += 1
        where = f"{source_name}:{name}" if name else source_name
        try:
            type_name, key, text, images, notes = _item(root, name, blobs)
        except Skip as skip:
            skipped.append(Skipped(_line(root), f"{name}: {skip.reason}" if name else skip.reason))
            continue
        produced: dict[str, Any] = {
            "id": ids.take(root.get("identifier", "").lstrip("_") or root.get("title", ""), number),
            "topic": topics.get(name, default_topic),
            "type": type_name,
        }
        if key is not None:
            produced["key"] = key
        produced["source"] = source_note(FORMAT_NAME, where, _line(root))
        if images:
            produced["images"] = image_fields(images, lang, media)
        produced["text"] = {lang: text}
        items.append(produced)
        imported.append(Imported(_line(root), tuple(notes)))
    if number == 0:
        raise ImportSyntaxError(1, "no qti-assessment-item found (is this a QTI 3.0 file?)")
    return ImportResult(items=items, skipped=skipped, imported=imported, files=media)


def _files(
    data: str | bytes, source_name: str
) -> tuple[list[tuple[str, ET.Element]], dict[str, bytes]]:
    """(name in the package, root element) of each XML file, one unnamed file for plain XML;
    and the package's other files by name (images)."""
    if isinstance(data, bytes) and data[:4] == b"PK\x03\x04":
        return _package(data)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportSyntaxError(1, "not UTF-8 text and not a zip package") from None
    return [("", _parse(data, source_name))], {}


def _package(data: bytes) -> tuple[list[tuple[str, ET.Element]], dict[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportSyntaxError(1, "not a readable zip package") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > _MAX_PACKAGE_FILES or sum(m.file_size for m in members) > _MAX_UNPACKED:
            raise ImportSyntaxError(1, "the package is too large to import")
        out = []
        blobs: dict[str, bytes] = {}
        for member in sorted(members, key=lambda m: m.filename):
            if not member.filename.lower().endswith(".xml"):
                if member.file_size <= MAX_IMAGE_BYTES + 1:
                    blobs[posixpath.normpath(member.filename)] = archive.read(member)
                continue
            raw = archive.read(member)
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ImportSyntaxError(1, f"{member.filename} is not UTF-8 text") from None
            out.append((member.filename, _parse(text, member.filename)))
    return _in_manifest_order(out), blobs


def _in_manifest_order(files: list[tuple[str, ET.Element]]) -> list[tuple[str, ET.Element]]:
    """The package's files in the order its manifest lists them (the author's order)."""
    manifest = next((root for name, root in files if name == "imsmanifest.xml"), None)
    if manifest is None:
        return files
    listed = [r.get("href", "") for r in manifest.iter("resource")]
    rank = {href: i for i, href in enumerate(listed)}
    return sorted(files, key=lambda f: (rank.get(f[0], len(rank)), f[0]))


def _topics(files: list[tuple[str, ET.Element]], default_topic: str) -> dict[str, str]:
    """Item file -> topic, from the sections of the package's tests (a section per topic)."""
    out: dict[str, str] = {}
    for name, root in files:
        if root.tag != "qti-assessment-test":
            continue
        for section in root.iter("qti-assessment-section"):
            topic = slug(
                section.get("identifier", "").lstrip("_") or section.get("title", ""),
                default_topic,
            )
            for ref in section.findall("qti-assessment-item-ref"):
                href = posixpath.normpath(
                    posixpath.join(posixpath.dirname(name), ref.get("href", ""))
                )
                out.setdefault(href, topic)
    return out
