"""Ratings files: a standard-setting study's final ratings of a bank's items, as content.

``question_banks/<bank>/ratings/<study-id>.yaml`` holds ``study`` (id, exam, closed, panellists,
rounds) and ``ratings`` (item id: 0..1). A rating is metadata of an item, like its pool: loading
one makes no new item version. The file is written by the certifier's download and reviewed and
merged like any other content.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from elearn.content.yamlsrc import locate, validate
from elearn.domain.problems import Problem
from elearn.domain.standard_setting import (
    RATINGS_FOLDER,
    RatingsFile,
    StudyInfo,
    check_ratings_file,
)

if TYPE_CHECKING:
    from elearn.content.loader import _Reader

FOLDER = RATINGS_FOLDER


@dataclass(frozen=True)
class LoadedRatings:
    spec: RatingsFile
    path: str


def load_ratings(
    reader: _Reader, folder: Path, item_ids: Iterable[str]
) -> tuple[list[LoadedRatings], list[str], list[Problem]]:
    """Every ratings file of a bank's folder that passes the checks, the paths of those refused,
    and their problems (``path:line: message``)."""
    known = set(item_ids)
    loaded: list[LoadedRatings] = []
    refused: list[str] = []
    problems: list[Problem] = []
    for file in sorted(folder.glob("*.y*ml")) if folder.is_dir() else []:
        rel = reader.rel(file)
        doc, file_problems = reader.read_yaml(file)
        spec = None
        if doc is not None:
            spec, file_problems = validate(RatingsFile, doc, rel)
            if spec is not None:
                file_problems += locate(doc, rel, check_ratings_file(spec, file.stem, known))
        if file_problems or spec is None:
            problems += file_problems
            refused.append(rel)
        else:
            loaded.append(LoadedRatings(spec, rel))
    return loaded, refused, problems


def ratings_yaml(study: StudyInfo, ratings: dict[str, float]) -> str:
    """The text of a ratings file, with a comment that says what the numbers are."""
    import yaml  # only for the download: an app start loads no YAML

    data = {
        "study": study.model_dump(mode="python"),
        "ratings": {key: float(value) for key, value in ratings.items()},
    }
    header = (
        "# Final ratings of a modified-Angoff study: for each item, the panel's mean estimate of\n"
        "# the probability that a minimally competent candidate answers it right. Metadata: a\n"
        "# changed rating makes no new item version.\n"
        "# Check: flask --app elearn content check    Load: flask --app elearn content sync\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
