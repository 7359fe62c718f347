"""Accounts: creating users, checking passwords, one-time reset links, roles and units."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete
from sqlmodel import Session, col, func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from elearn.domain.errors import N_, AccountError, NotFound
from elearn.domain.staff import normalise_email
from elearn.domain.text import TextRefused, clean_name, refused_characters
from elearn.models import (
    ROLES,
    AppSetting,
    LoginSession,
    ManagerUnit,
    OrgUnit,
    PasswordReset,
    SignupRequest,
    User,
    UserRole,
)
from elearn.services import audit, mail
from elearn.services.paging import Page, contains, page_of

# Matches no password (it is not a hash werkzeug can produce), and costs nothing to store.
UNUSABLE = "!unusable"
INVALID_RESET = N_(
    "The reset link has expired or was used already. Ask your administrator for a new one."
)
INVALID_SIGNUP = N_("The confirmation link has expired or was used already. Sign up again.")


@cache
def _dummy_hash() -> str:
    """A hash to check against when the e-mail is unknown, so that both paths take the same
    time; made at the first such sign-in, not at import (it costs ~100 ms at every start)."""
    return generate_password_hash("not-a-password")


# --- login sessions: one row per signed-in browser ------------------------------------------------


def start_session(
    *, session: Session, user_id: int, remember: bool, now: datetime, lifetime: timedelta
) -> str:
    """A login session for one browser; returns the token its cookies carry. The user's expired
    sessions are swept away here, so the table holds live sessions and a few stale ones."""
    session.execute(
        delete(LoginSession).where(
            col(LoginSession.user_id) == user_id, col(LoginSession.expires_at) <= now
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user_id,
            token_hash=LoginSession.digest(token),
            remember=remember,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def end_session(*, session: Session, token: str) -> None:
    """Sign one browser out: its session and remember cookies stop working, wherever they are."""
    session.execute(
        delete(LoginSession).where(col(LoginSession.token_hash) == LoginSession.digest(token))
    )


def end_all_sessions(*, session: Session, user_id: int) -> int:
    """Sign the user out on every device; returns how many sessions ended."""
    result = session.execute(delete(LoginSession).where(col(LoginSession.user_id) == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def live_sessions(*, session: Session, user_id: int, now: datetime) -> int:
    """How many browsers the user is signed in on."""
    return session.exec(
        select(func.count())
        .select_from(LoginSession)
        .where(col(LoginSession.user_id) == user_id, col(LoginSession.expires_at) > now)
    ).one()


def sign_out_everywhere(*, session: Session, user_id: int, now: datetime) -> int:
    """The user's own "sign out everywhere": every session ends, this one too."""
    ended = end_all_sessions(session=session, user_id=user_id)
    audit.record(
        session=session,
        action="user.signed_out_everywhere",
        subject=f"user:{user_id}",
        now=now,
        actor_id=user_id,
        data={"sessions": ended},
    )
    return ended


def user_roles(*, session: Session, user_id: int) -> set[str]:
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
    current = user_roles(session=session, user_id=user.id)
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


def find_user(*, session: Session, email: str) -> User | None:
    if refused_characters(email):  # no account has one; PostgreSQL cannot even compare a NUL
        return None
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def _checked_email(email: str) -> str:
    """The address as it is stored; AccountError if it holds a control character."""
    if refused_characters(email):
        raise AccountError(N_("An e-mail address cannot hold control characters."), "email")
    return normalise_email(email)


