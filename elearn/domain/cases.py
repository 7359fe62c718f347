"""The case bank's rules: what a case holds, who may move it from one state to the next, which
files it may carry, and how a search text becomes a query. Pure: no web or database code.

A case goes draft -> submitted -> (changes requested -> submitted ...) -> published -> archived.
Its owner writes and submits; an editor requests changes, publishes or archives. No one
publishes their own case (the editor who wrote it needs another editor).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from elearn.domain import filekinds
from elearn.domain.errors import N_, Conflict, DomainError

DRAFT = "draft"
SUBMITTED = "submitted"
CHANGES_REQUESTED = "changes_requested"
PUBLISHED = "published"
ARCHIVED = "archived"
STATES = (DRAFT, SUBMITTED, CHANGES_REQUESTED, PUBLISHED, ARCHIVED)
EDITABLE = frozenset({DRAFT, CHANGES_REQUESTED})

LANGUAGES = ("nb", "da", "en")
# Product and service groups, after the groups of DFØ's Kriterieveiviser and the EU GPP sets.
CATEGORIES = (
    "food-and-meals",
    "transport",
    "construction",
    "ict",
    "furniture-and-textiles",
    "cleaning-and-hygiene",
    "medical-equipment",
    "energy",
    "waste",
    "office-supplies",
    "other-services",
)
COUNTRIES = ("NO", "DK", "SE", "FI", "IS", "EU")
SDGS = tuple(range(1, 18))
YEAR_MIN, YEAR_MAX = 1990, 2100
TAG = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")


class Refused(DomainError):
    """The actor may not do this to the case (not theirs, not an editor, their own review)."""

    status = 403


class WrongState(Conflict):
    """The step does not lead from the case's present state (a forged or repeated step)."""


# --- the review workflow ---------------------------------------------------------------------

# action -> (states it leaves from, the state it reaches, who may take it)
Who = Literal["owner", "editor"]
ACTIONS: dict[str, tuple[frozenset[str], str, Who]] = {
    "submit": (frozenset({DRAFT, CHANGES_REQUESTED}), SUBMITTED, "owner"),
    "request_changes": (frozenset({SUBMITTED}), CHANGES_REQUESTED, "editor"),
    "publish": (frozenset({SUBMITTED}), PUBLISHED, "editor"),
    "archive": (frozenset({SUBMITTED, PUBLISHED}), ARCHIVED, "editor"),
}


@dataclass(frozen=True)
class Step:
    action: str
    source: str
    target: str


def step(*, state: str, action: str, is_owner: bool, is_editor: bool) -> Step:
    """The step ``action`` makes from ``state``, or why it is refused (nothing changes)."""
    if action not in ACTIONS:
        raise DomainError(N_("That is not a step a case can take."))
    sources, target, who = ACTIONS[action]
    if who == "owner" and not is_owner:
        raise Refused(N_("Only the person who wrote the case can submit it."))
    if who == "editor":
        if not is_editor:
            raise Refused(N_("Only an editor can review a case."))
        if is_owner and action == "publish":
            raise Refused(N_("No one publishes their own case: another editor must review it."))
    if state not in sources:
        raise WrongState(
            N_("The case is not in a state that allows this step. Reload the page and try again.")
        )
    return Step(action, state, target)


def readable(*, state: str, is_owner: bool, is_editor: bool) -> bool:
    """Whether someone may read the case: anyone once published, else its owner and editors."""
    return state == PUBLISHED or is_owner or is_editor


# --- attachments -----------------------------------------------------------------------------

ATTACHMENT_KINDS = filekinds.KINDS  # kind -> (media type, file suffix)


class AttachmentRefused(DomainError):
    """A file that is not a PDF or an image (by its bytes), or too large."""


def sniff(head: bytes) -> str | None:
    """The kind of a file from its first bytes (never from its name or its stated type)."""
    return filekinds.sniff(head)


