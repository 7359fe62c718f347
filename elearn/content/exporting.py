"""Export a question bank to GIFT and Moodle XML, in one language, as Moodle reads them back.

Every item type elearn has maps to a Moodle question type without loss of scoring:

========================  ==========================  ==========================================
elearn                    GIFT                        Moodle XML
========================  ==========================  ==========================================
``single_choice``         ``{=right ~wrong}``         ``multichoice``, ``<single>true``
``multiple_response``     ``{~%50%a ~%-50%b}``        ``multichoice``, ``<single>false``
``true_false``            ``{TRUE}`` / ``{FALSE}``    ``truefalse``
``numeric``               ``{#v:t}`` / ``{#lo..hi}``  ``numerical`` (a range as its middle ± half)
``matching``              ``{=prompt -> option}``     ``matching`` (a spare option: no prompt)
``short_answer``          ``{=%100%a =%50%b}``        ``shortanswer``
========================  ==========================  ==========================================

The item id is the question name and the topic id the last part of its category
(``$course$/top/<bank>/<topic>``), so that importing the file again gives the same ids, topics,
texts and keys. Texts are written as HTML (escaped), answers of short-answer and matching
questions as plain text, as Moodle keeps them. What neither format holds: the other languages,
``pinned`` options (Moodle XML turns shuffling off for such a question), ``difficulty``,
``angoff``, ``outcome`` and ``as_of``; GIFT keeps the source and the date as a comment.
"""

from __future__ import annotations

import html
import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from elearn.domain.content import BankSpec, ExamSpec, ItemSpec
from elearn.domain.items import text_in, weights
from elearn.domain.localize import pick

EXPORT_NOTE = "Exported from elearn"


@dataclass(frozen=True)
class ExportSource:
    """What an exporter is given: a bank, its items and exams, and the language to write."""

    bank: BankSpec
    items: Sequence[ItemSpec]
    exams: Sequence[ExamSpec]
    lang: str

    def title(self, texts: Mapping[Any, str]) -> str:
        """A localised title in the export's language, else the bank's first."""
        return pick(texts, self.lang, self.bank.languages[0]).value

    def topic_title(self, topic_id: str) -> str:
        return self.title(next(t.title for t in self.bank.topics if t.id == topic_id))

    def by_topic(self) -> list[tuple[str, list[ItemSpec]]]:
        """The items grouped by topic, topics in the bank's order, items in file order."""
        order = [t.id for t in self.bank.topics]
        groups = {t: [i for i in self.items if i.topic == t] for t in order}
        return [(t, group) for t, group in groups.items() if group]


# --- shared ------------------------------------------------------------------------------------


def percent(fraction: float) -> str:
    """A fraction as Moodle writes a grade: 1/3 -> "33.33333", -0.5 -> "-50", 1 -> "100"."""
    text = f"{fraction * 100:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def number(value: float) -> str:
    """A key's number as written: 42, 0.1, 1e-07; never a float's noise (repr is exact)."""
    if isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def as_html(text: str) -> str:
    """Plain text as an HTML fragment that reads the same: escaped, new lines as ``<br>``."""
    return "<br>".join(html.escape(line, quote=False) for line in text.split("\n"))


def numeric_interval(key: dict[str, float]) -> tuple[float, float]:
    """The values a numeric key accepts, as (low, high)."""
    if "value" in key:
        return key["value"] - key["tolerance"], key["value"] + key["tolerance"]
    return key["min"], key["max"]


# --- GIFT --------------------------------------------------------------------------------------

_GIFT_SPECIAL = "~=#{}:"


def gift_escape(text: str) -> str:
    """Text with GIFT's special characters escaped (``\\~ \\= \\# \\{ \\} \\: \\\\``, ``\\n``)."""
    out = text.replace("\\", "\\\\")
    for ch in _GIFT_SPECIAL:
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", "\\n")


def _gift_html(text: str) -> str:
    return gift_escape(as_html(text))


def _gift_plain(text: str) -> str:
    """An answer Moodle compares as typed: ``*`` is literal, not a wildcard."""
    return gift_escape(" ".join(text.split())).replace("*", "\\*")


def _comment(text: str) -> str:
    return " ".join(text.split())


def write_gift(source: ExportSource) -> bytes:
    lang = source.lang
    out = [
        f"// {EXPORT_NOTE}: bank {source.bank.id}, language {lang}, {len(source.items)} item(s).",
        "// Read by Moodle's GIFT import and by 'flask --app elearn bank import --format gift'.",
        "",
    ]
    for topic, items in source.by_topic():
        out += [
            f"// topic {topic}: {_comment(source.topic_title(topic))}",
            f"$CATEGORY: $course$/top/{source.bank.id}/{topic}",
            "",
        ]
        for item in items:
            note = f"// source: {_comment(item.source)}"
            if item.as_of:
                note += f" (as of {item.as_of.isoformat()})"
            text = text_in(item, lang)
            answers = _gift_answers(item, lang)
            if text.feedback:
                answers.append(f"####{_gift_html(text.feedback)}")
            out += [note, f"::{item.id}::[html]{_gift_html(text.stem)} {{"]
            out += [f"  {answer}" for answer in answers]
            out += ["}", ""]
    return "\n".join(out).encode("utf-8")


def _gift_choice(marker: str, text: str) -> str:
    """``=right`` or ``~wrong``; a text that begins like ``%weight%`` gets its weight written."""
    if text.startswith("%"):
        return f"{marker}%{'100' if marker == '=' else '0'}%{text}"
    return marker + text