def _clean_name(name: str) -> str:
    """The name as it is stored (NFC, trimmed); AccountError on the name field if it may not be
    (control or bidi-override characters, nothing visible): the forms check first, this holds
    for every other way in (commands, imports, demo data)."""
    try:
        return clean_name(name)
    except TextRefused as refused:
        raise AccountError(refused.message, "name") from None


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
    email = _checked_email(email)
    name = _clean_name(name)
    if find_user(session=session, email=email) is not None:
        raise AccountError(N_("An account with this e-mail address already exists."), "email")
    user = User(
        email=email,
        name=name,
        # No password: the person signs in first through a reset link an admin gives them.
        password_hash=generate_password_hash(password) if password is not None else UNUSABLE,
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


def authenticate(
    *,
    session: Session,
    email: str,
    password: str,
    now: datetime,
    reader: Session | None = None,
) -> User | None:
    """The active user with these credentials, or None; the caller shows one generic message.
    With ``reader`` (a session that only reads) the look-up and the deliberately slow password
    check run there, so that ``session`` takes SQLite's write lock only to record the sign-in."""
    found = find_user(session=reader or session, email=email)
    if found is None or not found.active:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(found.password_hash, password):
        return None
    user = found if reader is None else session.get(User, found.id)
    # Read again for the write: closed or given a new password in the meantime, no sign-in.
    if user is None or not user.active or user.password_hash != found.password_hash:
        return None
    user.last_login_at = now
    session.flush()
    return user


def set_password(*, session: Session, user: User, password: str) -> None:
    """A new password ends every session of the user (the caller may start a new one)."""
    user.password_hash = generate_password_hash(password)
    assert user.id is not None
    end_all_sessions(session=session, user_id=user.id)
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
    *,
    session: Session,
    user: User,
    created_by_id: int | None,
    now: datetime,
    hours: int,
    lifetime: timedelta | None = None,
) -> str:
    """A one-time token for the user's reset link (``lifetime``, else ``hours``); earlier unused
    links stop working."""
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
            created_by_id=created_by_id,
            created_at=now,
            expires_at=now + (lifetime or timedelta(hours=hours)),
        )
    )
    audit.record(
        session=session,
        action="user.reset_link_created",
        subject=f"user:{user.id}",
        now=now,
        actor_id=created_by_id,
        data=None if created_by_id else {"by": "e-mail"},
    )
    session.flush()
    return token


def valid_reset(*, session: Session, token: str, now: datetime) -> PasswordReset | None:
    reset = session.exec(
        select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token))
    ).first()
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        return None
    return reset


def use_reset_link(*, session: Session, token: str, password: str, now: datetime) -> User:
    reset = valid_reset(session=session, token=token, now=now)
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


# --- by e-mail: forgot password, sign-up (the same answer whether or not an account exists) -----


