"""The case bank: write, submit, review, publish, search and export cases, and keep their files.

Every state change is a ``CaseStep`` row and an audit entry. A step is one guarded UPDATE
(``WHERE state = <the state it leaves>``), so two editors pressing "publish" at once, or a
forged step from a state it does not leave, change nothing.

Attachments live in the one file store (``services/files.py``, ``instance/files/``): PDF and
images only, by their bytes; a size limit; random names on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, func, or_, text, update
from sqlmodel import Session, col, select

from elearn.domain import cases as rules
from elearn.domain.errors import N_, NotFound
from elearn.models import (
    CaseAttachment,
    CaseSdg,
    CaseStep,
    CaseStudy,
    CaseText,
    StoredFile,
    User,
)
from elearn.services import audit, files
from elearn.services.paging import Page, page_of

Listed = list[tuple[CaseStudy, dict[str, CaseText]]]

TEXT_FIELDS = (
    "summary",
    "purchase",
    "criteria",
    "lcc_tco",
    "co2e",
    "co2e_basis",
    "life_cycle_cost",
    "life_cycle_cost_basis",
    "other_results",
    "other_results_basis",
    "lessons",
)
MAX_ATTACHMENTS = 10


@dataclass(frozen=True)
class CaseInput:
    """What a participant writes: the case's facts and its text in one language."""

    organisation: str
    country: str
    year: int
    category: str
    lang: str
    title: str
    sdgs: Sequence[int] = ()
    tags: Sequence[str] = ()
    programme: str = ""
    event: str = ""
    contact: str = ""
    texts: dict[str, str] = field(default_factory=dict)  # TEXT_FIELDS -> text


@dataclass(frozen=True)
class CaseView:
    case: CaseStudy
    texts: dict[str, CaseText]  # by language
    sdgs: list[int]
    steps: Sequence[tuple[CaseStep, str | None]]  # with the actor's name
    attachments: list[CaseAttachment]
    owner_name: str

    def text(self, lang: str) -> CaseText:
        """The version in ``lang``, else the first there is (nb, da, en)."""
        if lang in self.texts:
            return self.texts[lang]
        return next(self.texts[code] for code in rules.LANGUAGES if code in self.texts)


@dataclass(frozen=True)
class Filters:
    q: str = ""
    category: str = ""
    country: str = ""
    sdg: int | None = None
    programme: str = ""
    lang: str = ""
    tag: str = ""


# --- writing -------------------------------------------------------------------------------------


def _body(title: str, texts: dict[str, str]) -> str:
    return "\n".join([title, *(texts.get(name, "") for name in TEXT_FIELDS)])


def _set_facts(case: CaseStudy, data: CaseInput) -> None:
    if data.country not in rules.COUNTRIES or data.category not in rules.CATEGORIES:
        raise rules.DomainError(N_("Choose a country and a category from the lists."))
    if data.lang not in rules.LANGUAGES:
        raise rules.DomainError(N_("Choose a language from the list."))
    case.organisation = data.organisation
    case.country = data.country
    case.year = data.year
    case.category = data.category
    case.tags = list(data.tags)
    case.programme = data.programme
    case.event = data.event
    case.contact = data.contact


def _set_text(session: Session, case_id: int, data: CaseInput) -> None:
    row = session.exec(
        select(CaseText).where(CaseText.case_id == case_id, CaseText.lang == data.lang)
    ).first() or CaseText(case_id=case_id, lang=data.lang, title=data.title)
    row.title = data.title
    for name in TEXT_FIELDS:
        setattr(row, name, data.texts.get(name, ""))
    row.body = _body(data.title, data.texts)
    session.add(row)


def _set_sdgs(session: Session, case_id: int, sdgs: Sequence[int]) -> None:
    wanted = sorted({goal for goal in sdgs if goal in rules.SDGS})
    for row in session.exec(select(CaseSdg).where(CaseSdg.case_id == case_id)):
        session.delete(row)
    session.flush()
    session.add_all(CaseSdg(case_id=case_id, sdg=goal) for goal in wanted)


