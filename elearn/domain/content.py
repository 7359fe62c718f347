"""Frozen models of courses, modules, question items, banks and exam definitions.

Pydantic checks the shape of each document; the ``check_*`` functions check what pydantic cannot
(every language present, references between documents) and return every problem, located by its
path of keys so that the loader can name the file and line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Container, Iterable
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from elearn.domain.problems import LocatedMessage

LANGUAGES: tuple[str, ...] = ("nb", "da", "en")
Lang = Literal["nb", "da", "en"]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
TypeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]*$", max_length=40)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Localized = dict[Lang, Text]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class Frozen(BaseModel):
    """Content is read-only once loaded, and an unknown key is an error, not a silent no-op."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def content_hash(model: BaseModel) -> str:
    """A stable hash of a model's content: the same text gives the same version.

    Metadata a model names in ``HASH_IGNORES`` (where an item is drawn, what it may not share a
    form with) is left out, so that changing it makes no new version; a field in
    ``HASH_IGNORES_DEFAULT`` is left out while it has its default, so that adding a field keeps
    every earlier version's hash.
    """
    ignored = set(getattr(model, "HASH_IGNORES", ()))
    ignored |= {
        name
        for name, default in getattr(model, "HASH_IGNORES_DEFAULT", {}).items()
        if getattr(model, name) == default
    }
    data = model.model_dump(mode="json", exclude=ignored)
    payload = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def missing_languages(
    text: Container[str], languages: Iterable[str], loc: tuple[str | int, ...]
) -> list[LocatedMessage]:
    """One problem for every required language that a localised text lacks."""
    return [
        LocatedMessage(loc, f"missing language '{lang}'") for lang in languages if lang not in text
    ]


# --- courses -------------------------------------------------------------------------------


class Outcome(Frozen):
    id: Slug
    text: Localized


class CourseSpec(Frozen):
    """The ``course.yaml`` of one course."""

    id: Slug
    default_language: Lang
    languages: list[Lang] = Field(min_length=1)
    title: Localized
    summary: Localized
    estimated_minutes: int = Field(gt=0, le=10_000)
    exam: Slug | None = None
    practice_bank: Slug | None = None  # where the modules' knowledge checks come from
    outcomes: list[Outcome] = Field(min_length=1)
    modules: list[Slug] = Field(min_length=1)


class ModuleFrontMatter(Frozen):
    """The front matter of one language file of a module."""

    title: Text
    minutes: int = Field(gt=0, le=1_000)
    outcomes: list[Slug] = []
    check: list[Slug] = []  # practice item ids for the knowledge check at the module's end


class ModuleSpec(Frozen):
    """One module in all its languages: bodies are Markdown source."""

    id: Slug
    position: int
    minutes: int
    outcomes: list[Slug]
    title: dict[str, str]
    body: dict[str, str]
    check: list[str] = []


def check_course(spec: CourseSpec) -> list[LocatedMessage]:
    """Problems within one course.yaml that its shape alone does not show."""
    out: list[LocatedMessage] = []
    if len(set(spec.languages)) != len(spec.languages):
        out.append(LocatedMessage(("languages",), "a language is listed twice"))
    if spec.default_language not in spec.languages:
        out.append(
            LocatedMessage(
                ("default_language",),
                f"default language '{spec.default_language}' is not in languages",
            )
        )
    out += missing_languages(spec.title, spec.languages, ("title",))
    out += missing_languages(spec.summary, spec.languages, ("summary",))
    seen: set[str] = set()
    for i, outcome in enumerate(spec.outcomes):
        if outcome.id in seen:
            out.append(
                LocatedMessage(("outcomes", i, "id"), f"duplicate outcome id '{outcome.id}'")
            )
        seen.add(outcome.id)
        out += missing_languages(outcome.text, spec.languages, ("outcomes", i, "text"))
    seen = set()
    for i, module_id in enumerate(spec.modules):
        if module_id in seen:
            out.append(LocatedMessage(("modules", i), f"duplicate module id '{module_id}'"))
        seen.add(module_id)
    return out


# --- question banks --------------------------------------------------------------------------


class Topic(Frozen):
    id: Slug
    title: Localized


class BankSpec(Frozen):
    """The ``bank.yaml`` of one question bank."""

    id: Slug
    languages: list[Lang] = Field(min_length=1)
    title: Localized
    topics: list[Topic] = Field(min_length=1)


class AcceptedAnswer(Frozen):
    answer: Text
    credit: Fraction = 1.0


class ItemText(Frozen):
    """What a learner reads of an item in one language."""

    stem: Text
    options: dict[Slug, Text] | None = None
    prompts: dict[Slug, Text] | None = None
    accepted: list[AcceptedAnswer] | None = None
    feedback: Text | None = None


ImageFile = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}\.(?:png|jpg|gif|webp)$")]


class ItemImage(Frozen):
    """An image an item shows after its stem: a file of the bank's ``media/`` folder, named by
    its content (see :mod:`elearn.domain.images`), with its alt text in every language."""

    file: ImageFile
    alt: Localized


