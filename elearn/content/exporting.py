"""Export a question bank to GIFT and Moodle XML, in one language, as Moodle reads them back.

This module writes what surrounds the questions (categories, names, texts, feedback); each item
type writes its own answers (``write_gift``, ``write_moodle`` in :mod:`elearn.domain.itemtypes`),
and says when a format has no such question: that item is left out and reported in
:attr:`Exported.skipped` (GIFT has no ordering question, for one).

The item id is the question name and the topic id the last part of its category
(``$course$/top/<bank>/<topic>``, or ``$course$/top/<bank>/<pool>/<topic>`` for an item of a
named pool), so that importing the file again gives the same ids, topics, texts and keys; the
maximum mark is Moodle XML's ``defaultgrade``. Texts are written as HTML (escaped), answers of
short-answer and matching questions as plain text, as Moodle keeps them. What neither format
holds: the other languages, enemy groups, ``pinned`` options (Moodle XML turns shuffling off for
such a question), ``difficulty``, ``angoff``, ``outcome`` and ``as_of``; GIFT has no maximum
mark, and keeps the source and the date as a comment.
"""

from __future__ import annotations

import base64
import html
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from elearn.domain.content import BankSpec, ExamSpec, ItemImage, ItemSpec
from elearn.domain.images import IMAGE_TYPES
from elearn.domain.itemtypes import Unsupported, get_item_type, text_in
from elearn.domain.itemtypes.formats import (
    as_html,
    gift_escape,
    gift_html,
    moodle_simple,
    moodle_text,
    number,
    percent,
)
from elearn.domain.localize import pick

__all__ = ["EXPORT_NOTE", "ExportSource", "Exported", "as_html", "gift_escape", "number", "percent"]

EXPORT_NOTE = "Exported from elearn"


@dataclass(frozen=True)
class ExportSource:
    """What an exporter is given: a bank, its items and exams, and the language to write."""

    bank: BankSpec
    items: Sequence[ItemSpec]
    exams: Sequence[ExamSpec]
    lang: str
    media: Mapping[str, bytes] = field(default_factory=dict)  # image file name -> bytes

    def has_media(self, item: ItemSpec) -> ItemSpec:
        """``item``, when every image it shows is at hand; else the item cannot be written."""
        missing = [i.file for i in item.images if i.file not in self.media]
        if missing:
            raise Unsupported(f"the image file {missing[0]} is not in the bank's media folder")
        return item

    def title(self, texts: Mapping[Any, str]) -> str:
        """A localised title in the export's language, else the bank's first."""
        return pick(texts, self.lang, self.bank.languages[0]).value

    def topic_title(self, topic_id: str) -> str:
        return self.title(next(t.title for t in self.bank.topics if t.id == topic_id))

    def by_category(self) -> list[tuple[str, str, list[ItemSpec]]]:
        """The items by Moodle category: (path, topic, items), the main pool's topics first in
        the bank's order, then each named pool's; items in file order. A named pool is a
        category level of its own (``$course$/top/<bank>/<pool>/<topic>``), so that a Moodle
        quiz drawing random questions from a certification category never gets practice items.
        """
        order = [t.id for t in self.bank.topics]
        pools = sorted({i.pool for i in self.items if i.pool})
        out = []
        for pool in [None, *pools]:
            base = f"$course$/top/{self.bank.id}" + (f"/{pool}" if pool else "")
            for topic in order:
                group = [i for i in self.items if i.topic == topic and i.pool == pool]
                if group:
                    out.append((f"{base}/{topic}", topic, group))
        return out


@dataclass(frozen=True)
class Exported:
    """A written file, and the items it could not hold with the reason for each."""

    data: bytes
    skipped: tuple[tuple[str, str], ...] = ()


@dataclass
class Skips:
    """Collects the items a format has no place for, as (item id, reason)."""

    found: list[tuple[str, str]] = field(default_factory=list)

    def each(self, items: Sequence[ItemSpec], write: Callable[[ItemSpec], Any]) -> Iterator[Any]:
        """``write(item)`` for every item, leaving out (and noting) those it cannot write."""
        for item in items:
            try:
                yield write(item)
            except Unsupported as exc:
                self.found.append((item.id, exc.reason))

    def result(self, data: bytes) -> Exported:
        return Exported(data, tuple(self.found))


