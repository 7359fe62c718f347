"""Managers' reports: who in a unit (and below) has started, completed, passed and is certified.

The unit tree is small and read whole; people's progress is read with one query per kind of fact
for the whole subtree, so a report costs the same few queries whatever the number of targets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

from sqlmodel import Session, col, select

from elearn.domain.credentials import CertificateState, certificate_state
from elearn.domain.csvfile import write_csv
from elearn.domain.errors import N_, Conflict, NotFound
from elearn.domain.localize import pick
from elearn.models import (
    Assignment,
    Certificate,
    Course,
    CourseProgress,
    ExamAttempt,
    OrgUnit,
    User,
    UserRole,
)
from elearn.services import accounts, audit
from elearn.services.exams import active_exams

Kind = Literal["course", "exam"]

# A deadline further off than this is a typo (and the year 9999 cannot be shown in Oslo time).
LONGEST_DEADLINE = timedelta(days=3653)


# --- the unit tree -------------------------------------------------------------------------------


@dataclass
class UnitTree:
    units: dict[int, OrgUnit]
    children: dict[int | None, list[int]] = field(default_factory=dict)

    def subtree(self, unit_id: int) -> set[int]:
        """The unit and every unit below it."""
        found, stack = set(), [unit_id]
        while stack:
            current = stack.pop()
            if current not in found:
                found.add(current)
                stack.extend(self.children.get(current, []))
        return found

    def ancestors(self, unit_id: int) -> list[int]:
        """The unit and every unit above it, nearest first."""
        chain: list[int] = []
        current: int | None = unit_id
        while current is not None and current not in chain:
            chain.append(current)
            current = self.units[current].parent_id if current in self.units else None
        return chain

    def path(self, unit_id: int) -> str:
        return "/".join(self.units[u].name for u in reversed(self.ancestors(unit_id)))

    def sorted_children(self, unit_id: int | None) -> list[int]:
        return sorted(self.children.get(unit_id, []), key=lambda u: self.units[u].name)


def load_tree(*, session: Session) -> UnitTree:
    tree = UnitTree({u.id: u for u in session.exec(select(OrgUnit)) if u.id is not None})
    for unit in tree.units.values():
        assert unit.id is not None
        tree.children.setdefault(unit.parent_id, []).append(unit.id)
    return tree


def unit_paths(*, session: Session) -> list[tuple[int, str]]:
    """Every unit with its path ("Municipality/Department"), sorted by path, for choosing one."""
    tree = load_tree(session=session)
    return sorted(((u, tree.path(u)) for u in tree.units), key=lambda pair: pair[1])


def managed_roots(*, session: Session, tree: UnitTree, user_id: int, is_admin: bool) -> list[int]:
    """The top units a person may see: every root for an admin, the assigned units for a manager."""
    if is_admin:
        return tree.sorted_children(None)
    assigned = accounts.managed_units(session=session, user_id=user_id)
    # An assigned unit below another assigned unit is not a root of its own.
    return sorted(
        (u for u in assigned if not any(a in assigned for a in tree.ancestors(u)[1:])),
        key=tree.path,
    )


def visible(*, session: Session, tree: UnitTree, user_id: int, is_admin: bool) -> set[int]:
    seen: set[int] = set()
    for root in managed_roots(session=session, tree=tree, user_id=user_id, is_admin=is_admin):
        seen |= tree.subtree(root)
    return seen


def check_unit(
    *, session: Session, tree: UnitTree, unit_id: int, user_id: int, is_admin: bool
) -> None:
    """A unit outside the manager's units is not found: no hint that it exists."""
    if unit_id not in tree.units or unit_id not in visible(
        session=session, tree=tree, user_id=user_id, is_admin=is_admin
    ):
        raise NotFound(N_("There is no such unit among yours."))


def person_in_unit(*, session: Session, tree: UnitTree, unit_id: int, user_id: int) -> User:
    """A person of the unit or a unit below it; anyone else is not found."""
    user = session.get(User, user_id)
    if user is None or user.org_unit_id not in tree.subtree(unit_id):
        raise NotFound(N_("There is no such person in this unit."))
    return user


# --- what can be reported on ---------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    kind: Kind
    id: str
    title: str


def targets(*, session: Session, lang: str) -> list[Target]:
    out = [
        Target("course", c.id, pick(c.spec["title"], lang, c.spec["default_language"]).value)
        for c in session.exec(select(Course).where(Course.active).order_by(col(Course.id)))
    ]
    out += [
        Target("exam", v.exam.id, pick(v.spec.title, lang, v.bank.languages[0]).value)
        for v in active_exams(session=session)
    ]
    return out


def find_target(*, session: Session, kind: str, target_id: str, lang: str) -> Target:
    for target in targets(session=session, lang=lang):
        if target.kind == kind and target.id == target_id:
            return target
    raise NotFound(N_("There is no such course or exam."))


