"""Issue 17: what Moodle writes is read as Moodle reads it, and the report says what changed.

The fixtures in tests/fixtures/moodle/ are written as Moodle documents the formats (its GIFT
export of short answers, the GIFT documentation's numerical examples, Moodle XML as
qformat_xml writes it, Aiken as qformat_aiken reads it).
"""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from elearn.content.aiken import parse_aiken
from elearn.content.bank_import import import_into_bank
from elearn.content.exporting import ExportSource
from elearn.content.formats import export_items, import_items
from elearn.content.gift import parse_gift
from elearn.content.importing import PLACEHOLDER_NOTE, Skipped, html_to_text
from elearn.content.moodle_xml import parse_moodle_xml
from elearn.domain.content import BankSpec, ItemSpec, content_hash
from elearn.domain.images import (
    PLACEHOLDER_ALT,
    image_name,
    image_problem,
    sniff,
    stored_problem,
)
from elearn.domain.itemtypes import check_item, get_item_type
from elearn.domain.itemtypes.formats import MOODLE_GRADES, as_html, moodle_grade
from tests.domain.conftest import Tree

FIXTURES = Path(__file__).parent.parent / "fixtures" / "moodle"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# --- 1. short answers with a catch-all ----------------------------------------------------------


def test_moodles_own_short_answer_export_is_imported_without_its_catch_all() -> None:
    result = parse_gift(fixture("shortanswer-export.gift"), lang="en", default_topic="general")
    capital, both = result.items
    assert capital["id"] == "capital" and capital["topic"] == "geography"
    assert capital["text"]["en"] == {
        "stem": "What is the capital of Norway?",
        "accepted": [{"answer": "Oslo", "credit": 1.0}, {"answer": "Christiania", "credit": 0.5}],
        "feedback": "No, it is Oslo.",
    }
    assert result.imported[0].changes == (
        "the zero-credit catch-all answer ('*') was left out: other answers score 0 anyway",
        "the catch-all answer's feedback became the question's general feedback",
        "the feedback of 2 answer(s) was dropped (elearn shows one general feedback per question)",
    )
    # General feedback wins over the catch-all's, and the report says so.
    assert both["text"]["en"]["feedback"] == (
        "Copenhagen has been the capital since the 15th century."
    )
    assert (
        "the catch-all answer's feedback was dropped: the question has general feedback"
        in result.imported[1].changes
    )
    leading = (
        "a catch-all answer ('*') before the credited answers would take every response"
        " (Moodle takes the first answer that matches)"
    )
    assert result.skipped == [
        Skipped(13, leading),
        Skipped(19, "a catch-all answer ('*') with credit would score any response: not supported"),
    ]


def test_a_catch_all_in_moodle_xml_short_answers_is_read_the_same() -> None:
    xml = """<quiz><question type="shortanswer"><name><text>a</text></name>
      <questiontext><text>Q?</text></questiontext>
      <answer fraction="0"><text>*</text></answer>
      <answer fraction="100"><text>x</text></answer></question></quiz>"""
    result = parse_moodle_xml(xml, lang="en", default_topic="general")
    assert result.items == [] and "before the credited answers" in result.skipped[0].reason


# --- 2. numerical partial credit ----------------------------------------------------------------


GRANT = [{"value": 1822, "tolerance": 0}, {"value": 1822, "tolerance": 2, "credit": 0.5}]


def test_numerical_bands_from_gift_as_the_documentation_writes_them() -> None:
    result = parse_gift(fixture("numerical-partial.gift"), lang="en", default_topic="general")
    keys = {item["id"]: item["key"] for item in result.items}
    assert keys == {
        "grant": GRANT,
        "pi": {"value": 3.14159, "tolerance": 0.0005},
        "range": {"min": 1, "max": 5},
        "fallback": [
            {"value": 1989, "tolerance": 0},
            {"value": 1989, "tolerance": 1, "credit": 0.5},
        ],
    }
    assert result.skipped == []
    assert result.imported[0].changes == (
        "the feedback of 2 answer(s) was dropped (elearn shows one general feedback per question)",
    )
    assert result.imported[1].changes == ()
    fallback = result.imported[3].changes
    assert fallback[0].startswith("the zero-credit catch-all answer ('*') was left out")
    assert fallback[1] == "the catch-all answer's feedback became the question's general feedback"
    assert result.items[3]["text"]["en"]["feedback"] == "Not even close."