def _record(
    session: Session,
    case: CaseStudy,
    *,
    source: str,
    target: str,
    actor_id: int | None,
    comment: str,
    now: datetime,
) -> None:
    assert case.id is not None
    session.add(
        CaseStep(
            case_id=case.id,
            actor_id=actor_id,
            source=source,
            target=target,
            comment=comment,
            at=now,
        )
    )
    audit.record(
        session=session,
        action=f"case.{target}",
        subject=f"case:{case.id}",
        now=now,
        actor_id=actor_id,
        data={"from": source, "to": target, **({"comment": comment} if comment else {})},
    )


def create_case(*, session: Session, owner_id: int, data: CaseInput, now: datetime) -> CaseStudy:
    """A new draft, owned by its writer."""
    case = CaseStudy(
        owner_id=owner_id,
        state=rules.DRAFT,
        organisation=data.organisation,
        country=data.country,
        year=data.year,
        category=data.category,
        created_at=now,
        updated_at=now,
    )
    _set_facts(case, data)
    session.add(case)
    session.flush()
    assert case.id is not None
    _set_text(session, case.id, data)
    _set_sdgs(session, case.id, data.sdgs)
    _record(session, case, source="", target=rules.DRAFT, actor_id=owner_id, comment="", now=now)
    session.flush()
    return case


def _own_editable(session: Session, case_id: int, actor_id: int) -> CaseStudy:
    case = session.get(CaseStudy, case_id)
    # Someone else's case is "not found" to a writer: no one learns which drafts exist.
    if case is None or case.owner_id != actor_id:
        raise NotFound(N_("There is no such case among yours."))
    if case.state not in rules.EDITABLE:
        raise rules.WrongState(
            N_("The case can be changed only as a draft or when an editor has asked for changes.")
        )
    return case


def update_case(
    *, session: Session, case_id: int, actor_id: int, data: CaseInput, now: datetime
) -> CaseStudy:
    """Change a draft (or a case sent back), adding or replacing the text in ``data.lang``."""
    case = _own_editable(session, case_id, actor_id)
    _set_facts(case, data)
    case.updated_at = now
    session.add(case)
    _set_text(session, case_id, data)
    _set_sdgs(session, case_id, data.sdgs)
    session.flush()
    return case


