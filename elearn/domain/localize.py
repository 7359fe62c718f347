"""Choosing the language of a piece of content, and saying when we fell back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class InLanguage(Generic[T]):
    value: T
    lang: str
    fallback: bool  # the wanted language was missing: the page says so


def pick(texts: Mapping[Any, T], wanted: str, default: str) -> InLanguage[T]:
    """The text in ``wanted``, else in ``default``, else in whatever language there is."""
    if wanted in texts:
        return InLanguage(texts[wanted], wanted, False)
    if default in texts:
        return InLanguage(texts[default], default, True)
    lang = next(iter(texts))
    return InLanguage(texts[lang], lang, True)
