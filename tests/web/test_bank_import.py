"""`flask --app elearn bank import`: reviewable item files from GIFT, Aiken and Moodle XML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from elearn.content.loader import load_content
from tests.conftest import make_app

GIFT = """\
$CATEGORY: $course$/sdgs

::goals::How many goals does Agenda 2030 have? {=17 ~169 ~231}

::essay::Describe your last purchase. {}

::targets-true::Agenda 2030 has 169 targets. {T}
"""
AIKEN = "Which target is about public procurement?\nA) 12.7\nB) 8.8\nANSWER: A\n"


@pytest.fixture
def english_bank(tmp_path: Path) -> Flask:
    bank = tmp_path / "question_banks" / "demo"
    (bank / "items").mkdir(parents=True)
    (bank / "bank.yaml").write_text(
        "id: demo\nlanguages: [en]\ntitle: {en: Demo}\ntopics:\n  - {id: sdgs, title: {en: SDGs}}\n"
    )
    (tmp_path / "courses").mkdir()
    return make_app(
        tmp_path / "instance",
        COURSES_DIR=str(tmp_path / "courses"),
        QUESTION_BANKS_DIR=str(tmp_path / "question_banks"),
    )


def run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["bank", "import", *args])
    return result.exit_code, result.output


def test_gift_import_writes_a_file_the_content_check_accepts(
    english_bank: Flask, tmp_path: Path
) -> None:
    source = tmp_path / "quiz.gift"
    source.write_text(GIFT)
    code, out = run(
        english_bank, str(source), "--format", "gift", "--bank", "demo", "--language", "en"
    )
    assert code == 0, out
    assert "imported 2 item(s) (0 with changes), skipped 1" in out
    assert f"{source}:3: imported goals as is" in out and f"{source}:5: skipped" in out
    written = tmp_path / "question_banks/demo/items/imported-quiz.yaml"
    assert written.read_text().startswith("# Imported from quiz.gift (gift)")
    content = load_content(tmp_path / "courses", tmp_path / "question_banks", tmp_path)
    assert [str(p) for p in content.problems] == []
    assert sorted(i.spec.id for i in content.banks["demo"].items) == ["goals", "targets-true"]
    # Importing the same file again never reuses an id the bank holds.
    code, out = run(
        english_bank, str(source), "--format", "gift", "--bank", "demo", "--language", "en"
    )
    content = load_content(tmp_path / "courses", tmp_path / "question_banks", tmp_path)
    assert sorted(i.spec.id for i in content.banks["demo"].items) == [
        "goals",
        "goals-2",
        "targets-true",
        "targets-true-2",
    ]


def test_json_report_and_dry_run(english_bank: Flask, tmp_path: Path) -> None:
    source = tmp_path / "quiz.aiken"
    source.write_text(AIKEN)
    code, out = run(
        english_bank,
        str(source),
        "--format",
        "aiken",
        "--bank",
        "demo",
        "--language",
        "en",
        "--dry-run",
        "--json",
    )
    assert code == 0
    assert json.loads(out) == {
        "imported": 1,
        "skipped": [],
        "errors": [],
        "questions": [{"line": 1, "outcome": "imported", "id": "aiken-001"}],
    }
    assert not list((tmp_path / "question_banks/demo/items").iterdir())


def test_a_syntax_error_names_its_line_and_imports_nothing(
    english_bank: Flask, tmp_path: Path
) -> None:
    source = tmp_path / "broken.gift"
    source.write_text("::ok::Fine? {T}\n\n::bad::Unclosed {=a ~b\n")
    code, out = run(
        english_bank,
        str(source),
        "--format",
        "gift",
        "--bank",
        "demo",
        "--language",
        "en",
        "--json",
    )
    report = json.loads(out)
    assert code == 1 and report["imported"] == 0 and report["errors"][0]["line"] == 3
    assert not list((tmp_path / "question_banks/demo/items").iterdir())


def test_wrong_language_bank_or_format(english_bank: Flask, tmp_path: Path) -> None:
    source = tmp_path / "quiz.gift"
    source.write_text(GIFT)
    assert (
        run(english_bank, str(source), "--format", "gift", "--bank", "demo", "--language", "nb")[0]
        == 1
    )
    assert (
        run(english_bank, str(source), "--format", "gift", "--bank", "No pe", "--language", "en")[0]
        == 1
    )
    assert (
        run(english_bank, str(source), "--format", "qti", "--bank", "demo", "--language", "en")[0]
        == 2
    )


def test_a_new_bank_from_a_file_as_the_readme_shows(english_bank: Flask, tmp_path: Path) -> None:
    source = tmp_path / "quiz.gift"
    source.write_text(GIFT)
    code, out = run(
        english_bank, str(source), "--format", "gift", "--bank", "my-bank", "--lang", "nb"
    )
    assert code == 0, out
    bank_file = tmp_path / "question_banks/my-bank/bank.yaml"
    assert f"created bank 'my-bank' ({bank_file}) in 'nb' with topic(s) sdgs" in out
    content = load_content(tmp_path / "courses", tmp_path / "question_banks", tmp_path)
    assert [str(p) for p in content.problems] == []
    bank = content.banks["my-bank"]
    assert bank.spec.languages == ["nb"] and [t.id for t in bank.spec.topics] == ["sdgs"]
    assert sorted(i.spec.id for i in bank.items) == ["goals", "targets-true"]


def test_the_commands_offer_exactly_the_registered_formats() -> None:
    import click

    from elearn.cli.bank import bank_export, bank_import
    from elearn.content.formats import EXPORTERS, IMPORTERS

    def offered(command: click.Command) -> set[str]:
        (option,) = [p for p in command.params if p.name == "fmt"]
        assert isinstance(option.type, click.Choice)
        return {str(choice) for choice in option.type.choices}

    assert offered(bank_import) == set(IMPORTERS) and offered(bank_export) == set(EXPORTERS)


def test_unknown_format_in_the_registry_is_an_error() -> None:
    from elearn.content.formats import get_importer

    with pytest.raises(KeyError, match="unknown import format 'word'"):
        get_importer("word")


def test_a_file_that_is_not_utf8_imports_nothing(english_bank: Flask, tmp_path: Path) -> None:
    source = tmp_path / "latin.gift"
    source.write_bytes("::q::Hvor mange mål? {=17 ~169}".encode("latin-1"))
    code, out = run(
        english_bank,
        str(source),
        "--format",
        "gift",
        "--bank",
        "demo",
        "--language",
        "en",
        "--json",
    )
    assert code == 1 and json.loads(out)["errors"] == [{"line": 0, "message": "not UTF-8 text"}]
    assert not list((tmp_path / "question_banks/demo/items").iterdir())


# --- bank export -------------------------------------------------------------------------------


def export(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["bank", "export", *args])
    return result.exit_code, result.output


def test_export_then_import_through_the_commands(english_bank: Flask, tmp_path: Path) -> None:
    source = tmp_path / "quiz.gift"
    source.write_text(GIFT)
    run(english_bank, str(source), "--format", "gift", "--bank", "demo", "--language", "en")
    for fmt in ("gift", "moodle-xml"):
        out_file = tmp_path / "out" / f"demo.{fmt}"
        code, out = export(english_bank, "demo", "--format", fmt, "--out", str(out_file))
        assert code == 0, out
        assert f"exported 2 item(s) of bank demo (en, {fmt}) to {out_file}" in out
        assert not out_file.with_name(out_file.name + ".partial").exists()
        code, out = run(
            english_bank,
            str(out_file),
            "--format",
            fmt,
            "--bank",
            "demo",
            "--language",
            "en",
            "--dry-run",
            "--json",
        )
        report = json.loads(out)
        assert code == 0 and report["imported"] == 2 and report["skipped"] == []
        assert [q["outcome"] for q in report["questions"]] == ["changed", "changed"]


def test_export_qti3_writes_a_zip_with_a_manifest(english_bank: Flask, tmp_path: Path) -> None:
    import zipfile

    source = tmp_path / "quiz.gift"
    source.write_text(GIFT)
    run(english_bank, str(source), "--format", "gift", "--bank", "demo", "--language", "en")
    out_file = tmp_path / "demo.zip"
    code, out = export(english_bank, "demo", "--format", "qti3", "--out", str(out_file))
    assert code == 0, out
    assert "exported 2 item(s) and 0 exam(s)" in out
    with zipfile.ZipFile(out_file) as archive:
        assert sorted(archive.namelist()) == [
            "imsmanifest.xml",
            "items/goals.xml",
            "items/targets-true.xml",
        ]


def test_export_refuses_an_unknown_bank_language_format_or_broken_bank(
    english_bank: Flask, tmp_path: Path
) -> None:
    out_file = tmp_path / "x.gift"
    code, out = export(english_bank, "nope", "--format", "gift", "--out", str(out_file))
    assert code == 1 and "no loadable bank 'nope'" in out
    code, out = export(
        english_bank, "demo", "--format", "gift", "--out", str(out_file), "--language", "nb"
    )
    assert code == 1 and "not 'nb'" in out
    code, out = export(english_bank, "demo", "--format", "aiken", "--out", str(out_file))
    assert code == 2 and "'aiken' is not one of" in out
    broken = tmp_path / "question_banks/demo/items/broken.yaml"
    broken.write_text("items:\n  - id: x\n    topic: sdgs\n    type: nope\n")
    code, out = export(english_bank, "demo", "--format", "gift", "--out", str(out_file))
    assert code == 1 and "an export would be incomplete" in out
    assert "question_banks/demo/items/broken.yaml:" in out
    assert not out_file.exists()


@pytest.mark.parametrize(
    ("fmt", "name", "text", "where"),
    [
        ("gift", "evil.gift", "::a::Fine? {T}\n\n::b::Sign\u202e here? {T}\n", "evil.gift:3: "),
        ("aiken", "evil.aiken", "Which?\nA) a\x00b\nB) c\nANSWER: A\n", "evil.aiken:2: "),
        (
            "moodle-xml",
            "evil.xml",
            '<?xml version="1.0" encoding="UTF-8"?><quiz><question type="truefalse">'
            '<name><text>tf</text></name><questiontext format="html"><text>Is &#x202E;it?'
            '</text></questiontext><answer fraction="100"><text>true</text></answer>'
            '<answer fraction="0"><text>false</text></answer></question></quiz>',
            "evil.xml: item ",
        ),
    ],
)
def test_control_or_bidi_characters_in_a_source_import_nothing(
    english_bank: Flask, tmp_path: Path, fmt: str, name: str, text: str, where: str
) -> None:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    args = [str(source), "--format", fmt, "--bank", "demo", "--language", "en"]
    code, out = run(english_bank, *args)
    assert code == 1 and where in out and "nothing imported" in out, out
    assert "not allowed (U+" in out
    assert not list((tmp_path / "question_banks/demo/items").iterdir())
