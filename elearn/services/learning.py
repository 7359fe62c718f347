"""Learning: the catalogue, progress through modules, reflections and course evaluations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from elearn.domain.content import CourseSpec, ItemSpec, ModuleSpec
from elearn.domain.errors import N_, Conflict, NotFound
from elearn.models import (
    Course,
    CourseEvaluation,
    CourseModule,
    CourseProgress,
    Item,
    ItemVersion,
    ModuleProgress,
    Reflection,
)
from elearn.services import audit, xapi


@dataclass(frozen=True)
class LoadedCourseView:
    spec: CourseSpec
    modules: tuple[ModuleSpec, ...]


@dataclass(frozen=True)
class Progress:
    started: bool
    done: frozenset[str]
    total: int
    completed_at: datetime | None
    last_module_id: str | None

    @property
    def percent(self) -> int:
        return round(100 * len(self.done) / self.total) if self.total else 0


def active_courses(*, session: Session) -> list[Course]:
    return list(session.exec(select(Course).where(Course.active).order_by(col(Course.id))))


def load_course(*, session: Session, course_id: str) -> LoadedCourseView:
    course = session.get(Course, course_id)
    if course is None or not course.active:
        raise NotFound(N_("There is no such course."))
    rows = session.exec(
        select(CourseModule)
        .where(CourseModule.course_id == course_id, CourseModule.active)
        .order_by(col(CourseModule.position))
    )
    return LoadedCourseView(
        CourseSpec.model_validate(course.spec),
        tuple(ModuleSpec.model_validate(r.spec) for r in rows),
    )


def module_of(*, view: LoadedCourseView, module_id: str) -> ModuleSpec:
    for module in view.modules:
        if module.id == module_id:
            return module
    raise NotFound(N_("There is no such module in this course."))


def progress(*, session: Session, user_id: int, view: LoadedCourseView) -> Progress:
    course_row = session.exec(
        select(CourseProgress).where(
            CourseProgress.user_id == user_id, CourseProgress.course_id == view.spec.id
        )
    ).first()
    module_ids = {m.id for m in view.modules}
    done = (
        frozenset(
            session.exec(
                select(ModuleProgress.module_id).where(
                    ModuleProgress.user_id == user_id,
                    ModuleProgress.course_id == view.spec.id,
                    col(ModuleProgress.completed_at).is_not(None),
                )
            )
        )
        & module_ids
    )
    return Progress(
        started=course_row is not None,
        done=done,
        total=len(view.modules),
        completed_at=course_row.completed_at if course_row else None,
        last_module_id=course_row.last_module_id if course_row else None,
    )


def continue_module(*, view: LoadedCourseView, prog: Progress) -> ModuleSpec:
    """Where the learner left off: the last module opened if unfinished, else the next undone."""
    if prog.last_module_id and prog.last_module_id not in prog.done:
        for module in view.modules:
            if module.id == prog.last_module_id:
                return module
    for module in view.modules:
        if module.id not in prog.done:
            return module
    return view.modules[0]


def _course_progress(
    session: Session, user_id: int, course_id: str, now: datetime
) -> CourseProgress:
    row = session.exec(
        select(CourseProgress).where(
            CourseProgress.user_id == user_id, CourseProgress.course_id == course_id
        )
    ).first()
    if row is None:
        row = CourseProgress(user_id=user_id, course_id=course_id, started_at=now, updated_at=now)
        session.add(row)
    return row


def _module_progress(
    session: Session, user_id: int, course_id: str, module_id: str, now: datetime
) -> ModuleProgress:
    row = session.exec(
        select(ModuleProgress).where(
            ModuleProgress.user_id == user_id,
            ModuleProgress.course_id == course_id,
            ModuleProgress.module_id == module_id,
        )
    ).first()
    if row is None:
        row = ModuleProgress(
            user_id=user_id, course_id=course_id, module_id=module_id, first_opened_at=now
        )
        session.add(row)
    return row


def open_module(
    *, session: Session, user_id: int, course_id: str, module_id: str, now: datetime
) -> None:
    """Remember that the learner is here, so that 'continue' comes back to it."""
    row = _course_progress(session, user_id, course_id, now)
    if row.last_module_id != module_id:
        row.last_module_id, row.updated_at = module_id, now
    _module_progress(session, user_id, course_id, module_id, now)
    session.flush()


def complete_module(
    *, session: Session, user_id: int, view: LoadedCourseView, module_id: str, now: datetime
) -> bool:
    """Mark a module done; returns True when that completes the course."""
    module = module_of(view=view, module_id=module_id)
    row = _module_progress(session, user_id, view.spec.id, module_id, now)
    if row.completed_at is None:
        row.completed_at = now
        xapi.module_completed(
            session=session, user_id=user_id, course=view.spec, module=module, now=now
        )
    course_row = _course_progress(session, user_id, view.spec.id, now)
    course_row.updated_at = now
    session.flush()
    if course_row.completed_at is None and len(
        progress(session=session, user_id=user_id, view=view).done
    ) == len(view.modules):
        course_row.completed_at = now
        audit.record(
            session=session,
            action="course.completed",
            subject=f"course:{view.spec.id}",
            now=now,
            actor_id=user_id,
        )
        xapi.course_completed(session=session, user_id=user_id, course=view.spec, now=now)
        session.flush()
        return True
    return False


def reflections_for(
    *, session: Session, user_id: int, course_id: str, module_id: str
) -> dict[int, str]:
    rows = session.exec(
        select(Reflection).where(
            Reflection.user_id == user_id,
            Reflection.course_id == course_id,
            Reflection.module_id == module_id,
        )
    )
    return {r.prompt_index: r.answer for r in rows}


def save_reflections(
    *,
    session: Session,
    user_id: int,
    course_id: str,
    module_id: str,
    answers: dict[int, str],
    prompts: dict[int, str],
    now: datetime,
) -> None:
    """Save the answers; an emptied box deletes its answer, an unknown prompt is refused."""
    unknown = set(answers) - set(prompts)
    if unknown:
        raise Conflict(N_("The module has changed since the page was loaded; please reload it."))
    existing = {
        r.prompt_index: r
        for r in session.exec(
            select(Reflection).where(
                Reflection.user_id == user_id,
                Reflection.course_id == course_id,
                Reflection.module_id == module_id,
            )
        )
    }
    for index, answer in answers.items():
        answer = answer.strip()
        row = existing.get(index)
        if not answer:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(
                Reflection(
                    user_id=user_id,
                    course_id=course_id,
                    module_id=module_id,
                    prompt_index=index,
                    prompt=prompts[index],
                    answer=answer,
                    updated_at=now,
                )
            )
        elif row.answer != answer:
            row.answer, row.prompt, row.updated_at = answer, prompts[index], now
    session.flush()


def all_reflections(*, session: Session, user_id: int) -> list[Reflection]:
    return list(
        session.exec(
            select(Reflection)
            .where(Reflection.user_id == user_id)
            .order_by(
                col(Reflection.course_id), col(Reflection.module_id), col(Reflection.prompt_index)
            )
        )
    )


def evaluation_of(*, session: Session, user_id: int, course_id: str) -> CourseEvaluation | None:
    return session.exec(
        select(CourseEvaluation).where(
            CourseEvaluation.user_id == user_id, CourseEvaluation.course_id == course_id
        )
    ).first()


def submit_evaluation(
    *,
    session: Session,
    user_id: int,
    view: LoadedCourseView,
    relevance: int,
    clarity: int,
    usefulness: int,
    gained: str,
    improve: str,
    now: datetime,
) -> CourseEvaluation:
    """One evaluation per learner and course, given once the course is complete; may be revised."""
    if progress(session=session, user_id=user_id, view=view).completed_at is None:
        raise Conflict(N_("The evaluation opens when you have completed every module."))
    for rating in (relevance, clarity, usefulness):
        if not 1 <= rating <= 5:
            raise Conflict(N_("Ratings are from 1 to 5."))
    row = evaluation_of(session=session, user_id=user_id, course_id=view.spec.id)
    if row is None:
        row = CourseEvaluation(
            user_id=user_id,
            course_id=view.spec.id,
            relevance=relevance,
            clarity=clarity,
            usefulness=usefulness,
        )
        session.add(row)
    row.relevance, row.clarity, row.usefulness = relevance, clarity, usefulness
    row.gained, row.improve, row.submitted_at = gained.strip(), improve.strip(), now
    session.flush()
    return row


@dataclass(frozen=True)
class EvaluationSummary:
    course_id: str
    count: int
    relevance: float
    clarity: float
    usefulness: float
    comments: list[str]


def evaluation_summaries(*, session: Session) -> list[EvaluationSummary]:
    by_course: dict[str, list[CourseEvaluation]] = {}
    for row in session.exec(
        select(CourseEvaluation).order_by(col(CourseEvaluation.submitted_at).desc())
    ):
        by_course.setdefault(row.course_id, []).append(row)
    out = []
    for course_id, rows in sorted(by_course.items()):
        n = len(rows)
        out.append(
            EvaluationSummary(
                course_id,
                n,
                sum(r.relevance for r in rows) / n,
                sum(r.clarity for r in rows) / n,
                sum(r.usefulness for r in rows) / n,
                [r.gained for r in rows if r.gained][:50],
            )
        )
    return out


def practice_items(
    *, session: Session, bank_id: str, keys: Sequence[str]
) -> list[tuple[str, ItemSpec]]:
    """The current versions of a module's knowledge-check items, in the module's order."""
    rows = session.exec(
        select(Item.key, ItemVersion.spec)
        .join(ItemVersion, col(ItemVersion.id) == col(Item.current_version_id))
        .where(Item.bank_id == bank_id, col(Item.key).in_(keys), Item.active)
    ).all()
    found = {key: ItemSpec.model_validate(spec) for key, spec in rows}
    return [(key, found[key]) for key in keys if key in found]
