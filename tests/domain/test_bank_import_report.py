"""content.bank_import: ids never reused, unknown topics noted, a new file each time, a report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from elearn.content.bank_import import BankImportReport, import_into_bank
from tests.domain.conftest import Tree

GIFT = "$CATEGORY: $course$/waste\n\n::q-1::Is waste a topic yet? {T}\n\n::essay::Say. {}\n"


def run(tree: Tree, source: Path, dry_run: bool = False, lang: str = "en") -> BankImportReport:
    return import_into_bank(
        content=tree.load(),
        banks_dir=tree.root / "question_banks",
        bank_id="demo-bank",
        source=source,
        fmt="gift",
        lang=lang,
        dry_run=dry_run,
        today=date(2026, 11, 20),
    )


def test_an_import_reports_new_ids_unknown_topics_and_skips(tree: Tree) -> None:
    source = tree.write("quiz.gift", GIFT)
    report = run(tree, source)
    items = tree.root / "question_banks/demo-bank/items"
    assert report.ok and report.imported == 1
    assert report.written == items / "imported-quiz.yaml"
    assert report.notes == [
        "note: item q-1-2 has topic 'waste', which bank.yaml does not list yet",
        f"{source}:3: imported q-1-2 with changes: the id 'q-1' is taken in the bank:"
        " the item is 'q-1-2'",
        f"{source}:5: skipped: essay questions cannot be scored",
        f"imported 1 item(s) (1 with changes), skipped 1, into {items / 'imported-quiz.yaml'}",
    ]
    text = (items / "imported-quiz.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Imported from quiz.gift (gift) on 2026-11-20: review every item")
    assert "id: q-1-2" in text  # q-1 is the bank's already
    assert run(tree, source).written == items / "imported-quiz-2.yaml"


def test_a_dry_run_or_a_refusal_writes_nothing(tree: Tree) -> None:
    source = tree.write("quiz.gift", GIFT)
    before = sorted((tree.root / "question_banks/demo-bank/items").iterdir())
    dry = run(tree, source, dry_run=True)
    assert (
        dry.written is None
        and dry.notes[-1] == "would import 1 item(s) (1 with changes), skipped 1"
    )
    wrong = run(tree, source, lang="da")
    assert wrong.as_json() == {
        "imported": 0,
        "skipped": [],
        "errors": [{"line": 0, "message": "the bank has no language 'da'"}],
    }
    assert sorted((tree.root / "question_banks/demo-bank/items").iterdir()) == before