def take_step(
    *,
    session: Session,
    case_id: int,
    actor_id: int,
    is_editor: bool,
    action: str,
    comment: str,
    now: datetime,
) -> CaseStudy:
    """Move a case one step (submit, request changes, publish, archive), or refuse it."""
    case = session.get(CaseStudy, case_id)
    is_owner = case is not None and case.owner_id == actor_id
    if case is None or not rules.readable(state=case.state, is_owner=is_owner, is_editor=is_editor):
        raise NotFound(N_("There is no such case."))
    if action == "request_changes" and not comment.strip():
        raise rules.DomainError(N_("Say what should be changed: the writer sees your comment."))
    moved = rules.step(state=case.state, action=action, is_owner=is_owner, is_editor=is_editor)
    values: dict[str, Any] = {"state": moved.target, "updated_at": now}
    if moved.target == rules.PUBLISHED:
        values["published_at"] = now
    done = session.execute(
        update(CaseStudy)
        .where(col(CaseStudy.id) == case_id, col(CaseStudy.state) == moved.source)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:  # another request moved it first
        raise rules.WrongState(
            N_("The case is not in a state that allows this step. Reload the page and try again.")
        )
    session.refresh(case)
    _record(
        session,
        case,
        source=moved.source,
        target=moved.target,
        actor_id=actor_id,
        comment=comment,
        now=now,
    )
    session.flush()
    return case


# --- reading -------------------------------------------------------------------------------------


def load_case(
    *, session: Session, case_id: int, viewer_id: int | None, is_editor: bool
) -> CaseView:
    """A case as its reader may see it; "not found" for a draft that is not theirs."""
    case = session.get(CaseStudy, case_id)
    if case is None or not rules.readable(
        state=case.state, is_owner=case.owner_id == viewer_id, is_editor=is_editor
    ):
        raise NotFound(N_("There is no such case."))
    texts = {
        row.lang: row for row in session.exec(select(CaseText).where(CaseText.case_id == case_id))
    }
    sdgs = list(
        session.exec(
            select(CaseSdg.sdg).where(CaseSdg.case_id == case_id).order_by(col(CaseSdg.sdg))
        )
    )
    steps = list(
        session.exec(
            select(CaseStep, User.name)
            .join(User, col(User.id) == col(CaseStep.actor_id), isouter=True)
            .where(CaseStep.case_id == case_id)
            .order_by(col(CaseStep.at), col(CaseStep.id))
        ).all()
    )
    attachments = list(
        session.exec(
            select(CaseAttachment)
            .where(CaseAttachment.case_id == case_id)
            .order_by(col(CaseAttachment.id))
        )
    )
    owner = session.get(User, case.owner_id)
    return CaseView(case, texts, sdgs, steps, attachments, owner.name if owner else "")


def _search_condition(session: Session, q: str) -> Any:
    """Cases with a text (in any language) holding every word, in the database's own engine."""
    words = rules.search_words(q)
    if not words:
        return None
    if session.get_bind().dialect.name == "postgresql":
        matching = select(CaseText.case_id).where(
            text(
                "to_tsvector('simple', case_text.title || ' ' || case_text.body) "
                "@@ plainto_tsquery('simple', :q)"
            ).bindparams(q=" ".join(words))
        )
    else:
        matching = select(CaseText.case_id).where(
            col(CaseText.id).in_(
                select(text("rowid"))
                .select_from(text("case_fts"))
                .where(text("case_fts MATCH :q").bindparams(q=rules.fts5_query(q)))
            )
        )
    return col(CaseStudy.id).in_(matching)


def _published(filters: Filters, session: Session) -> Any:
    statement = select(CaseStudy).where(CaseStudy.state == rules.PUBLISHED)
    if filters.category:
        statement = statement.where(CaseStudy.category == filters.category)
    if filters.country:
        statement = statement.where(CaseStudy.country == filters.country)
    if filters.programme:
        statement = statement.where(CaseStudy.programme == filters.programme)
    if filters.sdg is not None:
        statement = statement.where(
            col(CaseStudy.id).in_(select(CaseSdg.case_id).where(CaseSdg.sdg == filters.sdg))
        )
    if filters.lang:
        statement = statement.where(
            col(CaseStudy.id).in_(select(CaseText.case_id).where(CaseText.lang == filters.lang))
        )
    if filters.q:
        condition = _search_condition(session, filters.q)
        if condition is not None:
            statement = statement.where(condition)
    return statement


def search(*, session: Session, filters: Filters, number: int, size: int = 20) -> Page[Any]:
    """One page of published cases matching the filters, newest first, with their texts."""
    statement = _published(filters, session).order_by(
        col(CaseStudy.year).desc(), col(CaseStudy.id).desc()
    )
    if filters.tag:
        statement = statement.where(_has_tag(session, filters.tag))
    found = page_of(session=session, statement=statement, number=number, size=size)
    return Page(_with_texts(session, found.rows), found.number, found.size, found.total)


def _with_texts(session: Session, rows: list[CaseStudy]) -> Listed:
    ids = [row.id for row in rows]
    texts: dict[int, dict[str, CaseText]] = {}
    if ids:
        for t in session.exec(select(CaseText).where(col(CaseText.case_id).in_(ids))):
            texts.setdefault(t.case_id, {})[t.lang] = t
    return [(row, texts.get(row.id or 0, {})) for row in rows]


def _has_tag(session: Session, tag: str) -> Any:
    """The case's JSON list of tags holds ``tag`` (a JSON string, matched with its quotes)."""
    quoted = f'%"{tag}"%' if rules.TAG.fullmatch(tag) else "%\x01%"
    if session.get_bind().dialect.name == "postgresql":
        return cast(CaseStudy.tags, Text).like(quoted)
    return func.json(CaseStudy.tags).like(quoted)


def programmes(*, session: Session) -> list[str]:
    """The programmes and events named by published cases, for the filter."""
    return [
        name
        for name in session.exec(
            select(CaseStudy.programme)
            .where(CaseStudy.state == rules.PUBLISHED, CaseStudy.programme != "")
            .distinct()
            .order_by(col(CaseStudy.programme))
        )
    ]


def for_tags(*, session: Session, tags: Sequence[str], limit: int = 3) -> Listed:
    """A few published cases carrying any of ``tags`` (a course module's topic)."""
    wanted = [tag for tag in tags if rules.TAG.fullmatch(tag)]
    if not wanted:
        return []
    statement = (
        select(CaseStudy)
        .where(CaseStudy.state == rules.PUBLISHED)
        .where(or_(*(_has_tag(session, tag) for tag in wanted)))
        .order_by(col(CaseStudy.year).desc(), col(CaseStudy.id).desc())
        .limit(limit)
    )
    return _with_texts(session, list(session.exec(statement)))


def mine(*, session: Session, owner_id: int) -> Listed:
    rows = session.exec(
        select(CaseStudy)
        .where(CaseStudy.owner_id == owner_id)
        .order_by(col(CaseStudy.updated_at).desc(), col(CaseStudy.id).desc())
    )
    return _with_texts(session, list(rows))


def waiting_for_review(*, session: Session) -> Listed:
    rows = session.exec(
        select(CaseStudy)
        .where(CaseStudy.state == rules.SUBMITTED)
        .order_by(col(CaseStudy.updated_at), col(CaseStudy.id))
    )
    return _with_texts(session, list(rows))


def recently_reviewed(*, session: Session, limit: int = 20) -> Listed:
    rows = session.exec(
        select(CaseStudy)
        .where(col(CaseStudy.state).in_((rules.PUBLISHED, rules.CHANGES_REQUESTED, rules.ARCHIVED)))
        .order_by(col(CaseStudy.updated_at).desc(), col(CaseStudy.id).desc())
        .limit(limit)
    )
    return _with_texts(session, list(rows))


# --- export --------------------------------------------------------------------------------------

EXPORT_HEADER = (
    "id",
    "lang",
    "title",
    "organisation",
    "country",
    "year",
    "category",
    "sdgs",
    "tags",
    "programme",
    "event",
    "illustrative",
    *TEXT_FIELDS,
    "contact",
    "source",
    "published_at",
    "url",
)


def export(*, session: Session, filters: Filters, base_url: str) -> list[dict[str, Any]]:
    """Every published case matching the filters, as plain data (for JSON and CSV)."""
    rows = list(session.exec(_published(filters, session).order_by(col(CaseStudy.id))))
    by_case = {case.id: texts for case, texts in _with_texts(session, rows)}
    sdgs: dict[int, list[int]] = {}
    if rows:
        for case_id, goal in session.exec(
            select(CaseSdg.case_id, CaseSdg.sdg)
            .where(col(CaseSdg.case_id).in_([r.id for r in rows]))
            .order_by(col(CaseSdg.sdg))
        ):
            sdgs.setdefault(case_id, []).append(goal)
    out = []
    for case in rows:
        assert case.id is not None
        texts = by_case.get(case.id, {})
        out.append(
            {
                "id": case.id,
                "url": f"{base_url}/cases/{case.id}",
                "organisation": case.organisation,
                "country": case.country,
                "year": case.year,
                "category": case.category,
                "sdgs": sdgs.get(case.id, []),
                "tags": list(case.tags),
                "programme": case.programme,
                "event": case.event,
                "illustrative": case.illustrative,
                "contact": case.contact,
                "source": case.source,
                "published_at": case.published_at.isoformat() if case.published_at else None,
                "texts": {
                    lang: {"title": t.title, **{name: getattr(t, name) for name in TEXT_FIELDS}}
                    for lang, t in sorted(texts.items())
                },
            }
        )
    return out


def export_rows(*, cases: list[dict[str, Any]]) -> list[list[Any]]:
    """One row per case and language, in ``EXPORT_HEADER``'s order."""
    rows = []
    for case in cases:
        for lang, texts in case["texts"].items():
            flat = {
                **case,
                **texts,
                "lang": lang,
                "sdgs": " ".join(str(goal) for goal in case["sdgs"]),
                "tags": " ".join(case["tags"]),
                "illustrative": "yes" if case["illustrative"] else "no",
            }
            rows.append([flat.get(name, "") for name in EXPORT_HEADER])
    return rows


# --- attachments ---------------------------------------------------------------------------------


def add_attachment(
    *,
    session: Session,
    case_id: int,
    actor_id: int,
    filename: str,
    data: bytes,
    limit: int,
    instance_path: str,
    now: datetime,
) -> CaseAttachment:
    """Keep a PDF or an image with a draft, in the one file store (``services/files.py``);
    refused (nothing kept) when it is neither or too large. Its name is only shown."""
    _own_editable(session, case_id, actor_id)
    kind = rules.check_attachment(head=data[:16], size=len(data), limit=limit)
    count = session.exec(
        select(func.count()).select_from(CaseAttachment).where(CaseAttachment.case_id == case_id)
    ).one()
    if count >= MAX_ATTACHMENTS:
        raise rules.DomainError(N_("A case can have at most ten attachments."))
    stored = files.store(
        session=session,
        instance_path=instance_path,
        upload=files.Upload(filename=filename, data=data),
        now=now,
        allowed=tuple(media for media, _suffix in rules.ATTACHMENT_KINDS.values()),
        max_bytes=limit,
    )
    assert stored.id is not None
    row = CaseAttachment(
        case_id=case_id,
        name=rules.attachment_name(filename, kind),
        kind=kind,
        size=len(data),
        file_id=stored.id,
        uploaded_by_id=actor_id,
        uploaded_at=now,
    )
    session.add(row)
    session.flush()
    return row


def remove_attachment(
    *, session: Session, case_id: int, attachment_id: int, actor_id: int, instance_path: str
) -> None:
    _own_editable(session, case_id, actor_id)
    row = session.get(CaseAttachment, attachment_id)
    if row is None or row.case_id != case_id:
        raise NotFound(N_("There is no such attachment."))
    stored = session.get(StoredFile, row.file_id)
    session.delete(row)
    session.flush()
    if stored is not None:
        files.delete(session=session, instance_path=instance_path, row=stored)


def attachment_file(
    *,
    session: Session,
    case_id: int,
    attachment_id: int,
    viewer_id: int | None,
    is_editor: bool,
    instance_path: str,
) -> tuple[CaseAttachment, Path]:
    """An attachment and where its bytes are, for a reader who may see the case."""
    load_case_row = session.get(CaseStudy, case_id)
    row = session.get(CaseAttachment, attachment_id)
    if (
        load_case_row is None
        or row is None
        or row.case_id != case_id
        or not rules.readable(
            state=load_case_row.state,
            is_owner=load_case_row.owner_id == viewer_id,
            is_editor=is_editor,
        )
    ):
        raise NotFound(N_("There is no such attachment."))
    stored = session.get(StoredFile, row.file_id)
    path = files.path_of(instance_path=instance_path, row=stored) if stored else None
    if path is None or not path.is_file():
        raise NotFound(N_("There is no such attachment."))
    return row, path


# --- demo cases from files -----------------------------------------------------------------------


def read_case_files(*, folder: Path) -> list[rules.CaseFile]:
    """Every ``*.yaml`` under ``folder`` as a case; ValueError names the file that is wrong."""
    import yaml  # here, not at the top: the app starts without the YAML parser

    out = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            out.append(rules.CaseFile.model_validate(yaml.safe_load(path.read_text("utf-8"))))
        except (ValueError, yaml.YAMLError) as exc:
            raise ValueError(f"{path.name}: {exc}") from None
    return out


def load_demo_cases(
    *, session: Session, files: list[rules.CaseFile], owner_id: int, editor_id: int, now: datetime
) -> int:
    """Publish the shipped cases not yet in the database (by their key); how many were added.
    Each goes through the same steps as any case: written, submitted, published by an editor."""
    added = 0
    for item in files:
        if session.exec(select(CaseStudy.id).where(CaseStudy.demo_key == item.key)).first():
            continue
        languages = list(item.texts.items())
        first_lang, first = languages[0]
        data = CaseInput(
            organisation=item.organisation,
            country=item.country,
            year=item.year,
            category=item.category,
            lang=first_lang,
            title=first.title,
            sdgs=item.sdgs,
            tags=item.tags,
            programme=item.programme,
            event=item.event,
            contact=item.contact,
            texts=first.model_dump(exclude={"title"}),
        )
        case = create_case(session=session, owner_id=owner_id, data=data, now=now)
        assert case.id is not None
        case.demo_key = item.key
        case.source = item.source
        case.illustrative = item.illustrative
        session.add(case)
        for lang, version in languages[1:]:
            _set_text(
                session,
                case.id,
                CaseInput(
                    organisation=data.organisation,
                    country=data.country,
                    year=data.year,
                    category=data.category,
                    lang=lang,
                    title=version.title,
                    texts=version.model_dump(exclude={"title"}),
                ),
            )
        session.flush()
        for action in ("submit", "publish"):
            take_step(
                session=session,
                case_id=case.id,
                actor_id=owner_id if action == "submit" else editor_id,
                is_editor=action == "publish",
                action=action,
                comment="",
                now=now,
            )
        added += 1
    return added
