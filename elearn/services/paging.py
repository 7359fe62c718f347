"""Long lists a page at a time, counted and cut in the database, never filtered in Python."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import func
from sqlmodel import Session, select
from sqlmodel.sql.expression import Select, SelectOfScalar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    number: int  # from 1
    size: int
    total: int  # rows on every page together

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def page_of(
    *,
    session: Session,
    statement: Select[*tuple[Any, ...]] | SelectOfScalar[Any],
    number: int,
    size: int,
) -> Page[Any]:
    """One page of an ordered statement's rows, and how many rows there are in all. A number
    past the last page gives the last page (and one of 2^63 no offset the database refuses)."""
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    number = min(max(1, number), max(1, -(-int(total) // size)))
    rows = session.exec(statement.offset((number - 1) * size).limit(size)).all()
    return Page(list(rows), number, size, int(total))


def page_of_list(*, rows: Sequence[T], number: int, size: int) -> Page[T]:
    """One page of rows computed in Python (a report's statuses); a page past the end is the
    last, one before the first the first."""
    pages = max(1, -(-len(rows) // size))
    number = min(max(1, number), pages)
    return Page(list(rows[(number - 1) * size : number * size]), number, size, len(rows))


def contains(*, text: str) -> str:
    """A LIKE pattern that finds ``text`` anywhere, its wildcards taken literally (escape '\\')."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
