"""Sign-in through an organisation's OpenID provider: the user found by the provider's stable
subject (issuer + sub), linked or created at the first sign-in, and the provider's claim rules
applied at every sign-in (docs/sso.md, docs/decisions/0023). Flushes; the request commits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from elearn.domain.errors import N_
from elearn.domain.sso import (
    Access,
    Person,
    Provider,
    SsoRefused,
    access_of,
    email_domain,
    grants_of,
    person_of,
)
from elearn.models import ManagerUnit, OrgUnit, SsoGrant, User, UserIdentity, UserRole
from elearn.services import accounts, audit

REQUIRED_DOMAINS = "sso_required_domains"  # AppSetting: {"kommune.no": "entra"}


@dataclass(frozen=True)
class Outcome:
    """A user to sign in, or an existing password account the person must prove first (named,
    or to be named by the person when the provider sends no e-mail address, as ID-porten)."""

    user: User | None = None
    link_to: User | None = None
    link_any: bool = False


def identity_of(*, session: Session, issuer: str, subject: str) -> UserIdentity | None:
    return session.exec(
        select(UserIdentity).where(UserIdentity.issuer == issuer, UserIdentity.subject == subject)
    ).first()


def sign_in(
    *, session: Session, provider: Provider, claims: Mapping[str, Any], now: datetime
) -> Outcome:
    """The account for these (checked) ID-token claims. SsoRefused when none may be used."""
    person = person_of(claims, provider)
    access = access_of(claims, provider)
    identity = identity_of(session=session, issuer=person.issuer, subject=person.subject)
    if identity is not None:
        user = session.get(User, identity.user_id)
        if user is None or not user.active:
            raise SsoRefused("closed", N_("This account is closed. Ask your administrator."))
        identity.last_login_at = now
        user.last_login_at = now
        apply_access(session=session, user=user, provider=provider, access=access, now=now)
        return Outcome(user=user)

    if person.email is None:
        # No address at all (ID-porten sends only its subject and `pid`, which is never kept):
        # the person links an account they can sign in to here, or an admin makes one.
        return Outcome(link_any=True)
    existing = accounts.find_user(session=session, email=person.email)
    if existing is not None:
        if not existing.active:
            raise SsoRefused("closed", N_("This account is closed. Ask your administrator."))
        if existing.password_hash != accounts.UNUSABLE:
            # A password account: linked only when the person proves the password too.
            return Outcome(link_to=existing)
        # Made by a staff import and never given a password: linked by e-mail only when this
        # provider is trusted for the address's domain (the organisation controls it).
        if email_domain(existing.email) not in provider.trusted_email_domains:
            raise SsoRefused(
                "untrusted-link",
                N_(
                    "An account with your e-mail address exists, but this sign-in cannot be "
                    "linked to it by itself. Ask your administrator."
                ),
            )
        link(session=session, user=existing, provider=provider, person=person, now=now)
        apply_access(session=session, user=existing, provider=provider, access=access, now=now)
        return Outcome(user=existing)

    if not person.email or not person.email_trusted:
        raise SsoRefused(
            "unverified-email",
            N_(
                "Your organisation's sign-in did not confirm your e-mail address, so no account "
                "can be made with it. Ask your administrator."
            ),
        )
    # Made at the first sign-in even when self sign-up is off: the provider vouches for the
    # person, the configuration for the provider.
    user = accounts.create_user(
        session=session, email=person.email, name=person.name, password=None, now=now, roles=()
    )
    link(session=session, user=user, provider=provider, person=person, now=now)
    apply_access(session=session, user=user, provider=provider, access=access, now=now)
    return Outcome(user=user)


def link(
    *, session: Session, user: User, provider: Provider, person: Person, now: datetime
) -> None:
    assert user.id is not None
    session.add(
        UserIdentity(
            user_id=user.id,
            provider=provider.name,
            issuer=person.issuer,
            subject=person.subject,
            created_at=now,
            last_login_at=now,
        )
    )
    user.last_login_at = now
    audit.record(
        session=session,
        action="user.sso_linked",
        subject=f"user:{user.id}",
        now=now,
        actor_id=user.id,
        data={"provider": provider.name},
    )
    session.flush()


def link_after_password(
    *,
    session: Session,
    user: User,
    provider: Provider,
    claims: Mapping[str, Any],
    now: datetime,
) -> None:
    """The person proved both: the provider's sign-in and the account's password."""
    person = person_of(claims, provider)
    if identity_of(session=session, issuer=person.issuer, subject=person.subject) is not None:
        raise SsoRefused(
            "already-linked", N_("This sign-in is linked to an account already. Sign in again.")
        )
    link(session=session, user=user, provider=provider, person=person, now=now)
    apply_access(
        session=session, user=user, provider=provider, access=access_of(claims, provider), now=now
    )


def _unit_id(session: Session, path: str, create: bool) -> int | None:
    if create:
        unit = accounts.ensure_unit_path(session=session, path=path)
        return unit.id
    parent: int | None = None
    for name in (p.strip() for p in path.split("/")):
        found = session.exec(
            select(OrgUnit.id).where(OrgUnit.name == name, OrgUnit.parent_id == parent)
        ).first()
        if found is None:
            return None
        parent = found
    return parent


def apply_access(
    *, session: Session, user: User, provider: Provider, access: Access, now: datetime
) -> None:
    """What the rules give now, and nothing more of what they gave before: a role, a managed
    unit or the user's unit that a rule gave and no longer gives is taken back; what an
    admin gave by hand (no SsoGrant row) is kept."""
    assert user.id is not None
    wanted = grants_of(access)
    before = {
        (g.kind, g.value)
        for g in session.exec(
            select(SsoGrant).where(SsoGrant.user_id == user.id, SsoGrant.provider == provider.name)
        )
    }
    held = accounts.user_roles(session=session, user_id=user.id)
    managed = accounts.managed_units(session=session, user_id=user.id)
    added: list[str] = []
    removed: list[str] = []
    for kind, value in sorted(wanted - before):
        recorded = True
        if kind == "role":
            if value in held:
                recorded = False  # held by hand already: stays the admin's
            else:
                session.add(UserRole(user_id=user.id, role=value))
        elif kind == "manages":
            unit_id = _unit_id(session, value, create=True)
            assert unit_id is not None
            if unit_id in managed:
                recorded = False
            else:
                session.add(ManagerUnit(user_id=user.id, unit_id=unit_id))
        elif kind == "unit":
            previous_unit = [v for k, v in before if k == "unit"]
            if user.org_unit_id is not None and not previous_unit:
                recorded = False  # placed by an admin or an import: kept
            else:
                user.org_unit_id = _unit_id(session, value, create=True)
        if recorded:
            session.add(SsoGrant(user_id=user.id, provider=provider.name, kind=kind, value=value))
            added.append(f"{kind}:{value}")
    for kind, value in sorted(before - wanted):
        if kind == "role":
            session.execute(
                delete(UserRole).where(
                    col(UserRole.user_id) == user.id, col(UserRole.role) == value
                )
            )
        elif kind == "manages":
            unit_id = _unit_id(session, value, create=False)
            if unit_id is not None:
                session.execute(
                    delete(ManagerUnit).where(
                        col(ManagerUnit.user_id) == user.id, col(ManagerUnit.unit_id) == unit_id
                    )
                )
        elif kind == "unit":
            unit_id = _unit_id(session, value, create=False)
            if unit_id is not None and user.org_unit_id == unit_id and not access.unit:
                user.org_unit_id = None
        session.execute(
            delete(SsoGrant).where(
                col(SsoGrant.user_id) == user.id,
                col(SsoGrant.provider) == provider.name,
                col(SsoGrant.kind) == kind,
                col(SsoGrant.value) == value,
            )
        )
        removed.append(f"{kind}:{value}")
    if added or removed:
        audit.record(
            session=session,
            action="user.sso_access_changed",
            subject=f"user:{user.id}",
            now=now,
            actor_id=None,
            data={"provider": provider.name, "added": added, "removed": removed},
        )
    session.flush()


def required_domains(*, session: Session) -> dict[str, str]:
    raw = accounts.get_setting(session=session, key=REQUIRED_DOMAINS, default={})
    return dict(raw) if isinstance(raw, dict) else {}


def set_required_domain(
    *, session: Session, domain: str, provider: str | None, actor_id: int, now: datetime
) -> None:
    """Require sign-in through ``provider`` for ``domain`` (None: lift the requirement)."""
    domains = required_domains(session=session)
    domain = domain.strip().lower().lstrip("@")
    if provider is None:
        domains.pop(domain, None)
    else:
        domains[domain] = provider
    accounts.put_setting(
        session=session, key=REQUIRED_DOMAINS, value=domains, actor_id=actor_id, now=now
    )


def identities_of(*, session: Session, user_id: int) -> list[UserIdentity]:
    return list(
        session.exec(
            select(UserIdentity)
            .where(UserIdentity.user_id == user_id)
            .order_by(col(UserIdentity.created_at))
        )
    )
