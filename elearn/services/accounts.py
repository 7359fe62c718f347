"""Accounts: creating users, checking passwords, one-time reset links, roles and units."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import Session, col, select
from werkzeug.security import check_password_hash, generate_password_hash

from elearn.domain.errors import N_, AccountError
from elearn.models import ROLES, AppSetting, OrgUnit, PasswordReset, User, UserRole
from elearn.services import audit

# Matches no password (it is not a hash werkzeug can produce), and costs nothing to store.
UNUSABLE = "!unusable"
INVALID_RESET = N_(
    "The reset link has expired or was used already. Ask your administrator for a new one."
)
# A hash to compare against when the e-mail is unknown, so both paths take the same time.
_DUMMY_HASH = generate_password_hash("not-a-password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def user_roles(session: Session, user_id: int) -> set[str]:
    return set(session.exec(select(UserRole.role).where(UserRole.user_id == user_id)))


def set_roles(
    *,
    session: Session,
    user: User,
    roles: Iterable[str],
    actor_id: int | None = None,
    now: datetime | None = None,
) -> None:
    wanted = set(roles)
    unknown = wanted - set(ROLES)
    if unknown:
        raise AccountError(f"unknown role(s): {', '.join(sorted(unknown))}")
    assert user.id is not None
    current = user_roles(session, user.id)
    for role in current - wanted:
        row = session.get(UserRole, (user.id, role))
        if row is not None:
            session.delete(row)
    for role in wanted - current:
        session.add(UserRole(user_id=user.id, role=role))
    if current and wanted != current and now is not None:
        audit.record(
            session=session,
            action="user.roles_changed",
            subject=f"user:{user.id}",
            now=now,
            actor_id=actor_id,
            data={"from": sorted(current), "to": sorted(wanted)},
        )
    session.flush()


def find_user(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def create_user(
    *,
    session: Session,
    email: str,
    name: str,
    password: str | None,
    now: datetime,
    roles: Iterable[str] = ("learner",),
    locale: str | None = None,
    org_unit_id: int | None = None,
    actor_id: int | None = None,
) -> User:
    email = normalise_email(email)
    if find_user(session, email) is not None:
        raise AccountError(N_("An account with this e-mail address already exists."), "email")
    user = User(
        email=email,
        name=name.strip(),
        # No password: the person signs in first through a reset link an admin gives them.
        password_hash=generate_password_hash(password) if password is not None else UNUSABLE,
        session_token=new_session_token(),
        locale=locale,
        org_unit_id=org_unit_id,
        created_at=now,
    )
    session.add(user)
    session.flush()
    set_roles(session=session, user=user, roles=roles)
    audit.record(
        session=session,
        action="user.created",
        subject=f"user:{user.id}",
        now=now,
        actor_id=actor_id,
        data={"roles": sorted(set(roles))},
    )
    return user


def authenticate(*, session: Session, email: str, password: str, now: datetime) -> User | None:
    """The active user with these credentials, or None; the caller shows one generic message."""
    user = find_user(session, email)
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = now
    session.flush()
    return user


def set_password(*, session: Session, user: User, password: str) -> None:
    """A new password ends every other session of the user."""
    user.password_hash = generate_password_hash(password)
    user.session_token = new_session_token()
    session.flush()


def change_password(*, session: Session, user: User, current: str, new: str, now: datetime) -> None:
    if not check_password_hash(user.password_hash, current):
        raise AccountError(N_("The current password is not right."), "current")
    set_password(session=session, user=user, password=new)
    audit.record(
        session=session,
        action="user.password_changed",
        subject=f"user:{user.id}",
        now=now,
        actor_id=user.id,
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def create_reset_link(
    *, session: Session, user: User, created_by: User, now: datetime, hours: int
) -> str:
    """A one-time token for the user's reset link; earlier unused links stop working."""
    for old in session.exec(
        select(PasswordReset).where(
            PasswordReset.user_id == user.id, col(PasswordReset.used_at).is_(None)
        )
    ):
        old.used_at = now
    token = secrets.token_urlsafe(32)
    assert user.id is not None
    session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=_token_hash(token),
            created_by_id=created_by.id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    audit.record(
        session=session,
        action="user.reset_link_created",
        subject=f"user:{user.id}",
        now=now,
        actor_id=created_by.id,
    )
    session.flush()
    return token


def valid_reset(session: Session, token: str, now: datetime) -> PasswordReset | None:
    reset = session.exec(
        select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token))
    ).first()
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        return None
    return reset


def use_reset_link(*, session: Session, token: str, password: str, now: datetime) -> User:
    reset = valid_reset(session, token, now)
    if reset is None:
        raise AccountError(INVALID_RESET)
    user = session.get(User, reset.user_id)
    if user is None or not user.active:
        raise AccountError(INVALID_RESET)
    reset.used_at = now
    set_password(session=session, user=user, password=password)
    audit.record(
        session=session,
        action="user.password_reset",
        subject=f"user:{user.id}",
        now=now,
        actor_id=user.id,
    )
    return user


# --- settings and units --------------------------------------------------------------------------


def get_setting(session: Session, key: str, default: object) -> object:
    row = session.get(AppSetting, key)
    return default if row is None else row.value


def put_setting(
    *, session: Session, key: str, value: object, actor_id: int | None, now: datetime
) -> None:
    row = session.get(AppSetting, key)
    if row is None:
        session.add(AppSetting(key=key, value=value))
    else:
        row.value = value
    audit.record(
        session=session,
        action="setting.changed",
        subject=f"setting:{key}",
        now=now,
        actor_id=actor_id,
        data={"value": value},
    )
    session.flush()


def ensure_unit_path(session: Session, path: str) -> OrgUnit:
    """The unit at ``Parent/Child/...``, creating what is missing."""
    parent: OrgUnit | None = None
    for name in (part.strip() for part in path.split("/")):
        if not name:
            raise AccountError(f"empty unit name in '{path}'")
        parent_id = parent.id if parent else None
        unit = session.exec(
            select(OrgUnit).where(OrgUnit.name == name, OrgUnit.parent_id == parent_id)
        ).first()
        if unit is None:
            unit = OrgUnit(name=name, parent_id=parent_id)
            session.add(unit)
            session.flush()
        parent = unit
    if parent is None:
        raise AccountError("empty unit path")
    return parent


def unit_path(session: Session, unit_id: int | None) -> str:
    names: list[str] = []
    while unit_id is not None:
        unit = session.get(OrgUnit, unit_id)
        if unit is None:
            break
        names.append(unit.name)
        unit_id = unit.parent_id
    return "/".join(reversed(names))