class ItemSpec(Frozen):
    """One question item; its ``type`` names an entry in :mod:`elearn.domain.itemtypes`."""

    HASH_IGNORES: ClassVar[frozenset[str]] = frozenset({"pool", "enemy_group"})
    HASH_IGNORES_DEFAULT: ClassVar[dict[str, Any]] = {"mark": 1.0, "images": []}

    id: Slug
    topic: Slug
    outcome: Slug | None = None
    type: TypeName
    key: Any = None
    source: Text
    as_of: date | None = None
    difficulty: Fraction | None = None
    angoff: Fraction | None = None
    pinned: list[Slug] = []
    # The pool of its bank that exams draw it from (None: the bank's main pool).
    pool: Slug | None = None
    # Items of one enemy group never share a form: twins, and an item that gives another away.
    enemy_group: Slug | None = None
    mark: float = Field(default=1.0, ge=0, le=100)  # its maximum mark; 0 counts for nothing
    # Images shown after the stem, in order; part of the content hash (their names are hashes).
    images: list[ItemImage] = Field(default_factory=list, max_length=10)
    text: dict[Lang, ItemText]


class ItemFile(Frozen):
    items: list[ItemSpec]


def check_bank(spec: BankSpec) -> list[LocatedMessage]:
    out = missing_languages(spec.title, spec.languages, ("title",))
    seen: set[str] = set()
    for i, topic in enumerate(spec.topics):
        if topic.id in seen:
            out.append(LocatedMessage(("topics", i, "id"), f"duplicate topic id '{topic.id}'"))
        seen.add(topic.id)
        out += missing_languages(topic.title, spec.languages, ("topics", i, "title"))
    return out


# --- exam definitions -------------------------------------------------------------------------


class BlueprintEntry(Frozen):
    topic: Slug
    items: int = Field(gt=0, le=1000)
    outcomes: dict[Slug, int] | None = None


class PassRules(Frozen):
    overall_percent: float = Field(ge=0, le=100)
    topics: dict[Slug, Annotated[float, Field(ge=0, le=100)]] = {}


class AttemptRules(Frozen):
    max: int | None = Field(default=None, gt=0)
    cooldown_days: int = Field(default=0, ge=0, le=3650)


class CertificateSettings(Frozen):
    issue: bool = True  # a practice exam issues none
    valid_months: int | None = Field(default=None, gt=0, le=1200)
    title: Localized | None = None


class ExamSpec(Frozen):
    """One exam definition: blueprint, timing, pass rules, attempts, review policy."""

    HASH_IGNORES_DEFAULT: ClassVar[dict[str, Any]] = {"pool": None}

    id: Slug
    title: Localized
    description: Localized | None = None
    course: Slug | None = None
    pool: Slug | None = None  # the pool of its bank it draws from (None: the main pool)
    opens: datetime | None = None
    closes: datetime | None = None
    time_limit_minutes: int = Field(gt=0, le=24 * 60)
    blueprint: list[BlueprintEntry] = Field(min_length=1)
    difficulty_tolerance: float = Field(default=0.03, gt=0, le=1)
    pass_rules: PassRules
    attempts: AttemptRules = AttemptRules()
    review: Literal["topics", "correctness", "answers"] = "topics"
    sign_off: bool = False
    certificate: CertificateSettings = CertificateSettings()


def pool_name(pool: str | None) -> str:
    """How a message names a pool of a bank."""
    return f"pool '{pool}'" if pool else "bank's main pool"


def check_exam(
    exam: ExamSpec, bank: BankSpec, pool: dict[str, int], courses: set[str]
) -> list[LocatedMessage]:
    """Problems of an exam against its bank, the items it can draw from and the known courses.

    ``pool`` counts the items of each topic that can be drawn.
    """
    out = missing_languages(exam.title, bank.languages, ("title",))
    topics = {t.id for t in bank.topics}
    drawn: set[str] = set()
    for i, entry in enumerate(exam.blueprint):
        loc = ("blueprint", i)
        if entry.topic not in topics:
            out.append(LocatedMessage((*loc, "topic"), f"unknown topic '{entry.topic}'"))
            continue
        if entry.topic in drawn:
            out.append(LocatedMessage((*loc, "topic"), f"topic '{entry.topic}' is listed twice"))
        drawn.add(entry.topic)
        available = pool.get(entry.topic, 0)
        if entry.items > available:
            out.append(
                LocatedMessage(
                    (*loc, "items"),
                    f"asks for {entry.items} items of topic '{entry.topic}' "
                    f"but the {pool_name(exam.pool)} holds {available}",
                )
            )
        if entry.outcomes and sum(entry.outcomes.values()) > entry.items:
            out.append(
                LocatedMessage(
                    (*loc, "outcomes"), "asks for more items per outcome than for the topic"
                )
            )
    for topic in exam.pass_rules.topics:
        if topic not in drawn:
            out.append(
                LocatedMessage(
                    ("pass_rules", "topics", topic),
                    f"pass rule for topic '{topic}' that the blueprint does not draw",
                )
            )
    if exam.course is not None and exam.course not in courses:
        out.append(LocatedMessage(("course",), f"unknown course '{exam.course}'"))
    if exam.opens and exam.closes and exam.closes <= exam.opens:
        out.append(LocatedMessage(("closes",), "closes before it opens"))
    return out
