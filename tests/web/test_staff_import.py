"""Staff import against the demo database: plan, apply, idempotence, refusals, audit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, col, select

from elearn.db import engine_of
from elearn.domain.staff import RowError
from elearn.models import ROLES, AuditEntry, OrgUnit, User, UserRole
from elearn.services import accounts, audit
from elearn.services.staff_import import ImportPlan, apply_import, plan_import

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

FILE = (
    "name;email;unit;roles\r\n"
    '"Hansen, Per";Per.Hansen@example.org;Eksempel kommune/Innkjøp/Anskaffelser;"learner;manager"\r\n'
    "Nora Ny;nora@example.org;Eksempel kommune/Helse og omsorg;\r\n"
    "Magnus Leder;manager@example.org;Eksempel kommune;manager;learner\r\n"
)
# The row for manager@example.org has 5 columns unless quoted: the plain version is a bad row.
GOOD = FILE.replace("manager;learner\r\n", '"manager;learner"\r\n')


def snapshot(app: Flask) -> dict[str, Any]:
    """Everything an import may touch, to compare before and after."""
    with Session(engine_of(app)) as s:
        return {
            "users": sorted(
                (u.email, u.name, u.org_unit_id, u.active, u.password_hash)
                for u in s.exec(select(User))
            ),
            "roles": sorted((r.user_id, r.role) for r in s.exec(select(UserRole))),
            "units": sorted((u.id, u.name, u.parent_id) for u in s.exec(select(OrgUnit))),
            "audit": len(s.exec(select(AuditEntry.id)).all()),
        }


def plan(app: Flask, text: str, **kw: Any) -> ImportPlan:
    with Session(engine_of(app)) as s:
        return plan_import(session=s, text=text, **kw)


def apply(app: Flask, text: str, actor: str | None = "admin@example.org") -> ImportPlan:
    """Plan and apply in one transaction, committed once as the CLI and the upload page do."""
    with Session(engine_of(app)) as s:
        actor_id = None if actor is None else user_of(s, actor).id
        the_plan = plan_import(session=s, text=text, actor_id=actor_id)
        apply_import(session=s, plan=the_plan, actor_id=actor_id, now=NOW)
        s.commit()
        return the_plan


def user_of(s: Session, email: str) -> User:
    user = accounts.find_user(session=s, email=email)
    assert user is not None
    return user


def state_of(app: Flask, email: str) -> tuple[str, str, list[str]]:
    with Session(engine_of(app)) as s:
        user = user_of(s, email)
        assert user.id is not None
        roles = sorted(accounts.user_roles(session=s, user_id=user.id))
        return user.name, accounts.unit_path(session=s, unit_id=user.org_unit_id), roles


def imports(app: Flask) -> list[AuditEntry]:
    with Session(engine_of(app)) as s:
        return list(
            s.exec(
                select(AuditEntry)
                .where(AuditEntry.action == "staff.imported")
                .order_by(col(AuditEntry.id))
            )
        )


def test_dry_run_shows_the_changes_and_writes_nothing(app: Flask) -> None:
    before = snapshot(app)
    the_plan = plan(app, GOOD)
    assert the_plan.errors == ()
    assert the_plan.counts == {"create": 2, "update": 0, "unchanged": 1, "errors": 0}
    assert [(c.row.email, c.action) for c in the_plan.changes] == [
        ("per.hansen@example.org", "create"),
        ("nora@example.org", "create"),
        ("manager@example.org", "unchanged"),
    ]
    assert the_plan.changes[0].details == (
        "unit 'Eksempel kommune/Innkjøp/Anskaffelser'",
        "roles learner;manager",
    )
    assert the_plan.changes[2].details == ()
    assert the_plan.units_to_create == ("Eksempel kommune/Innkjøp/Anskaffelser",)
    assert snapshot(app) == before


def test_apply_creates_units_users_and_roles(app: Flask) -> None:
    apply(app, GOOD)
    assert state_of(app, "per.hansen@example.org") == (
        "Hansen, Per",
        "Eksempel kommune/Innkjøp/Anskaffelser",
        ["learner", "manager"],
    )
    assert state_of(app, "nora@example.org") == (
        "Nora Ny",
        "Eksempel kommune/Helse og omsorg",
        ["learner"],
    )
    with Session(engine_of(app)) as s:
        per = user_of(s, "per.hansen@example.org")
        assert per.active and per.password_hash
        # Nobody knows the password: the newcomer signs in through a reset link.
        assert accounts.authenticate(session=s, email=per.email, password="", now=NOW) is None
        innkjop = s.exec(select(OrgUnit).where(OrgUnit.name == "Innkjøp")).one()
        new_unit = s.exec(select(OrgUnit).where(OrgUnit.name == "Anskaffelser")).one()
        assert new_unit.parent_id == innkjop.id


def test_the_same_file_twice_changes_nothing(app: Flask) -> None:
    apply(app, GOOD)
    after_first = snapshot(app)
    second = plan(app, GOOD)
    assert second.counts == {"create": 0, "update": 0, "unchanged": 3, "errors": 0}
    assert all(c.details == () for c in second.changes)
    assert second.units_to_create == ()
    apply(app, GOOD)
    after_second = snapshot(app)
    assert after_second["audit"] == after_first["audit"] + 1  # only the staff.imported entry
    assert {k: v for k, v in after_second.items() if k != "audit"} == {
        k: v for k, v in after_first.items() if k != "audit"
    }
    entries = imports(app)
    assert len(entries) == 2
    assert entries[1].data["counts"] == {"create": 0, "update": 0, "unchanged": 3, "errors": 0}
    assert entries[1].data["role_changes"] == [] and entries[1].data["created"] == []


def test_one_bad_row_refuses_the_whole_file(app: Flask) -> None:
    before = snapshot(app)
    bad = GOOD + "Ola;ola@example.org;Eksempel kommune;boss\r\n"
    the_plan = plan(app, bad)
    assert the_plan.errors == (
        RowError(5, f"unknown role 'boss' (known: {', '.join(sorted(ROLES))})"),
    )
    assert the_plan.counts == {"create": 2, "update": 0, "unchanged": 1, "errors": 1}
    with Session(engine_of(app)) as s, pytest.raises(ValueError, match="1 error"):
        apply_import(session=s, plan=the_plan, actor_id=None, now=NOW)
    assert snapshot(app) == before
    assert imports(app) == []


def test_unquoted_roles_in_a_semicolon_file_are_reported_by_line(app: Flask) -> None:
    the_plan = plan(app, FILE)
    assert [e.line for e in the_plan.errors] == [4]
    assert the_plan.errors[0].message.startswith("expected 4 columns, found 5")


def test_update_a_demo_users_unit_and_roles(app: Flask) -> None:
    assert state_of(app, "learner@example.org") == (
        "Lena Læring",
        "Eksempel kommune/Innkjøp",
        ["learner"],
    )
    text = (
        "name,email,unit,roles\n"
        "Lena Læring,LEARNER@example.org,Eksempel kommune/Teknisk drift,learner;manager\n"
        "Lars Lærling Berg,learner2@example.org,Eksempel kommune/Helse og omsorg,\n"
    )
    the_plan = plan(app, text)
    assert the_plan.counts == {"create": 0, "update": 2, "unchanged": 0, "errors": 0}
    assert the_plan.changes[0].details == (
        "unit 'Eksempel kommune/Innkjøp' -> 'Eksempel kommune/Teknisk drift'",
        "roles learner -> learner;manager",
    )
    assert the_plan.changes[1].details == ("name 'Lars Lærling' -> 'Lars Lærling Berg'",)
    assert the_plan.units_to_create == ()
    before = snapshot(app)
    apply(app, text)
    assert state_of(app, "learner@example.org") == (
        "Lena Læring",
        "Eksempel kommune/Teknisk drift",
        ["learner", "manager"],
    )
    assert state_of(app, "learner2@example.org")[0] == "Lars Lærling Berg"
    assert snapshot(app)["units"] == before["units"]
    with Session(engine_of(app)) as s:
        lena, lars = user_of(s, "learner@example.org"), user_of(s, "learner2@example.org")
        admin = user_of(s, "admin@example.org")
        assert admin.id is not None
        admin_name = audit.pseudonyms(session=s, user_ids={admin.id}, create=False)[admin.id]
    [entry] = imports(app)
    assert entry.actor == admin_name and entry.at.replace(tzinfo=UTC) == NOW
    assert entry.data == {
        "counts": {"create": 0, "update": 2, "unchanged": 0, "errors": 0},
        "units_created": [],
        "created": [],
        "updated": [
            {"user": lena.id, "fields": ["unit", "roles"]},
            {"user": lars.id, "fields": ["name"]},
        ],
        "role_changes": [{"user": lena.id, "from": ["learner"], "to": ["learner", "manager"]}],
    }


def test_roles_are_set_to_exactly_those_in_the_file(app: Flask) -> None:
    apply(app, "name,email,unit,roles\nMagnus Leder,manager@example.org,Eksempel kommune,\n")
    assert state_of(app, "manager@example.org")[2] == ["learner"]
    [entry] = imports(app)
    assert entry.data["role_changes"][0]["from"] == ["learner", "manager"]
    assert entry.data["role_changes"][0]["to"] == ["learner"]


def test_one_audit_entry_per_apply(app: Flask) -> None:
    apply(app, GOOD)
    [entry] = imports(app)
    assert entry.subject == "staff"
    assert entry.data["counts"] == {"create": 2, "update": 0, "unchanged": 1, "errors": 0}
    assert entry.data["units_created"] == ["Eksempel kommune/Innkjøp/Anskaffelser"]
    assert len(entry.data["created"]) == 2
    apply(app, "name,email,unit,roles\nNora Ny,nora@example.org,Eksempel kommune,\n")
    assert len(imports(app)) == 2


def test_users_not_in_the_file_are_left_alone(app: Flask) -> None:
    before = snapshot(app)
    apply(app, "name,email,unit,roles\nNora Ny,nora@example.org,Eksempel kommune,\n")
    after = snapshot(app)
    assert [u for u in after["users"] if u[0] != "nora@example.org"] == before["users"]


def test_a_plan_made_earlier_is_applied_against_the_database_as_it_is_now(app: Flask) -> None:
    old_plan = plan(app, GOOD)
    with Session(engine_of(app)) as s:
        accounts.create_user(
            session=s, email="nora@example.org", name="Nora", password="x" * 12, now=NOW
        )
        s.commit()
    with Session(engine_of(app)) as s:
        apply_import(session=s, plan=old_plan, actor_id=None, now=NOW)
        s.commit()
    assert state_of(app, "nora@example.org") == (
        "Nora Ny",
        "Eksempel kommune/Helse og omsorg",
        ["learner"],
    )
    assert imports(app)[0].data["counts"]["update"] == 1


def test_an_admin_cannot_import_away_their_own_admin_role(app: Flask) -> None:
    text = "name,email,unit,roles\nAda Admin,admin@example.org,Eksempel kommune,learner\n"
    with Session(engine_of(app)) as s:
        admin_id = user_of(s, "admin@example.org").id
    mine = plan(app, text, actor_id=admin_id)
    assert RowError(2, "this would take away your own admin role") in mine.errors
    # Without an actor (the CLI) the same file would still leave the demo without an admin.
    assert plan(app, text).errors == (RowError(2, "this would leave no active admin"),)
    # The check holds in apply too, whatever plan it is given.
    before = snapshot(app)
    unchecked = ImportPlan(changes=mine.changes, errors=(), units_to_create=())
    with Session(engine_of(app)) as s, pytest.raises(ValueError, match="own admin role"):
        apply_import(session=s, plan=unchecked, actor_id=admin_id, now=NOW)
    assert snapshot(app) == before


def test_another_admin_in_the_file_keeps_the_system_administered(app: Flask) -> None:
    text = (
        "name,email,unit,roles\n"
        "Ada Admin,admin@example.org,Eksempel kommune,learner\n"
        "Nora Ny,nora@example.org,Eksempel kommune,admin\n"
    )
    assert plan(app, text).errors == ()