def test_numerical_bands_from_moodle_xml_keep_the_mark_and_score_first_match() -> None:
    result = parse_moodle_xml(fixture("numerical-partial.xml"), lang="en", default_topic="general")
    (item,) = result.items
    assert item["key"] == GRANT and item["mark"] == 2
    spec = ItemSpec.model_validate(item)
    scorer = get_item_type("numeric")
    assert scorer.validate(spec) == []
    assert [scorer.score(spec, r, "en") for r in (1822, 1821, 1824, 1825)] == [1, 0.5, 0.5, 0]
    assert scorer.describe(spec, "en") == ("1822 (± 0)", "1822 (± 2): 50 %")


@pytest.mark.parametrize("fmt", ["gift", "moodle-xml", "qti3"])
def test_numerical_bands_survive_import_export_import(fmt: str) -> None:
    first = parse_moodle_xml(fixture("numerical-partial.xml"), lang="en", default_topic="general")
    spec = ItemSpec.model_validate({**first.items[0], "topic": "history"})
    bank = BankSpec.model_validate(
        {
            "id": "b",
            "languages": ["en"],
            "title": {"en": "B"},
            "topics": [{"id": "history", "title": {"en": "H"}}],
        }
    )
    data = export_items(fmt, ExportSource(bank, [spec], [], "en")).data
    again = import_items(
        fmt, data if fmt == "qti3" else data.decode(), lang="en", default_topic="x"
    )
    # QTI writes a band as its interval: 1822 ± 2 is 1820..1824.
    near = {"min": 1820, "max": 1824, "credit": 0.5} if fmt == "qti3" else GRANT[1]
    assert again.skipped == [] and again.items[0]["key"] == [GRANT[0], near]


def test_bands_a_learner_could_never_reach_are_refused() -> None:
    numeric = get_item_type("numeric")

    def problems(key: object) -> list[str]:
        spec = ItemSpec.model_validate(
            {
                "id": "n",
                "topic": "t",
                "type": "numeric",
                "key": key,
                "source": "s",
                "text": {"en": {"stem": "?"}},
            }
        )
        return [p.message for p in numeric.validate(spec)]

    assert problems([{"value": 1, "tolerance": 0, "credit": 0.5}]) == ["needs a band with credit 1"]
    assert problems([{"value": 1, "tolerance": 0, "credit": 2}]) == [
        "a band's credit must be a number from 0 to 1"
    ]
    assert problems({"value": 1, "tolerance": 0, "credit": 0.5}) == [
        "a single key has no credit: list graded bands instead"
    ]
    assert problems([]) == ["the key must be {value, tolerance}, {min, max} or a list of bands"]
    assert problems([{"min": 0, "max": 9, "credit": 0.5}, {"value": 1, "tolerance": 0}]) == [
        "a band before the first full-credit band holds its value, so the right answer scores"
        " less than 1 (the first band that holds a response counts)"
    ]


# --- 3. Moodle's grade options ------------------------------------------------------------------


def test_only_moodles_grade_options_are_accepted_and_never_rescaled() -> None:
    result = parse_moodle_xml(fixture("invalid-grades.xml"), lang="en", default_topic="general")
    assert [i["id"] for i in result.items] == ["thirds-rounded", "sixth"]
    assert result.items[1]["text"]["en"]["accepted"][1] == {
        "answer": "Christiania",
        "credit": 0.1666667,
    }
    (refused,) = result.skipped
    assert refused.line == 12 and refused.reason.startswith(
        "line 16: answer fraction '33' is not one of Moodle's grades"
    )


@pytest.mark.parametrize(
    ("given", "taken"),
    [
        (1, 1.0),
        (0.333334, 0.3333333),
        (0.33333, 0.3333333),
        (-0.5, -0.5),
        (0.0, 0.0),
        (0.33, None),
        (0.83, None),
        (0.8333, None),
        (0.142857, 0.1428571),
        (0.15, None),
        (-0.05, -0.05),
    ],
)
def test_a_fraction_is_a_grade_option_within_a_hundred_thousandth(
    given: float, taken: float | None
) -> None:
    assert moodle_grade(given) == taken
    assert len(MOODLE_GRADES) == 41


# --- 4. Aiken as Moodle reads it ----------------------------------------------------------------


def test_aiken_options_without_a_space_are_options() -> None:
    result = parse_aiken(fixture("no-space.aiken.txt"), lang="en", default_topic="general")
    first, second = result.items
    assert first["text"]["en"]["options"] == {"a": "Incorrect", "b": "Correct"}
    assert first["key"] == "b"
    assert second["text"]["en"]["options"] == {"a": "4", "b": "7", "c": "9"}
    assert result.outcome(1).line == 6 and result.outcome(1).changes == ()


# --- 6. preformatted text -----------------------------------------------------------------------