def assign(
    *,
    session: Session,
    unit_id: int,
    target: Target,
    due_at: datetime,
    actor_id: int,
    now: datetime,
) -> Assignment:
    if due_at <= now:
        raise Conflict(N_("The due date must be in the future."))
    if due_at > now + LONGEST_DEADLINE:  # 31 December 9999 could not even be shown (a 500)
        raise Conflict(N_("The due date must be within ten years."))
    row = session.exec(
        select(Assignment).where(
            Assignment.unit_id == unit_id,
            Assignment.kind == target.kind,
            Assignment.target_id == target.id,
        )
    ).first()
    if row is None:
        row = Assignment(
            unit_id=unit_id,
            kind=target.kind,
            target_id=target.id,
            due_at=due_at,
            created_by_id=actor_id,
            created_at=now,
        )
        session.add(row)
    else:
        row.due_at = due_at
    audit.record(
        session=session,
        action="assignment.set",
        subject=f"unit:{unit_id}",
        now=now,
        actor_id=actor_id,
        data={"kind": target.kind, "target": target.id, "due": due_at.isoformat()},
    )
    session.flush()
    return row


def assignments_for(*, session: Session, tree: UnitTree, unit_id: int) -> list[Assignment]:
    """Assignments that apply to the unit: its own and those of the units above it."""
    return list(
        session.exec(
            select(Assignment)
            .where(col(Assignment.unit_id).in_(tree.ancestors(unit_id)))
            .order_by(col(Assignment.due_at))
        )
    )


# --- staff status ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffStatus:
    """Where one person of a unit stands with a course or an exam, for the manager's report."""

    user_id: int
    name: str
    email: str
    unit_id: int
    state: str  # not_started | in_progress | completed (course) / passed (exam)
    certificate: CertificateState | None  # of the newest unrevoked certificate (exams only)
    certificate_until: datetime | None
    due_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class Counts:
    staff: int
    not_started: int
    in_progress: int
    completed: int  # completed the course, or passed the exam
    valid: int
    expiring: int
    expired: int
    overdue: int

    def percent(self, name: str) -> float:
        return 100 * getattr(self, name) / self.staff if self.staff else 0.0


class Person(NamedTuple):
    """A member of staff as the reports need them: plain values, not a row object (100,000 row
    objects cost seconds to build and read)."""

    id: int
    name: str
    email: str
    org_unit_id: int


@dataclass
class Facts:
    """Everything the reports need about the people of a subtree, read once."""

    people: list[Person]
    progress: dict[tuple[int, str], CourseProgress]
    attempts: dict[tuple[int, str], list[ExamAttempt]]
    certificates: dict[tuple[int, str], list[Certificate]]
    assignments: list[Assignment]


def read_facts(*, session: Session, unit_ids: set[int]) -> Facts:
    # Staff are the people who take courses: active accounts with the learner role.
    staff = (
        select(User.id)
        .join(UserRole, col(UserRole.user_id) == col(User.id))
        .where(col(User.org_unit_id).in_(unit_ids), User.active, UserRole.role == "learner")
    )
    people = [
        Person(*row)
        for row in session.exec(
            select(User.id, User.name, User.email, User.org_unit_id)
            .where(col(User.id).in_(staff))
            .order_by(col(User.name))
        )
    ]
    # The same people as a subquery, not a list of ids: 100,000 staff would be 100,000 bound
    # parameters, past SQLite's limit (32,766).
    ids = staff.scalar_subquery()
    progress = {
        (p.user_id, p.course_id): p
        for p in session.exec(select(CourseProgress).where(col(CourseProgress.user_id).in_(ids)))
    }
    attempts: dict[tuple[int, str], list[ExamAttempt]] = defaultdict(list)
    for a in session.exec(select(ExamAttempt).where(col(ExamAttempt.user_id).in_(ids))):
        attempts[(a.user_id, a.exam_id)].append(a)
    certificates: dict[tuple[int, str], list[Certificate]] = defaultdict(list)
    for c in session.exec(
        select(Certificate).where(
            col(Certificate.user_id).in_(ids), col(Certificate.revoked_at).is_(None)
        )
    ):
        certificates[(c.user_id, c.exam_id)].append(c)
    return Facts(people, progress, attempts, certificates, list(session.exec(select(Assignment))))


