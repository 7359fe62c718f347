"""Read every course and question bank, collecting every problem with its file and line.

A unit with a problem is refused whole (a course, a bank's ``bank.yaml``, one items file, one
exam file) and left out of the result, so that sync keeps what it loaded before.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from elearn.content.markdown import outline
from elearn.content.ratings import FOLDER as RATINGS_FOLDER
from elearn.content.ratings import LoadedRatings, load_ratings
from elearn.content.yamlsrc import Located, YamlSyntaxError, locate, parse_yaml, validate
from elearn.domain.content import (
    BankSpec,
    CourseSpec,
    ExamSpec,
    ItemFile,
    ItemSpec,
    ModuleFrontMatter,
    ModuleSpec,
    check_bank,
    check_course,
    check_exam,
)
from elearn.domain.images import MAX_IMAGE_BYTES, MEDIA_FOLDER, stored_problem
from elearn.domain.itemtypes import check_item
from elearn.domain.problems import Problem
from elearn.domain.text import refused_characters

MODULE_FILE = re.compile(r"^(?P<id>[a-z0-9][a-z0-9-]*)\.(?P<lang>[a-z]{2})\.md$")


@dataclass(frozen=True)
class LoadedCourse:
    spec: CourseSpec
    modules: tuple[ModuleSpec, ...]
    path: str


@dataclass(frozen=True)
class LoadedItem:
    spec: ItemSpec
    path: str
    line: int


@dataclass(frozen=True)
class LoadedExam:
    spec: ExamSpec
    path: str
    doc: Located | None = None  # for the lines of later checks

    def line(self, *loc: str | int) -> int:
        return self.doc.line(loc) if self.doc is not None else 1


@dataclass
class LoadedBank:
    spec: BankSpec
    path: str
    items: list[LoadedItem] = field(default_factory=list)
    exams: list[LoadedExam] = field(default_factory=list)
    refused_item_files: list[str] = field(default_factory=list)
    # Pairs of items (as "bank/item") a reviewer found alike in words but different in what
    # they ask: listed under ``distinct`` in the bank's similar.yaml.
    distinct: set[frozenset[str]] = field(default_factory=set)
    ratings: list[LoadedRatings] = field(default_factory=list)  # standard-setting studies
    refused_ratings_files: list[str] = field(default_factory=list)
    directory: Path | None = None  # where the bank's files are (its media/ folder: images)

    def media(self) -> dict[str, bytes]:
        """The image files its items show, by name (read when asked: for an export)."""
        if self.directory is None:
            return {}
        names = {image.file for item in self.items for image in item.spec.images}
        out = {}
        for name in sorted(names):
            path = self.directory / MEDIA_FOLDER / name
            if path.is_file():
                out[name] = path.read_bytes()
        return out


@dataclass
class ContentSet:
    courses: dict[str, LoadedCourse] = field(default_factory=dict)
    banks: dict[str, LoadedBank] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # for authors to look at; not refused


class _Reader:
    def __init__(self, base: Path) -> None:
        self.base = base

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.base).as_posix()
        except ValueError:
            return path.as_posix()

    def read_text(self, path: Path) -> tuple[str | None, list[Problem]]:
        """The file's text; None with the problems when it cannot be read or holds a control or
        bidi-override character (they would reach every page, PDF and credential that shows it)."""
        try:
            text = path.read_text(encoding="utf-8")
            refused = refused_characters(text)
            if refused:
                return None, [Problem(self.rel(path), line, str(why)) for line, why in refused]
            return text, []
        except UnicodeDecodeError as exc:
            return None, [Problem(self.rel(path), 1, f"not UTF-8 text ({exc.reason})")]
        except OSError as exc:
            return None, [Problem(self.rel(path), 1, f"cannot read: {exc.strerror}")]

    def read_yaml(self, path: Path) -> tuple[Located | None, list[Problem]]:
        text, problems = self.read_text(path)
        if text is None:
            return None, problems
        try:
            return parse_yaml(text), []
        except YamlSyntaxError as exc:
            return None, [Problem(self.rel(path), exc.line, exc.message)]


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """(front matter, body, line where the body starts, 0-based) or None when there is none."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 1
    return None