def check_attachment(*, head: bytes, size: int, limit: int) -> str:
    """The file's kind, or AttachmentRefused with the reason."""
    if size == 0:
        raise AttachmentRefused(N_("The file is empty."))
    if size > limit:
        raise AttachmentRefused(
            N_("The file is too large. Attachments may be at most %(mb)s MB.")  # mb filled in web
        )
    kind = sniff(head)
    if kind is None:
        raise AttachmentRefused(
            N_("Only PDF files and images (PNG, JPEG, GIF, WebP) can be attached.")
        )
    return kind


def attachment_name(original: str, kind: str) -> str:
    """A safe name to show and offer for download: letters, digits, dot, dash, underscore and
    spaces only, with the suffix of what the file really is."""
    stem = unicodedata.normalize("NFC", original).rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = re.sub(r"[^\w .-]+", "_", stem, flags=re.UNICODE).strip(" ._")[:80] or "attachment"
    return stem + ATTACHMENT_KINDS[kind][1]


# --- search ------------------------------------------------------------------------------------

WORD = re.compile(r"\w+", re.UNICODE)
MAX_SEARCH_WORDS = 12


def search_words(text: str) -> list[str]:
    """The words of a search, at most a dozen: the same on both databases' query builders."""
    return WORD.findall(unicodedata.normalize("NFC", text))[:MAX_SEARCH_WORDS]


def fts5_query(text: str) -> str:
    """An FTS5 MATCH expression that finds rows holding every word (each quoted, so that no
    word is read as an operator: AND, NEAR, a column filter, a ``*``)."""
    return " ".join(f'"{word}"' for word in search_words(text))


# --- the demo cases, kept as files (cases/*.yaml) --------------------------------------------


class CaseTextFile(BaseModel):
    """One language version of a case in a file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    summary: str = ""
    purchase: str = ""
    criteria: str = ""
    lcc_tco: str = ""
    co2e: str = ""
    co2e_basis: str = ""
    life_cycle_cost: str = ""
    life_cycle_cost_basis: str = ""
    other_results: str = ""
    other_results_basis: str = ""
    lessons: str = ""


class CaseFile(BaseModel):
    """A case as shipped in ``cases/*.yaml``: published by the demo data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=TAG.pattern)
    organisation: str = Field(min_length=1, max_length=200)
    country: str
    year: int = Field(ge=YEAR_MIN, le=YEAR_MAX)
    category: str
    sdgs: list[int] = []
    tags: list[str] = []
    programme: str = ""
    event: str = ""
    contact: str = ""
    source: str = ""
    illustrative: bool
    texts: dict[str, CaseTextFile]

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if value not in COUNTRIES:
            raise ValueError(f"country must be one of {', '.join(COUNTRIES)}")
        return value

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
        return value

    @field_validator("sdgs")
    @classmethod
    def _sdgs(cls, value: list[int]) -> list[int]:
        if any(goal not in SDGS for goal in value):
            raise ValueError("an SDG is a number from 1 to 17")
        return sorted(set(value))

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        if any(not TAG.fullmatch(tag) for tag in value):
            raise ValueError("a tag is lower-case letters, digits and dashes")
        return value

    @field_validator("texts")
    @classmethod
    def _texts(cls, value: dict[str, CaseTextFile]) -> dict[str, CaseTextFile]:
        if not value or any(lang not in LANGUAGES for lang in value):
            raise ValueError(f"texts need one or more of the languages {', '.join(LANGUAGES)}")
        return value


def parse_tags(text: str) -> list[str]:
    """Tags typed as "lcc-tco, life-cycle-costs": lower-case, unique, in order; ValueError names
    a tag that is not letters, digits and dashes."""
    out: list[str] = []
    for raw in re.split(r"[,\s]+", text.strip().lower()):
        if not raw:
            continue
        if not TAG.fullmatch(raw):
            raise ValueError(raw)
        if raw not in out:
            out.append(raw)
    return out[:20]
