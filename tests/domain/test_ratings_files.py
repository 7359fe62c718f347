"""Ratings files of standard-setting studies: checked like all content, problems by file and line."""

from __future__ import annotations

from datetime import date

from elearn.content.ratings import ratings_yaml
from elearn.domain.standard_setting import StudyInfo
from tests.domain.conftest import Tree

PATH = "question_banks/demo-bank/ratings/demo-exam-study-1.yaml"
GOOD = """\
study:
  id: demo-exam-study-1
  exam: demo-exam
  closed: 2026-11-30
  panellists: 2
  rounds: 2
ratings:
  q-1: 0.675
  q-2: 0.8
"""


def test_a_good_ratings_file_is_loaded_with_its_bank(tree: Tree) -> None:
    tree.write(PATH, GOOD)
    content = tree.load()
    assert content.problems == []
    (loaded,) = content.banks["demo-bank"].ratings
    assert loaded.path == PATH
    assert loaded.spec.ratings == {"q-1": 0.675, "q-2": 0.8}
    assert loaded.spec.study.closed == date(2026, 11, 30) and loaded.spec.study.rounds == 2


def test_unknown_items_and_values_out_of_range_are_named_by_line(tree: Tree) -> None:
    tree.write(PATH, GOOD.replace("q-2: 0.8", "q-9: 0.8\n  q-2: 1.2\n  q-3: -0.05"))
    # The shape is checked first (values 0..1); unknown items once the shape is right.
    assert tree.messages() == [
        f"{PATH}:10: ratings.q-2: Input should be less than or equal to 1",
        f"{PATH}:11: ratings.q-3: Input should be greater than or equal to 0",
    ]
    tree.write(PATH, GOOD.replace("q-2: 0.8", "q-9: 0.8"))
    assert tree.messages() == [f"{PATH}:9: unknown item 'q-9' (not in this bank)"]
    bank = tree.load().banks["demo-bank"]
    assert bank.ratings == [] and bank.refused_ratings_files == [PATH]


def test_malformed_ratings_files_are_refused_with_path_and_line(tree: Tree) -> None:
    tree.write(PATH, GOOD.replace("  rounds: 2\n", "  rounds: 2\n  colour: red\n"))
    assert tree.messages() == [f"{PATH}:7: unknown key 'colour'"]
    tree.write(PATH, GOOD.replace("ratings:\n", "ratings: [\n"))
    assert tree.messages()[0].startswith(f"{PATH}:")
    assert "YAML" in tree.messages()[0]
    tree.write(PATH, GOOD.replace("closed: 2026-11-30", "closed: yesterday"))
    assert tree.messages() == [
        f"{PATH}:4: study.closed: Input should be a valid date or datetime, input is too short"
    ]
    tree.write(PATH, GOOD.replace("id: demo-exam-study-1", "id: demo-exam-study-2"))
    assert tree.messages() == [
        f"{PATH}:2: study id 'demo-exam-study-2' differs from file 'demo-exam-study-1'"
    ]
    tree.write(PATH, "study:\n  id: demo-exam-study-1\n")
    assert f"{PATH}:1: missing key 'ratings'" in tree.messages()


def test_the_written_file_reads_back(tree: Tree) -> None:
    info = StudyInfo(id="demo-exam-study-1", exam="demo-exam", closed=date(2026, 11, 30),
                     panellists=2, rounds=2)  # fmt: skip
    text = ratings_yaml(info, {"q-1": 0.675, "q-2": 0.8})
    assert text.startswith("# Final ratings of a modified-Angoff study")
    tree.write(PATH, text)
    content = tree.load()
    assert content.problems == []
    assert content.banks["demo-bank"].ratings[0].spec.study == info
