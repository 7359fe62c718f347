"""Load checked content into versioned rows. Idempotent: unchanged content writes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, func, select

from elearn.domain.content import content_hash
from elearn.domain.standard_setting import effective_ratings
from elearn.models import (
    Bank,
    Course,
    CourseModule,
    Exam,
    ExamVersion,
    Item,
    ItemPanelRating,
    ItemVersion,
)
from elearn.services import audit

if TYPE_CHECKING:  # the loader (and YAML) is for `content sync`, not for every app start
    from elearn.content.loader import ContentSet, LoadedBank


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated)


def sync_content(
    *, session: Session, content: ContentSet, now: datetime, actor_id: int | None = None
) -> SyncReport:
    """Bring the database in line with the files that passed the checks.

    Refused units are not in ``content``; their rows stay as they were.
    """
    report = SyncReport()
    for bank in content.banks.values():
        _sync_bank(session, bank, report)
    for loaded in content.courses.values():
        spec = loaded.spec.model_dump(mode="json")
        digest = content_hash(loaded.spec)
        course = session.get(Course, loaded.spec.id)
        if course is None:
            session.add(Course(id=loaded.spec.id, spec=spec, content_hash=digest, synced_at=now))
            report.created.append(f"course {loaded.spec.id}")
        elif course.content_hash != digest or not course.active:
            course.spec, course.content_hash, course.active, course.synced_at = (
                spec,
                digest,
                True,
                now,
            )
            report.updated.append(f"course {loaded.spec.id}")
        else:
            report.unchanged += 1
        session.flush()
        existing = {
            m.module_id: m
            for m in session.exec(
                select(CourseModule).where(CourseModule.course_id == loaded.spec.id)
            )
        }
        for module in loaded.modules:
            digest = content_hash(module)
            row = existing.pop(module.id, None)
            name = f"module {loaded.spec.id}/{module.id}"
            if row is None:
                session.add(
                    CourseModule(
                        course_id=loaded.spec.id,
                        module_id=module.id,
                        position=module.position,
                        spec=module.model_dump(mode="json"),
                        content_hash=digest,
                    )
                )
                report.created.append(name)
            elif row.content_hash != digest or not row.active or row.position != module.position:
                row.spec, row.content_hash = module.model_dump(mode="json"), digest
                row.position, row.active = module.position, True
                report.updated.append(name)
            else:
                report.unchanged += 1
        for row in existing.values():  # modules no longer in the course: progress stays
            if row.active:
                row.active = False
                report.deactivated.append(f"module {loaded.spec.id}/{row.module_id}")
    session.flush()
    if report.changed:
        audit.record(
            session=session,
            action="content.synced",
            subject="content",
            now=now,
            actor_id=actor_id,
            data={
                "created": report.created,
                "updated": report.updated,
                "deactivated": report.deactivated,
            },
        )
    return report


def _sync_bank(session: Session, loaded: LoadedBank, report: SyncReport) -> None:
    spec = loaded.spec.model_dump(mode="json")
    digest = content_hash(loaded.spec)
    bank = session.get(Bank, loaded.spec.id)
    if bank is None:
        session.add(Bank(id=loaded.spec.id, spec=spec, content_hash=digest))
        report.created.append(f"bank {loaded.spec.id}")
    elif bank.content_hash != digest or not bank.active:
        bank.spec, bank.content_hash, bank.active = spec, digest, True
        report.updated.append(f"bank {loaded.spec.id}")
    else:
        report.unchanged += 1
    session.flush()

    items = {i.key: i for i in session.exec(select(Item).where(Item.bank_id == loaded.spec.id))}
    in_files: set[str] = set()
    for loaded_item in loaded.items:
        item_spec = loaded_item.spec
        in_files.add(item_spec.id)
        name = f"item {loaded.spec.id}/{item_spec.id}"
        item = items.get(item_spec.id)
        if item is None:
            item = Item(
                bank_id=loaded.spec.id,
                key=item_spec.id,
                topic=item_spec.topic,
                source_path=loaded_item.path,
            )
            session.add(item)
            session.flush()
            report.created.append(name)
        assert item.id is not None
        candidate = ItemVersion(
            item_id=item.id,
            version=0,
            content_hash=content_hash(item_spec),
            spec=item_spec.model_dump(mode="json"),
        )
        version_id = _version(session, candidate, ItemVersion.item_id)
        metadata = (item_spec.pool or "", item_spec.enemy_group)
        if item.current_version_id != version_id or not item.active:
            if item.current_version_id is not None:
                report.updated.append(name)
            item.current_version_id, item.active = version_id, True
            item.topic, item.source_path = item_spec.topic, loaded_item.path
            item.pool, item.enemy_group = metadata
        elif item.source_path != loaded_item.path or (item.pool, item.enemy_group) != metadata:
            # Where it is drawn, and what it may not share a form with: metadata, no new version.
            if (item.pool, item.enemy_group) != metadata:
                report.updated.append(f"{name} (pool or enemy group)")
            item.source_path = loaded_item.path
            item.pool, item.enemy_group = metadata
        else:
            report.unchanged += 1
    # An item is gone only when every file of its bank was read: a refused file may still hold it.
    if not loaded.refused_item_files:
        for key, item in items.items():
            if key not in in_files and item.active:
                item.active = False
                report.deactivated.append(f"item {loaded.spec.id}/{key}")

    for loaded_exam in loaded.exams:
        exam_spec = loaded_exam.spec
        exam = session.get(Exam, exam_spec.id)
        name = f"exam {exam_spec.id}"
        if exam is None:
            exam = Exam(id=exam_spec.id, bank_id=loaded.spec.id)
            session.add(exam)
            session.flush()
            report.created.append(name)
        candidate_exam = ExamVersion(
            exam_id=exam.id,
            version=0,
            content_hash=content_hash(exam_spec),
            spec=exam_spec.model_dump(mode="json"),
        )
        version_id = _version(session, candidate_exam, ExamVersion.exam_id)
        if exam.current_version_id != version_id or not exam.active:
            if exam.current_version_id is not None:
                report.updated.append(name)
            exam.current_version_id, exam.active, exam.bank_id = version_id, True, loaded.spec.id
        else:
            report.unchanged += 1
    session.flush()
    _sync_ratings(session, loaded, report)


def _sync_ratings(session: Session, loaded: LoadedBank, report: SyncReport) -> None:
    """The panel ratings of the bank's ratings files onto its items: metadata, no new version.

    An item rated by several studies takes the newest; a rating whose file is gone goes too,
    unless a ratings file of the bank was refused (it may still hold it).
    """
    wanted = effective_ratings([(r.spec, r.path) for r in loaded.ratings])
    items = {i.key: i for i in session.exec(select(Item).where(Item.bank_id == loaded.spec.id))}
    rows = {
        r.item_id: r
        for r in session.exec(
            select(ItemPanelRating)
            .join(Item, col(Item.id) == col(ItemPanelRating.item_id))
            .where(Item.bank_id == loaded.spec.id)
        )
    }
    changed = removed = 0
    for key, panel in wanted.items():
        item = items.get(key)
        if item is None or item.id is None:
            continue  # its items file was refused before it was ever loaded
        values: dict[str, object] = {
            "rating": panel.rating,
            "study": panel.study.id,
            "exam_id": panel.study.exam,
            "closed_on": panel.study.closed,
            "panellists": panel.study.panellists,
            "rounds": panel.study.rounds,
            "source_path": panel.path,
        }
        row = rows.pop(item.id, None)
        if row is None:
            row = ItemPanelRating(
                item_id=item.id,
                rating=panel.rating,
                study=panel.study.id,
                exam_id=panel.study.exam,
                closed_on=panel.study.closed,
                panellists=panel.study.panellists,
                rounds=panel.study.rounds,
                source_path=panel.path,
            )
            session.add(row)
            changed += 1
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed += 1
    if not loaded.refused_ratings_files:
        for row in rows.values():
            session.delete(row)
            removed += 1
    if changed or removed:
        report.updated.append(
            f"panel ratings of bank {loaded.spec.id}: {changed} set, {removed} removed"
        )
    session.flush()


def _version(session: Session, candidate: ItemVersion | ExamVersion, owner_column: Any) -> int:
    """The id of the stored version with the candidate's content, else of the candidate, saved
    as the next version number."""
    model = type(candidate)
    owner_id = candidate.item_id if isinstance(candidate, ItemVersion) else candidate.exam_id
    found = session.exec(
        select(model.id).where(
            owner_column == owner_id, model.content_hash == candidate.content_hash
        )
    ).first()
    if found is not None:
        return found
    latest = session.exec(
        select(func.max(col(model.version))).where(owner_column == owner_id)
    ).one()
    candidate.version = (latest or 0) + 1
    session.add(candidate)
    session.flush()
    assert candidate.id is not None
    return candidate.id


@dataclass(frozen=True)
class SyncedContent:
    """What the database holds of the content files, for the admin's overview."""

    courses: list[Course]
    banks: list[Bank]
    active_items: dict[str, int]  # by bank id
    exams: list[Exam]


def synced_content(*, session: Session) -> SyncedContent:
    return SyncedContent(
        courses=list(session.exec(select(Course).order_by(col(Course.id)))),
        banks=list(session.exec(select(Bank).order_by(col(Bank.id)))),
        active_items={
            bank_id: count
            for bank_id, count in session.exec(
                select(Item.bank_id, func.count()).where(Item.active).group_by(Item.bank_id)
            )
        },
        exams=list(session.exec(select(Exam).order_by(col(Exam.id)))),
    )