def test_pre_keeps_its_line_breaks_and_indentation() -> None:
    result = parse_moodle_xml(fixture("pre.xml"), lang="en", default_topic="general")
    assert result.items[0]["text"]["en"]["stem"] == (
        "What does this print last?\nfor i in range(3):\n    if i > 0:\n        print(i)"
    )
    gift = "[html]<p>Run:</p><pre>a = 1\n  b = 2 &amp; 3</pre> {=x}"
    assert parse_gift(gift, lang="en", default_topic="t").items[0]["text"]["en"]["stem"] == (
        "Run:\na = 1\n  b = 2 & 3"
    )
    # Sanitised as any HTML: no script survives inside <pre>.
    assert html_to_text("<pre>x<script>alert(1)</script>\n  y</pre>") == "x\n  y"
    stem = "What does this print last?\nfor i in range(3):\n    print(i)\nAnd now?"
    assert html_to_text(as_html(stem)) == stem


# --- 7. and 8. a new bank, and a report that names every question --------------------------------


def run(tree: Tree, source: Path, bank_id: str, lang: str = "nb", dry_run: bool = False):  # type: ignore[no-untyped-def]
    return import_into_bank(
        content=tree.load(),
        banks_dir=tree.root / "question_banks",
        bank_id=bank_id,
        source=source,
        fmt="gift",
        lang=lang,
        dry_run=dry_run,
        today=date(2026, 12, 5),
    )


def test_a_new_bank_is_created_from_the_files_categories(tree: Tree) -> None:
    source = tree.root / "quiz.gift"
    source.write_text(
        fixture("shortanswer-export.gift")
        + "\n\n$CATEGORY: $course$/top/Historie og år\n\n"
        + fixture("numerical-partial.gift").split("$CATEGORY: $course$/top/History\n", 1)[1]
        + "\n\nNo category? {T}\n",
        encoding="utf-8",
    )
    dry = run(tree, source, "my-bank", dry_run=True)
    assert (
        dry.ok and dry.created_bank is None and not (tree.root / "question_banks/my-bank").exists()
    )
    assert dry.notes[-2].startswith("would create bank 'my-bank'")

    report = run(tree, source, "my-bank")
    bank_file = tree.root / "question_banks/my-bank/bank.yaml"
    assert report.ok and report.created_bank == bank_file
    bank = yaml.safe_load(bank_file.read_text(encoding="utf-8"))
    assert bank == {
        "id": "my-bank",
        "languages": ["nb"],
        "title": {"nb": "my-bank"},
        "topics": [
            {"id": "geography", "title": {"nb": "Geography"}},
            {"id": "historie-og-ar", "title": {"nb": "Historie og år"}},
        ],
    }
    # The same file again goes into the bank that now exists: a loadable bank, new ids.
    loaded = tree.load()
    assert "my-bank" in loaded.banks and not [p for p in loaded.problems if "my-bank" in str(p)]
    again = run(tree, source, "my-bank")
    assert again.created_bank is None and again.imported == report.imported

    outcomes = [(q.line, q.outcome) for q in report.questions]
    assert outcomes == sorted(outcomes)
    assert len(report.questions) == report.imported + len(report.skipped) == 9
    by_line = {q.line: q for q in report.questions}
    assert by_line[6].outcome == "changed" and by_line[13].outcome == "skipped"
    assert report.notes[0] == f"{source}:6: imported capital with changes: " + "; ".join(
        by_line[6].changes
    )
    assert any(n.endswith(": imported pi as is") for n in report.notes)
    assert json.loads(json.dumps(report.as_json()))["questions"][0] == {
        "line": 6,
        "outcome": "changed",
        "id": "capital",
        "changes": list(by_line[6].changes),
    }


def test_a_new_bank_needs_a_slug_and_a_broken_bank_is_not_overwritten(tree: Tree) -> None:
    source = tree.write("quiz.gift", "Q? {T}\n")
    bad = run(tree, source, "My Bank")
    assert not bad.ok and "is not a bank id" in bad.errors[0].message
    tree.write("question_banks/broken/bank.yaml", "id: [\n")
    broken = run(tree, source, "broken")
    assert broken.errors[0].message.startswith("no loadable bank 'broken'")
    assert (tree.root / "question_banks/broken/bank.yaml").read_text() == "id: [\n"


# --- 5. images ----------------------------------------------------------------------------------


