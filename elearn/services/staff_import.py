"""Staff import from CSV: a plan that shows what would change, then applying it, in parts of a
few hundred rows where the caller commits each (``elearn.jobs.staff``), so that a large file
never holds the database's write lock for long."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session, col, select

from elearn.domain.staff import RowError, StaffRow, parse_staff_csv
from elearn.models import ROLES, OrgUnit, User, UserRole
from elearn.services import accounts, audit

Action = Literal["create", "update", "unchanged"]


@dataclass(frozen=True)
class Change:
    row: StaffRow
    action: Action
    details: tuple[str, ...]  # e.g. "name 'A' -> 'B'", "roles learner -> learner;manager"


@dataclass(frozen=True)
class ImportPlan:
    changes: tuple[Change, ...]
    errors: tuple[RowError, ...]
    units_to_create: tuple[str, ...]

    @property
    def counts(self) -> dict[str, int]:
        """How many rows create, update or leave a user, and how many errors there are."""
        counts = {"create": 0, "update": 0, "unchanged": 0}
        for change in self.changes:
            counts[change.action] += 1
        return {**counts, "errors": len(self.errors)}


@dataclass(frozen=True)
class _Target:
    """A row with the user it names (None: to be created) and that user's state now."""

    change: Change
    user: User | None
    roles_before: tuple[str, ...]


LOOKUP_CHUNK = 500  # e-mails or ids in one IN (...) list


@dataclass
class _Known:
    """The users a file names, their roles and every unit's path, read in a few statements
    (not three per row: 20,000 rows would be 60,000 statements)."""

    users: dict[str, User]
    roles: dict[int, set[str]]
    units: dict[int, tuple[str, int | None]]
    paths: dict[int | None, str] = field(default_factory=dict)

    def path(self, unit_id: int | None) -> str:
        if unit_id not in self.paths:
            names: list[str] = []
            seen: set[int] = set()
            at = unit_id
            while at is not None and at in self.units and at not in seen:
                seen.add(at)
                name, parent = self.units[at]
                names.append(name)
                at = parent
            self.paths[unit_id] = "/".join(reversed(names))
        return self.paths[unit_id]


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


def _known(session: Session, rows: Sequence[StaffRow]) -> _Known:
    emails = sorted({accounts.normalise_email(row.email) for row in rows})
    users: dict[str, User] = {}
    for chunk in _chunks(emails):
        for user in session.exec(select(User).where(col(User.email).in_(chunk))):
            users[user.email] = user
    roles: dict[int, set[str]] = defaultdict(set)
    for chunk in _chunks(sorted(u.id for u in users.values() if u.id is not None)):
        for user_id, role in session.exec(
            select(UserRole.user_id, UserRole.role).where(col(UserRole.user_id).in_(chunk))
        ):
            roles[user_id].add(role)
    units = {
        unit_id: (name, parent)
        for unit_id, name, parent in session.exec(
            select(OrgUnit.id, OrgUnit.name, OrgUnit.parent_id)
        )
        if unit_id is not None
    }
    return _Known(users, roles, units)


def _roles_text(roles: Iterable[str]) -> str:
    return ";".join(sorted(roles)) or "(none)"


def _unit_ids(session: Session) -> dict[tuple[str, int | None], int]:
    """Every unit by (name, parent id), in one statement."""
    return {
        (name, parent): unit_id
        for unit_id, name, parent in session.exec(
            select(OrgUnit.id, OrgUnit.name, OrgUnit.parent_id)
        )
        if unit_id is not None
    }


def _existing_unit(units: dict[tuple[str, int | None], int], path: str) -> int | None:
    parent_id: int | None = None
    for name in path.split("/"):
        found = units.get((name, parent_id))
        if found is None:
            return None
        parent_id = found
    return parent_id


def _missing_units(session: Session, paths: Iterable[str]) -> tuple[str, ...]:
    """The paths (and their missing parents) that have no unit yet, without creating any."""
    units = _unit_ids(session)
    missing: set[str] = set()
    for path in set(paths):
        parts = path.split("/")
        parent_id: int | None = None
        for depth, name in enumerate(parts):
            unit_id = units.get((name, parent_id))
            if unit_id is None:
                missing.update("/".join(parts[: end + 1]) for end in range(depth, len(parts)))
                break
            parent_id = unit_id
    return tuple(sorted(missing))


def _target(known: _Known, row: StaffRow) -> _Target:
    user = known.users.get(accounts.normalise_email(row.email))
    if user is None:
        details = (f"unit '{row.unit}'", f"roles {_roles_text(row.roles)}")
        return _Target(Change(row, "create", details), None, ())
    assert user.id is not None
    roles_before = tuple(sorted(known.roles.get(user.id, set())))
    unit_before = known.path(user.org_unit_id)
    changed: list[str] = []
    if user.name != row.name:
        changed.append(f"name '{user.name}' -> '{row.name}'")
    if unit_before != row.unit:
        changed.append(f"unit '{unit_before}' -> '{row.unit}'")
    if roles_before != row.roles:
        changed.append(f"roles {_roles_text(roles_before)} -> {_roles_text(row.roles)}")
    action: Action = "update" if changed else "unchanged"
    return _Target(Change(row, action, tuple(changed)), user, roles_before)