def pick_alt(image: ItemImage, lang: str) -> str:
    """An image's alt text in ``lang``, else in its first language."""
    return image.alt.get(lang) or next(iter(image.alt.values()))  # type: ignore[call-overload]


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _data_uri(media: Mapping[str, bytes], name: str) -> str:
    if name not in media:
        raise Unsupported(f"the image file {name} is not in the bank's media folder")
    kind = IMAGE_TYPES[name.rsplit(".", 1)[1]]
    return f"data:{kind};base64,{base64.b64encode(media[name]).decode('ascii')}"


# --- GIFT --------------------------------------------------------------------------------------


def _comment(text: str) -> str:
    return " ".join(text.split())


def write_gift(source: ExportSource) -> Exported:
    lang = source.lang
    out = [
        f"// {EXPORT_NOTE}: bank {source.bank.id}, language {lang}, {len(source.items)} item(s).",
        "// Read by Moodle's GIFT import and by 'flask --app elearn bank import --format gift'.",
        "",
    ]
    skips = Skips()
    for path, topic, items in source.by_category():
        out += [
            f"// topic {topic}: {_comment(source.topic_title(topic))}",
            f"$CATEGORY: {path}",
            "",
        ]
        for lines in skips.each(items, lambda item: _gift_question(item, lang, source.media)):
            out += lines
    return skips.result("\n".join(out).encode("utf-8"))


def _gift_question(item: ItemSpec, lang: str, media: Mapping[str, bytes]) -> list[str]:
    answers = get_item_type(item.type).write_gift(item, lang)
    note = f"// source: {_comment(item.source)}"
    if item.as_of:
        note += f" (as of {item.as_of.isoformat()})"
    text = text_in(item, lang)
    if text.feedback:
        answers.append(f"####{gift_html(text.feedback)}")
    # GIFT carries no files: an image goes in as a data: URI, which GIFT imports read back.
    images = "".join(
        gift_escape(f'<br><img src="{_data_uri(media, i.file)}" alt="{_attr(pick_alt(i, lang))}">')
        for i in item.images
    )
    out = [note, f"::{item.id}::[html]{gift_html(text.stem)}{images} {{"]
    out += [f"  {answer}" for answer in answers]
    return [*out, "}", ""]


# --- Moodle XML --------------------------------------------------------------------------------


def write_moodle_xml(source: ExportSource) -> Exported:
    quiz = ET.Element("quiz")
    quiz.append(ET.Comment(f" {EXPORT_NOTE}: bank {source.bank.id}, language {source.lang} "))
    skips = Skips()
    for path, topic, items in source.by_category():
        category = ET.SubElement(quiz, "question", {"type": "category"})
        moodle_text(category, "category", path, fmt=None)
        moodle_text(category, "info", as_html(source.topic_title(topic)))
        for question in skips.each(
            items, lambda item: _moodle_question(source.has_media(item), source)
        ):
            quiz.append(question)
    ET.indent(quiz, space="  ")
    body = ET.tostring(quiz, encoding="unicode", short_empty_elements=True)
    return skips.result(('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8"))


def _moodle_question(item: ItemSpec, source: ExportSource) -> ET.Element:
    lang = source.lang
    kind = get_item_type(item.type)
    if kind.moodle_qtype is None:
        raise Unsupported(f"Moodle XML has no {item.type} question type")
    text = text_in(item, lang)
    q = ET.Element("question", {"type": kind.moodle_qtype})
    q.append(ET.Comment(f" source: {_comment(item.source).replace('--', '- -')} "))
    moodle_text(q, "name", item.id, fmt=None)
    stem = moodle_text(q, "questiontext", as_html(text.stem))
    if item.images:  # as Moodle writes them: <img> to @@PLUGINFILE@@, the file in base64
        shown = "".join(
            f'<br><img src="@@PLUGINFILE@@/{i.file}" alt="{_attr(pick_alt(i, lang))}">'
            for i in item.images
        )
        stem_text = stem.find("text")
        assert stem_text is not None
        stem_text.text = (stem_text.text or "") + shown
        for name in dict.fromkeys(i.file for i in item.images):
            file = ET.SubElement(stem, "file", {"name": name, "path": "/", "encoding": "base64"})
            file.text = base64.b64encode(source.media[name]).decode("ascii")
    moodle_text(q, "generalfeedback", as_html(text.feedback) if text.feedback else "")
    moodle_simple(q, "defaultgrade", f"{item.mark:g}")
    moodle_simple(q, "penalty", "0")
    moodle_simple(q, "hidden", "0")
    moodle_simple(q, "idnumber", item.id)
    kind.write_moodle(q, item, lang)
    return q