def load_content(
    courses_dir: Path, banks_dir: Path, base: Path | None = None, integrity: bool = True
) -> ContentSet:
    """Read and check everything under the two folders; with ``integrity``, also what keeps the
    exams valid across files (see :mod:`elearn.content.integrity`)."""
    reader = _Reader(base or courses_dir.parent)
    result = ContentSet()
    exam_ids: set[str] = set()
    course_dirs = (
        sorted(p for p in courses_dir.iterdir() if p.is_dir()) if courses_dir.is_dir() else []
    )
    course_ids = {p.name for p in course_dirs}
    bank_dirs = sorted(p for p in banks_dir.iterdir() if p.is_dir()) if banks_dir.is_dir() else []
    seen_exams: dict[str, str] = {}
    for bank_dir in bank_dirs:
        bank, problems = _load_bank(reader, bank_dir, course_ids, seen_exams)
        result.problems += problems
        if bank is not None:
            result.banks[bank.spec.id] = bank
    exam_ids = set(seen_exams)
    for course_dir in course_dirs:
        course, problems = _load_course(reader, course_dir, exam_ids, result.banks)
        result.problems += problems
        if course is not None and not problems:
            result.courses[course.spec.id] = course
    _read_distinct(reader, banks_dir, result)
    if integrity:
        from elearn.content.integrity import check_integrity

        check_integrity(result)
    result.problems.sort()
    result.warnings.sort()
    return result


def _read_distinct(reader: _Reader, banks_dir: Path, content: ContentSet) -> None:
    """Each bank's similar.yaml: ``distinct: [[a, b], ...]``, an item of another bank as
    ``bank/item``. An unknown item is a problem; the file's pairs apply once it reads."""
    known = {f"{b}/{i.spec.id}" for b, bank in content.banks.items() for i in bank.items}
    for bank_id, bank in content.banks.items():
        path = banks_dir / bank_id / "similar.yaml"
        if not path.is_file():
            continue
        rel = reader.rel(path)
        doc, problems = reader.read_yaml(path)
        pairs = doc.data.get("distinct") if doc is not None and isinstance(doc.data, dict) else None
        if doc is not None and not isinstance(pairs, list):
            problems.append(Problem(rel, 1, "similar.yaml holds 'distinct:', a list of pairs"))
        for n, pair in enumerate(pairs or []):
            line = doc.line(("distinct", n)) if doc is not None else 1
            names = [p if "/" in str(p) else f"{bank_id}/{p}" for p in pair or []]
            if not isinstance(pair, list) or len(pair) != 2 or len(set(names)) != 2:
                problems.append(Problem(rel, line, "a pair is two different item ids"))
                continue
            unknown = [name for name in names if name not in known]
            if unknown:
                problems.append(Problem(rel, line, f"unknown item(s): {', '.join(unknown)}"))
                continue
            bank.distinct.add(frozenset(names))
        content.problems += problems


def load_configured(config: Mapping[str, Any]) -> ContentSet:
    """COURSES_DIR and QUESTION_BANKS_DIR read; problems name paths from their common folder."""
    courses, banks = Path(config["COURSES_DIR"]), Path(config["QUESTION_BANKS_DIR"])
    return load_content(courses, banks, Path(os.path.commonpath([courses, banks])))


S = TypeVar("S", CourseSpec, BankSpec)


def _read_spec(
    reader: _Reader, folder: Path, filename: str, model: type[S], kind: str
) -> tuple[S | None, Located | None, str, list[Problem]]:
    """Read a folder's head file (course.yaml, bank.yaml), whose id must be the folder's name."""
    path = folder / filename
    rel = reader.rel(path)
    if not path.is_file():
        return (
            None,
            None,
            rel,
            [Problem(reader.rel(folder), 1, f"{kind} folder without {filename}")],
        )
    doc, problems = reader.read_yaml(path)
    if doc is None:
        return None, None, rel, problems
    spec, problems = validate(model, doc, rel)
    if spec is not None and spec.id != folder.name:
        problems.append(
            Problem(rel, doc.line(("id",)), f"id '{spec.id}' differs from folder '{folder.name}'")
        )
    return spec, doc, rel, problems


# --- courses -------------------------------------------------------------------------------------