def test_moodle_xml_images_are_taken_with_their_files_and_alt_text() -> None:
    result = parse_moodle_xml(fixture("images.xml"), lang="en", default_topic="general")
    red, no_alt, legacy = result.items
    assert red["topic"] == "flags" and red["text"]["en"]["stem"] == "Is this square red?"
    (image,) = red["images"]
    assert image["alt"] == {"en": "A small square"}
    assert image_problem(result.files[image["file"]]) is None
    assert image["file"] == image_name(result.files[image["file"]])
    assert result.imported[0].changes == ()
    assert no_alt["images"][0]["alt"] == {"en": PLACEHOLDER_ALT}
    assert result.imported[1].changes == (
        PLACEHOLDER_NOTE,
        "images are shown after the question text (one stood within it)",
    )
    assert legacy["images"][0]["file"].endswith(".gif")
    assert result.imported[2].changes == (PLACEHOLDER_NOTE,)
    reasons = [s.reason for s in result.skipped]
    assert reasons == [
        "the question depends on embedded media (<video>), not imported",
        "the question depends on the linked media file 'https://example.org/anthem.mp3'",
        "the image '@@PLUGINFILE@@/x.svg': not a PNG, JPEG, GIF or WebP image (SVG and other"
        " formats are refused)",
    ]
    # An imported placeholder is refused by the content check until a person describes it.
    bank = BankSpec.model_validate(
        {
            "id": "b",
            "languages": ["en"],
            "title": {"en": "B"},
            "topics": [{"id": "flags", "title": {"en": "F"}}],
        }
    )
    spec = ItemSpec.model_validate({**no_alt, "topic": "flags"})
    assert [p.message for p in check_item(spec, bank, ("items", 0))] == [
        "the alt text in 'en' is the import's placeholder"
    ]


def test_gift_images_are_data_uris_only() -> None:
    result = parse_gift(fixture("images.gift"), lang="en", default_topic="general")
    (red,) = result.items
    assert red["images"][0]["alt"] == {"en": "A small red square"}
    assert result.skipped == [
        Skipped(4, "the image 'https://example.org/square.png' is not in the file")
    ]


def test_image_bytes_are_sniffed_never_trusted_and_at_most_2_mb() -> None:
    png = base64.b64decode(_first_file())
    assert sniff(png) == "png" and sniff(b"\xff\xd8\xff\xe0") == "jpg"
    assert sniff(b"GIF87a") == "gif" and sniff(b"RIFF\0\0\0\0WEBPVP8 ") == "webp"
    assert sniff(b"<svg onload='alert(1)'/>") is None and sniff(b"RIFF\0\0\0\0WAVE") is None
    assert image_problem(png + b"\0" * (2 * 1024 * 1024)) == "the image is larger than 2 MB"
    assert stored_problem("0" * 64 + ".png", png).startswith("the file's content does not match")


def _first_file() -> str:
    text = fixture("images.xml")
    start = text.index('encoding="base64">') + len('encoding="base64">')
    return text[start : text.index("</file>", start)]


def _bank_with(items: list[ItemSpec]) -> BankSpec:
    topics = sorted({i.topic for i in items})
    return BankSpec.model_validate(
        {
            "id": "b",
            "languages": ["en"],
            "title": {"en": "B"},
            "topics": [{"id": t, "title": {"en": t}} for t in topics],
        }
    )


@pytest.mark.parametrize("fmt", ["gift", "moodle-xml", "qti3"])
def test_images_survive_import_export_import_for_every_type(fmt: str) -> None:
    result = parse_moodle_xml(fixture("images.xml"), lang="en", default_topic="general")
    red = result.items[0]["images"]
    types = {
        "true_false": (True, {}),
        "single_choice": ("a", {"options": {"a": "Yes", "b": "No"}}),
        "multiple_response": ({"a": 0.5, "b": 0.5}, {"options": {"a": "A", "b": "B", "c": "C"}}),
        "numeric": (GRANT, {}),
        "matching": (
            {"p": "a", "q": "b"},
            {"prompts": {"p": "P", "q": "Q"}, "options": {"a": "A", "b": "B"}},
        ),
        "short_answer": (None, {"accepted": [{"answer": "x", "credit": 1.0}]}),
        "ordering": ({"order": ["a", "b"]}, {"options": {"a": "first", "b": "second"}}),
    }
    items = [
        ItemSpec.model_validate(
            {
                "id": name.replace("_", "-"),
                "topic": "flags",
                "type": name,
                "key": key,
                "source": "s",
                "images": red + result.items[2]["images"],
                "text": {"en": {"stem": f"Look at it: {name}?", **fields}},
            }
        )
        for name, (key, fields) in types.items()
    ]
    for item in items:
        assert get_item_type(item.type).validate(item) == [], item.id
    source = ExportSource(_bank_with(items), items, [], "en", media=dict(result.files))
    exported = export_items(fmt, source)
    data = exported.data if fmt == "qti3" else exported.data.decode()
    back = import_items(fmt, data, lang="en", default_topic="flags")
    written = {i.id for i in items} - {item_id for item_id, _ in exported.skipped}
    assert back.skipped == [] and {i["id"] for i in back.items} == written
    assert len(written) >= 6
    for item in back.items:
        assert [i["file"] for i in item["images"]] == [i["file"] for i in red] + [
            result.items[2]["images"][0]["file"]
        ]
        assert item["images"][0]["alt"] == {"en": "A small square"}
        assert all(back.files[i["file"]] == result.files[i["file"]] for i in item["images"])
    # An image the bank does not have is never exported as a broken question.
    missing = export_items(fmt, ExportSource(source.bank, items[:1], [], "en"))
    assert missing.skipped and "not in the bank's media folder" in missing.skipped[0][1]