def _gift_answers(item: ItemSpec, lang: str) -> list[str]:
    text = text_in(item, lang)
    options = text.options or {}
    if item.type == "single_choice":
        return [
            _gift_choice("=" if oid == item.key else "~", _gift_html(body))
            for oid, body in options.items()
        ]
    if item.type == "multiple_response":
        w = weights(item)
        return [f"~%{percent(w.get(oid, 0.0))}%{_gift_html(b)}" for oid, b in options.items()]
    if item.type == "true_false":
        return ["TRUE" if item.key else "FALSE"]
    if item.type == "numeric":
        key = item.key
        if "value" in key:
            return [f"#{number(key['value'])}:{number(key['tolerance'])}"]
        return [f"#{number(key['min'])}..{number(key['max'])}"]
    if item.type == "matching":
        prompts = text.prompts or {}
        used = set(item.key.values())
        pairs = [
            f"={_gift_html(prompts[pid])} -> {_gift_plain(options[item.key[pid]])}"
            for pid in prompts
        ]
        spare = [f"= -> {_gift_plain(b)}" for oid, b in options.items() if oid not in used]
        return pairs + spare
    if item.type == "short_answer":
        return [f"=%{percent(a.credit)}%{_gift_plain(a.answer)}" for a in text.accepted or []]
    raise ValueError(f"item {item.id}: type '{item.type}' has no GIFT form")


# --- Moodle XML --------------------------------------------------------------------------------


def _text(parent: ET.Element, tag: str, value: str, fmt: str | None = "html") -> ET.Element:
    node = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(node, "text").text = value
    return node


def _simple(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = value


def _answer(parent: ET.Element, fraction: float, value: str, fmt: str) -> ET.Element:
    node = ET.SubElement(parent, "answer", {"fraction": percent(fraction), "format": fmt})
    ET.SubElement(node, "text").text = value
    _text(node, "feedback", "", fmt="html")
    return node


def write_moodle_xml(source: ExportSource) -> bytes:
    quiz = ET.Element("quiz")
    quiz.append(ET.Comment(f" {EXPORT_NOTE}: bank {source.bank.id}, language {source.lang} "))
    for topic, items in source.by_topic():
        category = ET.SubElement(quiz, "question", {"type": "category"})
        _text(category, "category", f"$course$/top/{source.bank.id}/{topic}", fmt=None)
        _text(category, "info", as_html(source.topic_title(topic)))
        for item in items:
            quiz.append(_moodle_question(item, source.lang))
    ET.indent(quiz, space="  ")
    body = ET.tostring(quiz, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


_MOODLE_TYPE = {
    "single_choice": "multichoice",
    "multiple_response": "multichoice",
    "true_false": "truefalse",
    "numeric": "numerical",
    "matching": "matching",
    "short_answer": "shortanswer",
}


def _moodle_question(item: ItemSpec, lang: str) -> ET.Element:
    try:
        qtype = _MOODLE_TYPE[item.type]
    except KeyError:
        raise ValueError(f"item {item.id}: type '{item.type}' has no Moodle XML form") from None
    text = text_in(item, lang)
    q = ET.Element("question", {"type": qtype})
    q.append(ET.Comment(f" source: {_comment(item.source).replace('--', '- -')} "))
    _text(q, "name", item.id, fmt=None)
    _text(q, "questiontext", as_html(text.stem))
    _text(q, "generalfeedback", as_html(text.feedback) if text.feedback else "")
    _simple(q, "defaultgrade", "1")
    _simple(q, "penalty", "0")
    _simple(q, "hidden", "0")
    _simple(q, "idnumber", item.id)
    options = text.options or {}
    if qtype == "multichoice":
        single = item.type == "single_choice"
        _simple(q, "single", "true" if single else "false")
        _simple(q, "shuffleanswers", "false" if item.pinned else "true")
        _simple(q, "answernumbering", "abc")
        w = {o: (1.0 if o == item.key else 0.0) for o in options} if single else weights(item)
        for oid, body in options.items():
            _answer(q, w.get(oid, 0.0), as_html(body), "html")
    elif qtype == "truefalse":
        _answer(q, 1.0 if item.key else 0.0, "true", "moodle_auto_format")
        _answer(q, 0.0 if item.key else 1.0, "false", "moodle_auto_format")
    elif qtype == "numerical":
        low, high = numeric_interval(item.key)
        if "value" in item.key:
            value, tolerance = item.key["value"], item.key["tolerance"]
        else:
            value, tolerance = (low + high) / 2, (high - low) / 2
        node = _answer(q, 1.0, number(value), "moodle_auto_format")
        _simple(node, "tolerance", number(tolerance))
        _simple(q, "unitgradingtype", "0")
        _simple(q, "showunits", "3")
    elif qtype == "matching":
        _simple(q, "shuffleanswers", "true")
        prompts = text.prompts or {}
        used = set(item.key.values())
        pairs = [(prompts[pid], options[item.key[pid]]) for pid in prompts]
        pairs += [("", body) for oid, body in options.items() if oid not in used]
        for prompt, option in pairs:
            sub = _text(q, "subquestion", as_html(prompt) if prompt else "")
            answer = ET.SubElement(sub, "answer")
            ET.SubElement(answer, "text").text = option
    else:  # shortanswer
        _simple(q, "usecase", "0")
        for accepted in text.accepted or []:
            _answer(q, accepted.credit, accepted.answer.replace("*", "\\*"), "moodle_auto_format")
    return q
