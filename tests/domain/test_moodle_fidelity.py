"""Issue 17: what Moodle writes is read as Moodle reads it, and the report says what changed.

The fixtures in tests/fixtures/moodle/ are written as Moodle documents the formats (its GIFT
export of short answers, the GIFT documentation's numerical examples, Moodle XML as
qformat_xml writes it, Aiken as qformat_aiken reads it).
"""

from __future__ import annotations

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
from elearn.content.importing import Skipped, html_to_text
from elearn.content.moodle_xml import parse_moodle_xml
from elearn.domain.content import BankSpec, ItemSpec
from elearn.domain.itemtypes import get_item_type
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