def _admin_errors(
    session: Session, targets: Sequence[_Target], actor_id: int | None
) -> list[RowError]:
    """Refuse what would lock the admins out: the actor's own admin role, or the last admin."""
    losing = [
        t
        for t in targets
        if t.user is not None and "admin" in t.roles_before and "admin" not in t.change.row.roles
    ]
    if not losing:
        return []
    errors = [
        RowError(t.change.row.line, "this would take away your own admin role")
        for t in losing
        if actor_id is not None and t.user is not None and t.user.id == actor_id
    ]
    admins = set(
        session.exec(
            select(UserRole.user_id)
            .join(User, col(User.id) == col(UserRole.user_id))
            .where(UserRole.role == "admin", col(User.active))
        )
    )
    in_file = {t.user.id for t in targets if t.user is not None}
    keeps_admin = any(
        "admin" in t.change.row.roles and (t.user is None or t.user.active) for t in targets
    )
    if admins and not (admins - in_file) and not keeps_admin:
        errors += [
            RowError(t.change.row.line, "this would leave no active admin")
            for t in losing
            if t.user is not None and t.user.active
        ]
    return errors


def _evaluate(
    session: Session, rows: Iterable[StaffRow], actor_id: int | None
) -> tuple[list[_Target], list[RowError]]:
    rows = list(rows)
    with session.no_autoflush:
        known = _known(session, rows)
        targets = [_target(known, row) for row in rows]
        return targets, _admin_errors(session, targets, actor_id)


def plan_import(*, session: Session, text: str, actor_id: int | None = None) -> ImportPlan:
    """What importing ``text`` would do; reads the database, writes nothing.

    ``actor_id``, where given, is the admin importing: a file that takes their own admin role
    away is an error, as it is on the user form. A file that leaves no active admin is one too.
    """
    rows, errors = parse_staff_csv(text, ROLES)
    targets, admin_errors = _evaluate(session, rows, actor_id)
    return ImportPlan(
        changes=tuple(t.change for t in targets),
        errors=tuple(sorted([*errors, *admin_errors], key=lambda e: e.line)),
        units_to_create=_missing_units(session, (row.unit for row in rows)),
    )


def parts(*, plan: ImportPlan, rows: int) -> list[ImportPlan]:
    """The plan cut into parts of at most ``rows`` rows, to apply and commit one by one. Each
    part is complete in itself (applying a part twice changes nothing), so an import that
    stops half-way is finished by importing the same file again."""
    size = max(1, rows)
    return [
        replace(plan, changes=plan.changes[start : start + size])
        for start in range(0, len(plan.changes), size)
    ] or [plan]


def apply_import(
    *,
    session: Session,
    plan: ImportPlan,
    actor_id: int | None,
    now: datetime,
    part: tuple[int, int] | None = None,
) -> None:
    """Make the database match the plan's rows; flushes, the caller commits (or rolls back).

    Each row's user is created, or has name, unit and roles set to exactly those in the file (so
    importing the same file again changes nothing); the rest of the user (password, active,
    locale) and users not in the file are left alone. New users get a random password nobody
    knows: they sign in after an admin gives them a reset link. The rows are compared with the
    database again here, so a plan made a while ago still applies right. ValueError, with
    nothing written, for a plan with errors. Appends one "staff.imported" audit entry with the
    counts, the units created and every role change, by user id (no names or e-mails); for one
    ``part`` (number, of how many) of a plan cut by :func:`parts`, the entry says which.
    """
    if plan.errors:
        raise ValueError(f"the plan has {len(plan.errors)} error(s): fix the file and plan again")
    targets, errors = _evaluate(session, (c.row for c in plan.changes), actor_id)
    if errors:
        lines = "; ".join(f"line {e.line}: {e.message}" for e in errors)
        raise ValueError(f"the import was refused: {lines}")

    units_created = _missing_units(session, (t.change.row.unit for t in targets))
    existing = _unit_ids(session)
    unit_ids: dict[str, int | None] = {}
    for path in sorted({t.change.row.unit for t in targets}):
        unit_ids[path] = _existing_unit(existing, path) if path not in units_created else None
        if unit_ids[path] is None:
            unit_ids[path] = accounts.ensure_unit_path(session=session, path=path).id

    counts = {"create": 0, "update": 0, "unchanged": 0}
    created: list[int | None] = []
    updated: list[dict[str, object]] = []
    role_changes: list[dict[str, object]] = []
    for target in targets:
        row, user = target.change.row, target.user
        counts[target.change.action] += 1
        if user is None:
            new = accounts.create_user(
                session=session,
                email=row.email,
                name=row.name,
                password=None,
                now=now,
                roles=row.roles,
                org_unit_id=unit_ids[row.unit],
                actor_id=actor_id,
            )
            created.append(new.id)
            continue
        if target.change.action == "unchanged":
            continue
        fields = []
        if user.name != row.name:
            user.name = row.name
            fields.append("name")
        if user.org_unit_id != unit_ids[row.unit]:
            user.org_unit_id = unit_ids[row.unit]
            fields.append("unit")
        if target.roles_before != row.roles:
            accounts.set_roles(session=session, user=user, roles=row.roles)
            fields.append("roles")
            role_changes.append(
                {"user": user.id, "from": list(target.roles_before), "to": list(row.roles)}
            )
        if fields:
            updated.append({"user": user.id, "fields": fields})

    audit.record(
        session=session,
        action="staff.imported",
        subject="staff",
        now=now,
        actor_id=actor_id,
        data={
            "counts": {**counts, "errors": 0},
            "units_created": list(units_created),
            "created": created,
            "updated": updated,
            "role_changes": role_changes,
            **({"part": list(part)} if part is not None and part[1] > 1 else {}),
        },
    )
    session.flush()