def staff_statuses(
    *, facts: Facts, tree: UnitTree, target: Target, now: datetime, warn_days: int
) -> list[StaffStatus]:
    due_by_unit: dict[int, datetime | None] = {}

    def due(unit_id: int) -> datetime | None:
        if unit_id not in due_by_unit:
            chain = set(tree.ancestors(unit_id))
            dates = [
                a.due_at
                for a in facts.assignments
                if a.unit_id in chain and a.kind == target.kind and a.target_id == target.id
            ]
            due_by_unit[unit_id] = min(dates) if dates else None
        return due_by_unit[unit_id]

    out = []
    for person in facts.people:
        key = (person.id, target.id)
        certificate, until = None, None
        if target.kind == "course":
            row = facts.progress.get(key)
            state = (
                "completed" if row and row.completed_at else "in_progress" if row else "not_started"
            )
        else:
            tries = facts.attempts.get(key, [])
            state = (
                "completed"
                if any(a.passed for a in tries)
                else "in_progress"
                if tries
                else "not_started"
            )
            held = facts.certificates.get(key, [])
            if held:
                newest = max(held, key=lambda c: c.issued_at)
                until = newest.valid_until
                certificate = certificate_state(
                    revoked=False,  # read_facts left revoked certificates out
                    valid_from=newest.issued_at,
                    valid_until=until,
                    now=now,
                    warn_days=warn_days,
                )
        due_at = due(person.org_unit_id)
        out.append(
            StaffStatus(
                user_id=person.id,
                name=person.name,
                email=person.email,
                unit_id=person.org_unit_id,
                state=state,
                certificate=certificate,
                certificate_until=until,
                due_at=due_at,
                overdue=due_at is not None and now > due_at and state != "completed",
            )
        )
    return out


def count(*, rows: Sequence[StaffStatus]) -> Counts:
    return Counts(
        staff=len(rows),
        not_started=sum(1 for r in rows if r.state == "not_started"),
        in_progress=sum(1 for r in rows if r.state == "in_progress"),
        completed=sum(1 for r in rows if r.state == "completed"),
        valid=sum(1 for r in rows if r.certificate == "valid"),
        expiring=sum(1 for r in rows if r.certificate == "expiring"),
        expired=sum(1 for r in rows if r.certificate == "expired"),
        overdue=sum(1 for r in rows if r.overdue),
    )


def by_subunit(
    *, tree: UnitTree, unit_id: int, rows: Sequence[StaffStatus]
) -> list[tuple[int, str, Counts]]:
    """Counts for the unit's own staff and for each unit directly below it (with its subtree)."""
    children = tree.sorted_children(unit_id)
    # Which row of the table each unit's people count in: one pass over the people, not one
    # pass per unit below (100,000 staff under 20 units were 2,000,000 look-ups).
    owner = {unit_id: unit_id}
    for child in children:
        owner.update(dict.fromkeys(tree.subtree(child), child))
    grouped: dict[int, list[StaffStatus]] = defaultdict(list)
    for r in rows:
        if r.unit_id in owner:
            grouped[owner[r.unit_id]].append(r)
    out = []
    if grouped.get(unit_id):
        out.append((unit_id, tree.units[unit_id].name, count(rows=grouped[unit_id])))
    for child in children:
        out.append((child, tree.units[child].name, count(rows=grouped.get(child, []))))
    return out


# --- exports -------------------------------------------------------------------------------------