def forgot_password(*, session: Session, email: str, now: datetime, lifetime: timedelta) -> None:
    """E-mail a one-time reset link to the owner of the active account at ``email``, if there is
    one. The caller answers the same either way; with no account the message is rendered and
    dropped, so that both ways take about as long."""
    user = find_user(session=session, email=email)
    minutes = int(lifetime.total_seconds() // 60)
    if user is None or not user.active:
        mail.rehearse(
            session=session,
            template="password_reset",
            lang=mail.language_of(session=session, user=None),
            context={"name": "", "reset_url": "", "minutes": minutes},
        )
        return
    token = create_reset_link(
        session=session, user=user, created_by_id=None, now=now, hours=0, lifetime=lifetime
    )
    mail.queue_mail(
        session,
        to=user.email,
        template="password_reset",
        lang=mail.language_of(session=session, user=user),
        context={
            "name": user.name,
            "reset_url": mail.public_link(session=session, endpoint="auth.reset", token=token),
            "minutes": minutes,
        },
        now=now,
    )


def request_signup(
    *,
    session: Session,
    email: str,
    name: str,
    password: str,
    locale: str | None,
    now: datetime,
    lifetime: timedelta,
) -> None:
    """Sign-up by e-mail. A new address gets a link that opens the account; an address with an
    account gets a message telling its owner so (and how to sign in or reset the password).
    Both ways hash the password and queue one message, so neither the answer nor its time tells
    anyone whether the address has an account."""
    email, name = _checked_email(email), _clean_name(name)
    password_hash = generate_password_hash(password)
    existing = find_user(session=session, email=email)
    if existing is not None:
        mail.queue_mail(
            session,
            to=existing.email,
            template="account_exists",
            lang=mail.language_of(session=session, user=existing),
            context={
                "name": existing.name,
                "login_url": mail.public_link(session=session, endpoint="auth.login"),
                "forgot_url": mail.public_link(session=session, endpoint="auth.forgot"),
            },
            now=now,
        )
        return
    session.execute(delete(SignupRequest).where(col(SignupRequest.expires_at) <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        SignupRequest(
            email=email,
            name=name,
            password_hash=password_hash,
            locale=locale,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    mail.queue_mail(
        session,
        to=email,
        template="signup_confirm",
        lang=locale or mail.language_of(session=session, user=None),
        context={
            "name": name,
            "confirm_url": mail.public_link(
                session=session, endpoint="auth.confirm_signup", token=token
            ),
            "hours": int(lifetime.total_seconds() // 3600),
        },
        now=now,
    )


def valid_signup(*, session: Session, token: str, now: datetime) -> SignupRequest | None:
    found = session.exec(
        select(SignupRequest).where(SignupRequest.token_hash == _token_hash(token))
    ).first()
    if found is None or found.used_at is not None or found.expires_at <= now:
        return None
    return found


def confirm_signup(*, session: Session, token: str, now: datetime) -> User:
    """Open the account the link was sent for; AccountError when the link is spent or expired,
    or the address got an account meanwhile (a second sign-up confirmed first)."""
    found = valid_signup(session=session, token=token, now=now)
    if found is None:
        raise AccountError(INVALID_SIGNUP)
    found.used_at = now
    if find_user(session=session, email=found.email) is not None:
        session.flush()
        raise AccountError(N_("An account with this e-mail address already exists."), "email")
    user = create_user(
        session=session,
        email=found.email,
        name=found.name,
        password=None,
        now=now,
        roles=("learner",),
        locale=found.locale,
    )
    user.password_hash = found.password_hash
    session.flush()
    return user


# --- the admin's use cases ------------------------------------------------------------------------


def user_by_id(*, session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def roles_of(*, session: Session, user_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each user's roles, sorted, in one query."""
    found: dict[int, list[str]] = {}
    rows = session.exec(
        select(UserRole.user_id, UserRole.role)
        .where(col(UserRole.user_id).in_(list(user_ids)))
        .order_by(col(UserRole.role))
    )
    for user_id, role in rows:
        found.setdefault(user_id, []).append(role)
    return found


def user_page(
    *, session: Session, query: str, number: int, size: int = 50
) -> Page[tuple[User, list[str]]]:
    """Users by e-mail, searched by name or e-mail (any case), a page at a time, with roles."""
    statement = select(User)
    if query.strip():
        pattern = contains(text=query.strip())
        statement = statement.where(
            or_(
                func.lower(User.email).like(pattern, escape="\\"),
                func.lower(User.name).like(pattern, escape="\\"),
            )
        )
    page = page_of(
        session=session, statement=statement.order_by(col(User.email)), number=number, size=size
    )
    roles = roles_of(session=session, user_ids=[u.id for u in page.rows if u.id is not None])
    return Page(
        [(u, roles.get(u.id or 0, [])) for u in page.rows], page.number, page.size, page.total
    )


def _check_manages(*, roles: Iterable[str], manages: Iterable[int]) -> None:
    """Units are managed by managers: units for someone without the role would be managed the
    day the role is added, unseen on the form until then."""
    if any(True for _ in manages) and "manager" not in set(roles):
        raise AccountError(
            N_("Only a manager manages units: give the manager role, or choose no units."),
            "manages",
        )


def _apply_managed_units(
    *, session: Session, user: User, manages: Iterable[int], actor_id: int | None, now: datetime
) -> None:
    assert user.id is not None
    set_managed_units(
        session=session, user_id=user.id, unit_ids=manages, actor_id=actor_id, now=now
    )


def new_account(
    *,
    session: Session,
    email: str,
    name: str,
    roles: Iterable[str],
    org_unit_id: int | None,
    manages: Iterable[int],
    active: bool,
    actor_id: int,
    now: datetime,
    reset_hours: int,
) -> tuple[User, str]:
    """An admin creates an account without a password; returns it and a one-time reset token."""
    roles, manages = tuple(roles), tuple(manages)
    _check_manages(roles=roles, manages=manages)
    user = create_user(
        session=session,
        email=email,
        name=name,
        password=None,
        now=now,
        roles=roles,
        org_unit_id=org_unit_id,
        actor_id=actor_id,
    )
    user.active = active
    _apply_managed_units(session=session, user=user, manages=manages, actor_id=actor_id, now=now)
    token = create_reset_link(
        session=session, user=user, created_by_id=actor_id, now=now, hours=reset_hours
    )
    return user, token


def edit_account(
    *,
    session: Session,
    user_id: int,
    email: str,
    name: str,
    roles: Iterable[str],
    org_unit_id: int | None,
    manages: Iterable[int],
    active: bool,
    actor_id: int,
    now: datetime,
) -> User:
    """An admin changes an account; deactivating it ends its sessions. Nobody takes away their
    own admin role or account, and an e-mail address belongs to one account."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("There is no such user."))
    wanted = set(roles)
    manages = tuple(manages)
    _check_manages(roles=wanted, manages=manages)
    other = find_user(session=session, email=email)
    if other is not None and other.id != user.id:
        raise AccountError(N_("An account with this e-mail address already exists."), "email")
    if user.id == actor_id and ("admin" not in wanted or not active):
        raise AccountError(N_("You cannot take away your own admin role or account."), "roles")
    user.name = _clean_name(name)
    user.email = _checked_email(email)
    user.org_unit_id = org_unit_id
    if user.active and not active:
        end_all_sessions(session=session, user_id=user_id)
    user.active = active
    set_roles(session=session, user=user, roles=wanted, actor_id=actor_id, now=now)
    _apply_managed_units(session=session, user=user, manages=manages, actor_id=actor_id, now=now)
    audit.record(
        session=session,
        action="user.updated",
        subject=f"user:{user.id}",
        now=now,
        actor_id=actor_id,
        data={"roles": sorted(wanted), "active": user.active},
    )
    return user


def reset_link_for(
    *, session: Session, user_id: int, actor_id: int, now: datetime, hours: int
) -> tuple[User, str]:
    """A new one-time reset token for a user, made by an admin."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("There is no such user."))
    token = create_reset_link(
        session=session, user=user, created_by_id=actor_id, now=now, hours=hours
    )
    return user, token


def update_profile(*, session: Session, user_id: int, name: str, locale: str | None) -> User:
    """The user's own name and interface language."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("There is no such user."))
    user.name, user.locale = _clean_name(name), locale
    session.flush()
    return user


def set_locale(*, session: Session, user_id: int, locale: str | None) -> None:
    """Remember the interface language the user chose."""
    user = session.get(User, user_id)
    if user is not None and user.locale != locale:
        user.locale = locale
        session.flush()


# --- settings and units --------------------------------------------------------------------------


def get_setting(*, session: Session, key: str, default: object) -> object:
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


def ensure_unit_path(*, session: Session, path: str) -> OrgUnit:
    """The unit at ``Parent/Child/...``, creating what is missing."""
    parent: OrgUnit | None = None
    for part in path.split("/"):
        if not part.strip():
            raise AccountError(f"empty unit name in '{path}'")
        try:
            name = clean_name(part)
        except TextRefused as refused:
            raise AccountError(f"unit name {refused}", "unit") from None
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


def unit_path(*, session: Session, unit_id: int | None) -> str:
    names: list[str] = []
    while unit_id is not None:
        unit = session.get(OrgUnit, unit_id)
        if unit is None:
            break
        names.append(unit.name)
        unit_id = unit.parent_id
    return "/".join(reversed(names))


# --- the units a manager sees ------------------------------------------------------------------


def managed_units(*, session: Session, user_id: int) -> set[int]:
    """The units a manager was given (not the units below them)."""
    return set(session.exec(select(ManagerUnit.unit_id).where(ManagerUnit.user_id == user_id)))


def set_managed_units(
    *, session: Session, user_id: int, unit_ids: Iterable[int], actor_id: int | None, now: datetime
) -> None:
    wanted = set(unit_ids)
    current = managed_units(session=session, user_id=user_id)
    for unit_id in current - wanted:
        row = session.get(ManagerUnit, (user_id, unit_id))
        if row is not None:
            session.delete(row)
    for unit_id in wanted - current:
        session.add(ManagerUnit(user_id=user_id, unit_id=unit_id))
    if wanted != current:
        audit.record(
            session=session,
            action="user.units_changed",
            subject=f"user:{user_id}",
            now=now,
            actor_id=actor_id,
            data={"units": sorted(wanted)},
        )
    session.flush()
