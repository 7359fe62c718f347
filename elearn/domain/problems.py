"""A located problem in a content file."""

from __future__ import annotations

from dataclasses import dataclass

Loc = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Problem:
    """One error in one file: printed as ``path:line: message``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class LocatedMessage:
    """A problem found in a parsed document, located by its path of keys rather than a line."""

    loc: Loc
    message: str
