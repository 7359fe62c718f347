"""Facts the content review of issue 18 corrected in the courses and their knowledge checks.

Cheap text checks over ``courses/`` and ``question_banks/practice-*/``, each guarding one
correction from coming back: a wrong year, a wrong legal word, a proposal taught as law,
a superseded date, Norwegian money or spacing in a Danish module.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _files(pattern: str) -> list[Path]:
    return sorted((ROOT / "courses").rglob(pattern)) + sorted(
        p for bank in (ROOT / "question_banks").glob("practice-*") for p in bank.rglob(pattern)
    )


def _lines(files: list[Path]) -> list[tuple[str, int, str]]:
    return [
        (str(path.relative_to(ROOT)), number, line)
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
    ]


ALL = _lines(_files("*.md") + _files("*.yaml"))
BOKMAL = _lines(_files("*.nb.md"))
DANISH_MODULES = _lines(sorted((ROOT / "courses").glob("*/modules/*.da.md")))


def _hits(lines: list[tuple[str, int, str]], pattern: str, flags: int = re.IGNORECASE) -> list[str]:
    found = re.compile(pattern, flags)
    return [
        f"{path}:{number}: {line.strip()[:120]}"
        for path, number, line in lines
        if found.search(line)
    ]


def test_the_texts_are_found() -> None:
    assert len(ALL) > 2000 and BOKMAL and DANISH_MODULES


def test_denmark_joined_the_nordic_swan_in_1997_not_1992() -> None:
    # 1992 is the EU Ecolabel's year; Denmark joined the Swan in 1997 (forbrug.dk).
    assert _hits(ALL, r"(danmark|denmark)[^.|]{0,80}\b1992\b") == []
    assert _hits(ALL, r"(svane|swan)[^.|]{0,60}\b1992\b") == []


def test_section_7_9_says_uvesentlig_not_ubetydelig() -> None:
    assert _hits(BOKMAL, r"ubetydelig") == []
    assert _hits(ALL, r"7-9.*ubetydelig|ubetydelig.*7-9") == []


def test_the_loa_reform_is_taught_as_a_proposal() -> None:
    adopted = (
        r"prop\. 147 l[^.]{0,80}(ble vedtatt|was passed|was adopted|trådte i kraft|"
        r"entered into force|er vedtatt av stortinget|has been passed by the storting)"
    )
    assert _hits(ALL, adopted) == []
    limit = r"(nedre grense|lower limit)[^.]{0,40}\b(er|is) (nå |now )?(nok )?300[  ,]000"
    assert _hits(ALL, limit) == []
    files = [p for p in _files("*.md") if "Prop. 147 L" in p.read_text(encoding="utf-8")]
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "Innst. 38 L" in text, path
        assert re.search(r"forslag|foreslå|proposal|propose", text, re.IGNORECASE), path


def test_the_2024_thresholds_are_not_dated_1_january() -> None:
    # The 2024 EEA thresholds took effect on 14 March 2024.
    assert _hits(ALL, r"(terskel|threshold)[^.]{0,120}(1\. januar 2024|1 january 2024)") == []


def test_danish_modules_count_in_kroner_with_dots() -> None:
    assert _hits(DANISH_MODULES, r"\bNOK\b", flags=0) == []
    # Danish groups thousands with dots (1.000), not spaces.
    assert _hits(DANISH_MODULES, r"(?<![\d.,])\d{1,3}(?: \d{3})+(?!\d)") == []
    assert _hits(DANISH_MODULES, r"det daværende viken") == []


@pytest.mark.parametrize("phrase", ["task force", "roving team"])
def test_rejsehold_has_one_english_name(phrase: str) -> None:
    assert _hits(ALL, phrase) == []


def test_rejsehold_has_the_courses_english_name_in_banks_and_cases() -> None:
    # "the travelling advisory team for green procurement", as the courses name it; not the
    # "travelling team for green purchasing" the practice pool and the case bank once said.
    files = sorted((ROOT / "question_banks").rglob("*.yaml")) + sorted(
        (ROOT / "cases").rglob("*.yaml")
    )
    assert _hits(_lines(files), r"travelling team|the rejsehold\b") == []


def test_konkurransedokumenter_is_not_used_for_the_procurement_documents() -> None:
    # Only the glossary box that says it is not a defined term may name it.
    hits = _hits(ALL, r"konkurransedokument")
    assert hits and all("defined term" in hit or "definert begrep" in hit for hit in hits)