def test_a_changed_image_is_a_new_item_version(tree: Tree) -> None:
    result = parse_moodle_xml(fixture("images.xml"), lang="en", default_topic="general")
    one = ItemSpec.model_validate({**result.items[0], "topic": "flags"})
    other = one.model_copy(update={"images": ItemSpec.model_validate(result.items[1]).images})
    plain = one.model_copy(update={"images": []})
    assert len({content_hash(one), content_hash(other), content_hash(plain)}) == 3
    # Without images, an item keeps the hash it had before items could hold them.
    assert "images" not in json.dumps(plain.model_dump(mode="json", exclude={"images"}))


def test_an_import_stores_the_images_with_the_bank_and_the_check_reads_them(tree: Tree) -> None:
    source = tree.root / "flags.xml"
    source.write_text(fixture("images.xml"), encoding="utf-8")
    report = import_into_bank(
        content=tree.load(),
        banks_dir=tree.root / "question_banks",
        bank_id="flag-bank",
        source=source,
        fmt="moodle-xml",
        lang="en",
        dry_run=False,
        today=date(2026, 12, 5),
    )
    media = tree.root / "question_banks/flag-bank/media"
    assert report.ok and len(list(media.iterdir())) == 3
    loaded = tree.load()
    problems = [str(p) for p in loaded.problems if "flag-bank" in str(p)]
    # Two placeholders to describe; the files themselves are sound.
    assert len(problems) == 2 and all("placeholder" in p for p in problems)
    (imported,) = (tree.root / "question_banks/flag-bank/items").glob("*.yaml")
    first = yaml.safe_load(imported.read_text(encoding="utf-8"))["items"][0]["images"][0]["file"]
    (media / first).write_bytes(b"GIF89a changed")
    problems = [str(p) for p in tree.load().problems if "flag-bank" in str(p)]
    assert any("the file's content does not match its name" in p for p in problems)
    (media / first).unlink()
    problems = [str(p) for p in tree.load().problems if "flag-bank" in str(p)]
    assert any(f"no file media/{first} in the bank" in p for p in problems)


# --- 8. nothing altered without a line ----------------------------------------------------------


def test_formatting_rescaled_weights_and_hints_each_have_their_line() -> None:
    gift = parse_gift(
        "[html]Which is <b>not</b> a Nordic country? {~%33.3%<em>Norway</em>"
        " ~%33.3%Sweden ~%33.3%Denmark ~%-100%Chile}",
        lang="en",
        default_topic="t",
    )
    assert gift.imported[0].changes == (
        "HTML formatting was reduced to plain text (<em>)",  # the answers are read first
        "the positive weights added up to 99.9 %: they were scaled to add up to 100 %",
        "HTML formatting was reduced to plain text (<b>)",
    )
    xml = """<quiz><question type="multichoice"><name><text>fixed</text></name>
      <questiontext format="html"><text><![CDATA[<p>Pick <strong>one</strong></p>]]></text></questiontext>
      <shuffleanswers>0</shuffleanswers>
      <answer fraction="100"><text>A</text></answer>
      <answer fraction="0"><text>All of the above</text></answer>
      <hint format="html"><text>Think.</text></hint>
      <correctfeedback format="html"><text>Well done</text></correctfeedback>
      <tags><tag><text>geo</text></tag></tags>
    </question></quiz>"""
    result = parse_moodle_xml(xml, lang="en", default_topic="t")
    (item,) = result.items
    # Moodle kept the answers in order ("All of the above" last): elearn pins them.
    assert item["pinned"] == ["a", "b"]
    assert result.imported[0].changes == (
        "HTML formatting was reduced to plain text (<strong>)",
        "the correctfeedback was dropped (elearn has general feedback only)",
        "1 hint(s) dropped: an exam gives one try, hints are never shown",
    )
