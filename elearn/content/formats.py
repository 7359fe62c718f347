"""The registries of item formats: name -> parser, name -> writer. An unknown name is an error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from elearn.content.aiken import parse_aiken
from elearn.content.exporting import Exported, ExportSource, write_gift, write_moodle_xml
from elearn.content.gift import parse_gift
from elearn.content.importing import ImportResult
from elearn.content.moodle_xml import parse_moodle_xml
from elearn.content.qti3 import write_qti3
from elearn.content.qti3_import import parse_qti3

Importer = Callable[..., ImportResult]
Exporter = Callable[[ExportSource], Exported]

IMPORTERS: dict[str, Importer] = {
    "gift": parse_gift,
    "aiken": parse_aiken,
    "moodle-xml": parse_moodle_xml,
    "qti3": parse_qti3,
}
# Formats read as bytes (a zip package); the others are UTF-8 text.
BINARY_IMPORTS = frozenset({"qti3"})


def get_importer(name: str) -> Importer:
    try:
        return IMPORTERS[name]
    except KeyError:
        raise KeyError(f"unknown import format '{name}' (known: {', '.join(IMPORTERS)})") from None


def import_items(fmt: str, data: str | bytes, **kwargs: Any) -> ImportResult:
    """Read ``data`` (text, or bytes for the formats in BINARY_IMPORTS) as format ``fmt``."""
    return get_importer(fmt)(data, **kwargs)


EXPORTERS: dict[str, Exporter] = {
    "gift": write_gift,
    "moodle-xml": write_moodle_xml,
    "qti3": write_qti3,
}


def export_items(fmt: str, source: ExportSource) -> Exported:
    try:
        writer = EXPORTERS[fmt]
    except KeyError:
        raise KeyError(f"unknown export format '{fmt}' (known: {', '.join(EXPORTERS)})") from None
    return writer(source)
