"""A foreign question file (GIFT, Aiken, Moodle XML, QTI 3.0) into a bank as a reviewable file.

The items get ids the bank does not hold yet and land in ``items/imported-<name>.yaml`` (a new
file each time, never over an earlier one) with a header that asks for review. Nothing is written
on a dry run, on an error, or when nothing could be imported.

A bank that does not exist yet is created, as Moodle creates the categories a file names: its
``bank.yaml`` in the one language given, with a topic per category of the file (and
``general`` for questions outside any). The report names every question of the file: imported
as is, imported with changes (each change), or skipped (the line and the reason).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from elearn.content.formats import BINARY_IMPORTS, import_items
from elearn.content.importing import ImportResult, ImportSyntaxError, Skipped, slug
from elearn.content.loader import ContentSet
from elearn.domain.images import MEDIA_FOLDER
from elearn.domain.text import TextRefused, refused_characters

NEW_BANK_TOPIC = "general"
_GENERAL = {"en": "General", "nb": "Generelt", "da": "Generelt"}


@dataclass(frozen=True)
class QuestionOutcome:
    """What happened to one question of the source, for the report."""

    line: int
    outcome: str  # "imported", "changed" or "skipped"
    item_id: str | None = None
    changes: tuple[str, ...] = ()  # for "changed"; the reason for "skipped"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "outcome": self.outcome}
        if self.item_id is not None:
            out["id"] = self.item_id
        if self.outcome == "skipped":
            out["reason"] = self.changes[0]
        elif self.changes:
            out["changes"] = list(self.changes)
        return out

    def note(self, source: Path) -> str:
        where = f"{source}:{self.line}"
        if self.outcome == "skipped":
            return f"{where}: skipped: {self.changes[0]}"
        if self.outcome == "changed":
            return f"{where}: imported {self.item_id} with changes: " + "; ".join(self.changes)
        return f"{where}: imported {self.item_id} as is"


@dataclass(frozen=True)
class ImportProblem:
    line: int  # 1-based line in the source; 0 for the file or the command as a whole
    message: str


@dataclass
class BankImportReport:
    """What an import did or would do: counts for machines, ``notes`` for people, in order."""

    imported: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    errors: list[ImportProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: Path | None = None  # the items file written; None on a dry run, error or no items
    questions: list[QuestionOutcome] = field(default_factory=list)  # every question, by line
    created_bank: Path | None = None  # the bank.yaml written for a new bank

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        """The stable machine-readable shape: imported, skipped lines, errors."""
        out: dict[str, Any] = {
            "imported": self.imported,
            "skipped": [{"line": s.line, "reason": s.reason} for s in self.skipped],
            "errors": [{"line": e.line, "message": e.message} for e in self.errors],
        }
        if self.questions:
            out["questions"] = [q.as_json() for q in self.questions]
        if self.created_bank is not None:
            out["created_bank"] = str(self.created_bank)
        return out


def _failed(problem: ImportProblem, *notes: str) -> BankImportReport:
    return BankImportReport(errors=[problem], notes=list(notes))


def target_file(items_dir: Path, stem: str) -> Path:
    """``imported-<stem>.yaml`` in ``items_dir``, or ``-2``, ``-3``... when that is taken."""
    target, n = items_dir / f"imported-{stem}.yaml", 2
    while target.exists():
        target, n = items_dir / f"imported-{stem}-{n}.yaml", n + 1
    return target


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(key)
            yield from _strings(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _strings(inner)


def _refused_text(
    data: str | bytes, items: Sequence[dict[str, Any]]
) -> list[tuple[int, str, TextRefused]]:
    """Control and bidi-override characters in the source, by line; then in the items read
    from it (a character reference such as ``&#x202E;`` in XML, a binary package), by item."""
    found: list[tuple[int, str, TextRefused]] = []
    if isinstance(data, str):
        found = [(line, f":{line}", why) for line, why in refused_characters(data)]
        if found:
            return found
    for item in items:
        for text in _strings(item):
            hits = refused_characters(text)
            if hits:
                found.append((0, f": item {item.get('id', '?')}", hits[0][1]))
                break
    return found


def import_into_bank(
    *,
    content: ContentSet,
    banks_dir: Path,
    bank_id: str,
    source: Path,
    fmt: str,
    lang: str,
    dry_run: bool,
    today: date,
) -> BankImportReport:
    """Import ``source`` into bank ``bank_id`` in one language; the report says what happened.

    A bank that does not exist (no folder of that name) is created from the file's categories.
    """
    bank = content.banks.get(bank_id)
    new_bank = bank is None and not (banks_dir / bank_id).exists()
    if bank is None and not new_bank:
        return _failed(
            ImportProblem(0, f"no loadable bank '{bank_id}' in {banks_dir}"),
            f"error: no loadable bank '{bank_id}' (run 'content check')",
        )
    if new_bank and slug(bank_id, "") != bank_id:
        return _failed(
            ImportProblem(0, f"'{bank_id}' is not a bank id (lower-case a-z, 0-9 and '-')"),
            f"error: '{bank_id}' is not a bank id (lower-case a-z, 0-9 and '-')",
        )
    if bank is not None and lang not in bank.spec.languages:
        return _failed(
            ImportProblem(0, f"the bank has no language '{lang}'"),
            f"error: bank '{bank_id}' is in {bank.spec.languages}, not '{lang}'",
        )
    default_topic = bank.spec.topics[0].id if bank is not None else NEW_BANK_TOPIC
    try:
        data: str | bytes = (
            source.read_bytes() if fmt in BINARY_IMPORTS else source.read_text(encoding="utf-8-sig")
        )
        result = import_items(
            fmt, data, lang=lang, default_topic=default_topic, source_name=source.name
        )
    except UnicodeDecodeError:
        return _failed(ImportProblem(0, "not UTF-8 text"), f"{source}: not UTF-8 text")
    except ImportSyntaxError as exc:
        return _failed(
            ImportProblem(exc.line, exc.message),
            f"{source}:{exc.line}: {exc.message}",
            "nothing imported",
        )

    refused = _refused_text(data, result.items)
    if refused:
        return BankImportReport(
            errors=[ImportProblem(line, str(why)) for line, _where, why in refused],
            notes=[f"{source}{where}: {why}" for _line, where, why in refused]
            + ["nothing imported"],
        )

    report = BankImportReport(imported=len(result.items), skipped=list(result.skipped))
    taken = {i.spec.id for i in bank.items} if bank is not None else set()
    topics = {t.id for t in bank.spec.topics} if bank is not None else set()
    outcomes: list[QuestionOutcome] = []
    for index, item in enumerate(result.items):
        done = result.outcome(index)
        changes = list(done.changes)
        base, n = item["id"], 2
        while item["id"] in taken:  # never reuse an id the bank already holds
            item["id"], n = f"{base}-{n}", n + 1
        if item["id"] != base:
            changes.append(f"the id '{base}' is taken in the bank: the item is '{item['id']}'")
        taken.add(item["id"])
        if bank is not None and item["topic"] not in topics:
            report.notes.append(
                f"note: item {item['id']} has topic '{item['topic']}', which "
                f"bank.yaml does not list yet"
            )
        outcomes.append(
            QuestionOutcome(
                done.line, "changed" if changes else "imported", item["id"], tuple(changes)
            )
        )
    outcomes += [QuestionOutcome(s.line, "skipped", None, (s.reason,)) for s in result.skipped]
    report.questions = sorted(outcomes, key=lambda q: q.line)
    report.notes += [q.note(source) for q in report.questions]

    target = target_file(banks_dir / bank_id / "items", source.stem)
    if new_bank:
        spec = _new_bank(bank_id, lang, result)
        bank_file = banks_dir / bank_id / "bank.yaml"
        topic_list = ", ".join(t["id"] for t in spec["topics"])
        if not dry_run and result.items:
            bank_file.parent.mkdir(parents=True, exist_ok=True)
            header = (
                f"# Created by importing {source.name} ({fmt}) on {today}: check the title and"
                " the topics, add the bank's other languages.\n"
            )
            bank_file.write_text(
                header + yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, width=100),
                encoding="utf-8",
            )
            report.created_bank = bank_file
        verb = "created" if report.created_bank else "would create"
        report.notes.append(
            f"{verb} bank '{bank_id}' ({bank_file}) in '{lang}' with topic(s) {topic_list}"
        )
    used = {image["file"] for item in result.items for image in item.get("images", [])}
    if not dry_run and result.items and used:
        media = banks_dir / bank_id / MEDIA_FOLDER
        media.mkdir(parents=True, exist_ok=True)
        for name in sorted(used):  # named by their content: an existing file is the same image
            path = media / name
            if not path.exists():
                path.write_bytes(result.files[name])
        report.notes.append(f"{len(used)} image file(s) in {media}")
    if not dry_run and result.items:
        target.parent.mkdir(parents=True, exist_ok=True)
        header = (
            f"# Imported from {source.name} ({fmt}) on {today}: review every item,"
            f" add the bank's other languages, then run 'content check'.\n"
        )
        target.write_text(
            header
            + yaml.safe_dump(
                {"items": result.items}, allow_unicode=True, sort_keys=False, width=100
            ),
            encoding="utf-8",
        )
        report.written = target
    verb = "would import" if dry_run else "imported"
    changed = sum(q.outcome == "changed" for q in report.questions)
    report.notes.append(
        f"{verb} {len(result.items)} item(s) ({changed} with changes), skipped"
        f" {len(result.skipped)}" + (f", into {report.written}" if report.written else "")
    )
    return report


def _new_bank(bank_id: str, lang: str, result: ImportResult) -> dict[str, Any]:
    """The ``bank.yaml`` of a bank made from an import: a topic per category its items use."""
    used = {item["topic"] for item in result.items}
    titles = dict(result.categories)
    topics = [{"id": t, "title": {lang: titles[t]}} for t, _ in result.categories if t in used]
    listed = {t["id"] for t in topics}
    for item in result.items:  # questions outside any category, or a format without them
        if item["topic"] not in listed:
            title = _GENERAL.get(lang, "General") if item["topic"] == NEW_BANK_TOPIC else None
            topics.append({"id": item["topic"], "title": {lang: title or item["topic"]}})
            listed.add(item["topic"])
    return {"id": bank_id, "languages": [lang], "title": {lang: bank_id}, "topics": topics}