def _load_course(
    reader: _Reader, course_dir: Path, exam_ids: set[str], banks: dict[str, LoadedBank]
) -> tuple[LoadedCourse | None, list[Problem]]:
    spec, doc, rel, problems = _read_spec(reader, course_dir, "course.yaml", CourseSpec, "course")
    if spec is None or doc is None:
        return None, problems
    problems += locate(doc, rel, check_course(spec))
    if spec.exam is not None and spec.exam not in exam_ids:
        problems.append(Problem(rel, doc.line(("exam",)), f"unknown exam '{spec.exam}'"))
    practice: set[str] = set()
    if spec.practice_bank is not None:
        bank = banks.get(spec.practice_bank)
        line = doc.line(("practice_bank",))
        if bank is None:
            problems.append(Problem(rel, line, f"unknown question bank '{spec.practice_bank}'"))
        elif bank.exams:
            problems.append(
                Problem(
                    rel,
                    line,
                    f"bank '{spec.practice_bank}' holds exams: "
                    "practice items are kept apart from certification pools",
                )
            )
        else:
            practice = {i.spec.id for i in bank.items}
            missing = [lang for lang in spec.languages if lang not in bank.spec.languages]
            if missing:
                problems.append(
                    Problem(
                        rel,
                        line,
                        f"bank '{spec.practice_bank}' lacks language(s) {missing} of the course",
                    )
                )

    files: dict[str, dict[str, Path]] = {}
    modules_dir = course_dir / "modules"
    for file in sorted(modules_dir.iterdir()) if modules_dir.is_dir() else []:
        match = MODULE_FILE.match(file.name)
        if not match:
            problems.append(
                Problem(reader.rel(file), 1, "module files are named <module-id>.<lang>.md")
            )
            continue
        if match["lang"] not in spec.languages:
            problems.append(
                Problem(
                    reader.rel(file),
                    1,
                    f"language '{match['lang']}' is not one of the course's {spec.languages}",
                )
            )
            continue
        files.setdefault(match["id"], {})[match["lang"]] = file
    for module_id in sorted(set(files) - set(spec.modules)):
        first = next(iter(files[module_id].values()))
        problems.append(
            Problem(reader.rel(first), 1, f"module '{module_id}' is not listed in {rel}")
        )

    outcome_ids = {o.id for o in spec.outcomes}
    modules: list[ModuleSpec] = []
    for position, module_id in enumerate(spec.modules, start=1):
        by_lang = files.get(module_id, {})
        for lang in spec.languages:
            if lang not in by_lang:
                problems.append(
                    Problem(
                        rel,
                        doc.line(("modules", position - 1)),
                        f"module '{module_id}' has no '{lang}' file "
                        f"(modules/{module_id}.{lang}.md)",
                    )
                )
        module, module_problems = _load_module(
            reader, module_id, position, by_lang, outcome_ids, practice, spec.practice_bank
        )
        problems += module_problems
        if module is not None:
            modules.append(module)
    if problems:
        return None, problems
    return LoadedCourse(spec, tuple(modules), reader.rel(course_dir)), []


def _load_module(
    reader: _Reader,
    module_id: str,
    position: int,
    by_lang: dict[str, Path],
    outcome_ids: set[str],
    practice: set[str],
    practice_bank: str | None,
) -> tuple[ModuleSpec | None, list[Problem]]:
    problems: list[Problem] = []
    fronts: dict[str, ModuleFrontMatter] = {}
    bodies: dict[str, str] = {}
    reflections: dict[str, tuple[str, int]] = {}
    for lang, file in by_lang.items():
        rel = reader.rel(file)
        text, read_problems = reader.read_text(file)
        if text is None:
            problems += read_problems
            continue
        parts = split_front_matter(text)
        if parts is None:
            problems.append(Problem(rel, 1, "missing front matter: start the file with '---'"))
            continue
        front_text, body, body_start = parts
        try:
            doc = parse_yaml(front_text, offset=1)
        except YamlSyntaxError as exc:
            problems.append(Problem(rel, exc.line, exc.message))
            continue
        front, front_problems = validate(ModuleFrontMatter, doc, rel)
        problems += front_problems
        if front is None:
            continue
        for i, outcome in enumerate(front.outcomes):
            if outcome not in outcome_ids:
                problems.append(
                    Problem(rel, doc.line(("outcomes", i)), f"unknown outcome '{outcome}'")
                )
        for i, item_id in enumerate(front.check):
            if practice_bank is None:
                problems.append(
                    Problem(
                        rel,
                        doc.line(("check",)),
                        "a knowledge check needs practice_bank in course.yaml",
                    )
                )
                break
            if item_id not in practice:
                problems.append(
                    Problem(rel, doc.line(("check", i)), f"unknown practice item '{item_id}'")
                )
        shape = outline(body)
        problems += [
            Problem(
                rel,
                body_start + line + 1,
                "a '#' heading in the body: start at '##' (the module title is the page's heading)",
            )
            for line in shape.h1_lines
        ]
        problems += [
            Problem(rel, body_start + line + 1, "empty reflection prompt")
            for line in shape.empty_reflection_lines
        ]
        if not body.strip():
            problems.append(Problem(rel, body_start + 1, "the module has no body"))
        fronts[lang] = front
        bodies[lang] = body
        reflections[lang] = (rel, len(shape.reflection_lines))

    if len({(f.minutes, tuple(f.outcomes), tuple(f.check)) for f in fronts.values()}) > 1:
        for lang, front in fronts.items():
            problems.append(
                Problem(
                    reader.rel(by_lang[lang]),
                    2,
                    f"minutes, outcomes and check must be the same in every language "
                    f"(here {front.minutes}, {list(front.outcomes)}, {list(front.check)})",
                )
            )
    if len({n for _, n in reflections.values()}) > 1:
        for rel, n in reflections.values():
            problems.append(
                Problem(
                    rel,
                    1,
                    f"{n} reflection prompt(s); every language of a module needs the same number",
                )
            )
    if problems or not fronts:
        return None, problems
    first = next(iter(fronts.values()))
    return (
        ModuleSpec(
            id=module_id,
            position=position,
            minutes=first.minutes,
            outcomes=list(first.outcomes),
            title={lang: f.title for lang, f in fronts.items()},
            body=bodies,
            check=list(first.check),
        ),
        [],
    )


