"""A bank's items (and, for QTI 3.0, its exams) in one language, written to a file atomically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elearn.content.exporting import ExportSource
from elearn.content.formats import export_items
from elearn.content.loader import ContentSet
from elearn.domain.problems import Problem

FORMATS_WITH_EXAMS = frozenset({"qti3"})


class BankExportError(Exception):
    """The bank cannot be exported as asked; ``problems`` are the bank's file problems, if any."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


@dataclass(frozen=True)
class BankExport:
    items: int  # items written
    exams: int | None  # exams written; None for a format that holds items only
    lang: str
    path: Path
    skipped: tuple[tuple[str, str], ...] = ()  # (item id, reason) of items the format cannot hold


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a ``.partial`` file, so a reader never sees half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


def export_bank(
    *, content: ContentSet, bank_id: str, fmt: str, lang: str | None, out: Path
) -> BankExport:
    """Export the bank in ``lang`` (default: its first); refuses a bank with any file problem."""
    bank = content.banks.get(bank_id)
    if bank is None:
        raise BankExportError(f"no loadable bank '{bank_id}' (run 'content check')")
    broken = [p for p in content.problems if p.path.startswith(bank.path + "/")]
    if broken:
        raise BankExportError(
            f"bank '{bank_id}' has {len(broken)} problem(s); an export would be incomplete", broken
        )
    lang = lang or bank.spec.languages[0]
    if lang not in bank.spec.languages:
        raise BankExportError(f"bank '{bank_id}' is in {bank.spec.languages}, not '{lang}'")
    source = ExportSource(
        bank=bank.spec,
        items=[i.spec for i in bank.items],
        exams=[e.spec for e in bank.exams],
        lang=lang,
        media=bank.media(),
    )
    exported = export_items(fmt, source)
    write_atomically(out, exported.data)
    return BankExport(
        items=len(source.items) - len(exported.skipped),
        exams=len(source.exams) if fmt in FORMATS_WITH_EXAMS else None,
        lang=lang,
        path=out,
        skipped=exported.skipped,
    )