def to_csv(*, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that spreadsheet programs read æøå right; every cell
    neutralised against formula injection (``elearn.domain.csvfile``)."""
    return ("\ufeff" + write_csv(header=header, rows=rows)).encode("utf-8")


# --- the chart -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    percent: float
    y: int


def bars(*, data: Sequence[tuple[str, float]], row_height: int = 30) -> list[Bar]:
    """Bars for a horizontal chart drawn on the server as SVG (with a data table beside it)."""
    return [
        Bar(label, max(0.0, min(100.0, percent)), i * row_height)
        for i, (label, percent) in enumerate(data)
    ]


# Vertical charts: a plot area inside an SVG viewBox, in its units.
@dataclass(frozen=True)
class Plot:
    width: int = 480
    height: int = 280
    left: int = 56
    right: int = 16
    top: int = 16
    bottom: int = 52

    @property
    def x0(self) -> int:
        return self.left

    @property
    def x1(self) -> int:
        return self.width - self.right

    @property
    def y0(self) -> int:  # the bottom of the plot area
        return self.height - self.bottom

    @property
    def y1(self) -> int:
        return self.top

    def x(self, share: float) -> float:
        """0..1 of the width of the plot area -> x."""
        return self.x0 + share * (self.x1 - self.x0)

    def y(self, share: float) -> float:
        """0..1 of the height of the plot area, from the bottom -> y."""
        return self.y0 - share * (self.y0 - self.y1)


@dataclass(frozen=True)
class Band:
    low: int  # percent, included
    high: int  # percent, excluded but for the last band, which holds 100 %
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    value: float
    position: float  # y (or x) in the viewBox
    label: str


@dataclass(frozen=True)
class Histogram:
    plot: Plot
    bands: list[Band]
    ticks: list[Tick]  # attempts, up the y axis
    edges: list[Tick]  # score, along the x axis


def histogram(*, scores: Sequence[float], band: int = 10) -> Histogram:
    """The attempts' total scores in bands of ``band`` percent (the last one holds 100 %, as
    Moodle's grade bands do), drawn as bars on the server (with a data table beside them)."""
    plot = Plot()
    n_bands = 100 // band
    counts = [0] * n_bands
    for score in scores:
        counts[min(n_bands - 1, max(0, int(score // band)))] += 1
    step = max(1, -(-max(counts, default=0) // 5))  # at most about five steps up the axis
    top = max(step, step * -(-max(counts, default=0) // step))
    bar = (plot.x1 - plot.x0) / n_bands
    bands = [
        Band(
            low=i * band,
            high=(i + 1) * band,
            count=c,
            x=plot.x0 + i * bar + 2,
            y=plot.y(c / top),
            width=bar - 4,
            height=plot.y0 - plot.y(c / top),
        )
        for i, c in enumerate(counts)
    ]
    ticks = [Tick(v, plot.y(v / top), str(v)) for v in range(0, top + 1, step)]
    edges = [Tick(i * band, plot.x0 + i * bar, str(i * band)) for i in range(n_bands + 1)]
    return Histogram(plot, bands, ticks, edges)


@dataclass(frozen=True)
class Point:
    number: int  # the item's number in the table beside the chart
    label: str
    facility: float  # 0..1
    discrimination: float  # percent
    flagged: bool
    x: float
    y: float
    label_x: float = 0.0  # where its number goes, clear of the other numbers and points
    label_y: float = 0.0
    anchor: str = "start"

    @property
    def triangle(self) -> str:
        """An SVG path: a triangle around the point, the shape of a flagged item."""
        return (
            f"M{self.x:.1f} {self.y - 7:.1f} L{self.x + 7:.1f} {self.y + 5:.1f} "
            f"L{self.x - 7:.1f} {self.y + 5:.1f} Z"
        )


@dataclass(frozen=True)
class Scatter:
    plot: Plot
    points: list[Point]
    xticks: list[Tick]  # facility, percent
    yticks: list[Tick]  # discrimination index, percent
    guides_x: list[float]  # the facility limits of the flags
    guides_y: list[float]  # the discrimination limit of the flags
    zero_y: float


# Where a point's number may go, tried in turn: right above, right below, left above, left below.
_LABEL_PLACES = ((9, -6, "start"), (9, 14, "start"), (-9, -6, "end"), (-9, 14, "end"))
_Box = tuple[float, float, float, float]  # left, top, right, bottom


def _overlaps(a: _Box, b: _Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _placed(points: list[Point]) -> list[Point]:
    """Each point with its number placed where it overlaps no number placed before it and no
    other point's marker, where there is such a place (else right above)."""
    markers: list[_Box] = [(p.x - 7, p.y - 7, p.x + 7, p.y + 7) for p in points]
    taken: list[_Box] = []
    out = []
    for i, p in enumerate(points):
        width = 7.5 * len(str(p.number))
        others = taken + markers[:i] + markers[i + 1 :]
        chosen = None
        for dx, dy, anchor in _LABEL_PLACES:
            x, y = p.x + dx, p.y + dy
            box = (
                (x, y - 11, x + width, y + 1)
                if anchor == "start"
                else (x - width, y - 11, x, y + 1)
            )
            if chosen is None:
                chosen = (x, y, anchor, box)  # the fallback
            if not any(_overlaps(box, o) for o in others):
                chosen = (x, y, anchor, box)
                break
        assert chosen is not None
        taken.append(chosen[3])
        out.append(replace(p, label_x=chosen[0], label_y=chosen[1], anchor=chosen[2]))
    return out


def scatter(
    *,
    items: Sequence[tuple[str, float, float, bool]],
    facility_limits: Sequence[float] = (0.3, 0.9),
    discrimination_limit: float = 20.0,
) -> Scatter:
    """Items by facility (x, 0..1) and discrimination index (y, −100..100 %), flagged ones apart;
    ``items`` are (label, facility, discrimination index, flagged)."""
    plot = Plot(width=400, height=300, left=52)  # drawn beside a table: a smaller viewBox

    def y(d: float) -> float:
        return plot.y((max(-100.0, min(100.0, d)) + 100) / 200)

    points = [
        Point(i, label, f, d, flagged, plot.x(max(0.0, min(1.0, f))), y(d))
        for i, (label, f, d, flagged) in enumerate(items, start=1)
    ]
    return Scatter(
        plot=plot,
        points=_placed(points),
        xticks=[Tick(v, plot.x(v / 100), str(v)) for v in range(0, 101, 20)],
        yticks=[Tick(v, y(v), str(v)) for v in range(-100, 101, 50)],
        guides_x=[plot.x(f) for f in facility_limits],
        guides_y=[y(discrimination_limit)],
        zero_y=y(0),
    )