# --- question banks ----------------------------------------------------------------------------


def _load_bank(
    reader: _Reader, bank_dir: Path, course_ids: set[str], seen_exams: dict[str, str]
) -> tuple[LoadedBank | None, list[Problem]]:
    spec, doc, rel, problems = _read_spec(reader, bank_dir, "bank.yaml", BankSpec, "question bank")
    if spec is None or doc is None:
        return None, problems
    problems += locate(doc, rel, check_bank(spec))
    if problems:
        return None, problems
    bank = LoadedBank(spec, reader.rel(bank_dir), directory=bank_dir)

    seen_items: dict[str, str] = {}
    read: list[LoadedItem] = []  # every item read, in a refused file too: its images are checked
    for file in sorted((bank_dir / "items").glob("*.y*ml")):
        items, file_problems = _load_items(reader, file, spec, seen_items)
        read += items
        if file_problems:
            problems += file_problems
            bank.refused_item_files.append(reader.rel(file))
        else:
            bank.items += items

    problems += _check_images(reader, bank_dir, read)

    # Items per topic in each pool of the bank: an exam draws from its own pool only.
    pools: dict[str | None, Counter[str]] = {}
    for item in bank.items:
        pools.setdefault(item.spec.pool, Counter())[item.spec.topic] += 1
    for file in sorted((bank_dir / "exams").glob("*.y*ml")):
        exam_rel = reader.rel(file)
        exam_doc, exam_problems = reader.read_yaml(file)
        if exam_doc is None:
            problems += exam_problems
            continue
        exam, exam_problems = validate(ExamSpec, exam_doc, exam_rel)
        if exam is None:
            problems += exam_problems
            continue
        pool = dict(pools.get(exam.pool, Counter()))
        exam_problems += locate(exam_doc, exam_rel, check_exam(exam, spec, pool, course_ids))
        if exam.id in seen_exams:
            exam_problems.append(
                Problem(
                    exam_rel,
                    exam_doc.line(("id",)),
                    f"duplicate exam id '{exam.id}' (also in {seen_exams[exam.id]})",
                )
            )
        else:
            seen_exams[exam.id] = exam_rel
        problems += exam_problems
        if not exam_problems:
            bank.exams.append(LoadedExam(exam, exam_rel, exam_doc))
    bank.ratings, bank.refused_ratings_files, rating_problems = load_ratings(
        reader, bank_dir / RATINGS_FOLDER, seen_items
    )
    problems += rating_problems
    return bank, problems


def _check_images(reader: _Reader, bank_dir: Path, items: list[LoadedItem]) -> list[Problem]:
    """Every image an item names is in the bank's media folder and is the image its name says."""
    problems: list[Problem] = []
    checked: dict[str, str | None] = {}
    for loaded in items:
        for image in loaded.spec.images:
            if image.file not in checked:
                path = bank_dir / MEDIA_FOLDER / image.file
                try:
                    with path.open("rb") as handle:  # never more than the limit and a byte
                        data = handle.read(MAX_IMAGE_BYTES + 1)
                except OSError:
                    checked[image.file] = f"no file {MEDIA_FOLDER}/{image.file} in the bank"
                else:
                    checked[image.file] = stored_problem(image.file, data)
            problem = checked[image.file]
            if problem:
                problems.append(Problem(loaded.path, loaded.line, f"image {image.file}: {problem}"))
    return problems


def _load_items(
    reader: _Reader, file: Path, bank: BankSpec, seen: dict[str, str]
) -> tuple[list[LoadedItem], list[Problem]]:
    rel = reader.rel(file)
    doc, problems = reader.read_yaml(file)
    if doc is None:
        return [], problems
    parsed, problems = validate(ItemFile, doc, rel)
    if parsed is None:
        return [], problems
    items = []
    for i, item in enumerate(parsed.items):
        loc = ("items", i)
        problems += locate(doc, rel, check_item(item, bank, loc))
        if item.id in seen:
            problems.append(
                Problem(
                    rel,
                    doc.line((*loc, "id")),
                    f"duplicate item id '{item.id}' (also in {seen[item.id]})",
                )
            )
        else:
            seen[item.id] = rel
        items.append(LoadedItem(item, rel, doc.line(loc)))
    return items, problems
