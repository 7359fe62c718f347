"""The registry of import formats: name -> parser. An unknown name is an error, not a guess."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from elearn.content.aiken import parse_aiken
from elearn.content.gift import parse_gift
from elearn.content.importing import ImportResult
from elearn.content.moodle_xml import parse_moodle_xml

Importer = Callable[..., ImportResult]

IMPORTERS: dict[str, Importer] = {
    "gift": parse_gift,
    "aiken": parse_aiken,
    "moodle-xml": parse_moodle_xml,
}


def get_importer(name: str) -> Importer:
    try:
        return IMPORTERS[name]
    except KeyError:
        raise KeyError(f"unknown import format '{name}' (known: {', '.join(IMPORTERS)})") from None


def import_items(fmt: str, text: str, **kwargs: Any) -> ImportResult:
    return get_importer(fmt)(text, **kwargs)
