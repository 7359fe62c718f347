"""A foreign question file (GIFT, Aiken, Moodle XML, QTI 3.0) into a bank as a reviewable file.

The items get ids the bank does not hold yet and land in ``items/imported-<name>.yaml`` (a new
file each time, never over an earlier one) with a header that asks for review. Nothing is written
on a dry run, on an error, or when nothing could be imported.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from elearn.content.formats import BINARY_IMPORTS, import_items
from elearn.content.importing import ImportSyntaxError, Skipped
from elearn.content.loader import ContentSet
from elearn.domain.text import TextRefused, refused_characters


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

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        """The stable machine-readable shape: imported, skipped lines, errors."""
        return {
            "imported": self.imported,
            "skipped": [{"line": s.line, "reason": s.reason} for s in self.skipped],
            "errors": [{"line": e.line, "message": e.message} for e in self.errors],
        }


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
    """Import ``source`` into bank ``bank_id`` in one language; the report says what happened."""
    bank = content.banks.get(bank_id)
    if bank is None:
        return _failed(
            ImportProblem(0, f"no loadable bank '{bank_id}' in {banks_dir}"),
            f"error: no loadable bank '{bank_id}' (run 'content check')",
        )
    if lang not in bank.spec.languages:
        return _failed(
            ImportProblem(0, f"the bank has no language '{lang}'"),
            f"error: bank '{bank_id}' is in {bank.spec.languages}, not '{lang}'",
        )
    try:
        data: str | bytes = (
            source.read_bytes() if fmt in BINARY_IMPORTS else source.read_text(encoding="utf-8-sig")
        )
        result = import_items(
            fmt, data, lang=lang, default_topic=bank.spec.topics[0].id, source_name=source.name
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
    taken = {i.spec.id for i in bank.items}
    topics = {t.id for t in bank.spec.topics}
    for item in result.items:
        base, n = item["id"], 2
        while item["id"] in taken:  # never reuse an id the bank already holds
            item["id"], n = f"{base}-{n}", n + 1
        taken.add(item["id"])
        if item["topic"] not in topics:
            report.notes.append(
                f"note: item {item['id']} has topic '{item['topic']}', which "
                f"bank.yaml does not list yet"
            )
    report.notes += [f"{source}:{s.line}: skipped: {s.reason}" for s in result.skipped]

    target = target_file(banks_dir / bank_id / "items", source.stem)
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
    report.notes.append(
        f"{verb} {len(result.items)} item(s), skipped {len(result.skipped)}"
        + (f", into {report.written}" if report.written else "")
    )
    return report
