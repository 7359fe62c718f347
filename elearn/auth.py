"""Flask-Login set-up and role checks on views."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, abort
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user
from sqlalchemy import func
from sqlmodel import col, select

from elearn.clock import utcnow
from elearn.db import get_session
from elearn.models import LoginSession, User, UserRole

F = TypeVar("F", bound=Callable[..., Any])

ROLE_LABELS = {
    "learner": _l("Learner"),
    "manager": _l("Manager"),
    "certifier": _l("Certifier"),
    "panellist": _l("Panellist (standard setting)"),
    "organiser": _l("Organiser (events)"),
    "adviser": _l("Adviser (programmes)"),
    "admin": _l("Admin"),
    "editor": _l("Editor (case bank)"),
}


@dataclass(frozen=True)
class Principal(UserMixin):  # type: ignore[misc]
    """The signed-in user as the request sees it; the row stays in the database session."""

    id: int
    email: str
    name: str
    locale: str | None
    roles: frozenset[str]
    session_token: str  # this browser's login session (a LoginSession row), not the user's
    org_unit_id: int | None

    def get_id(self) -> str:
        # The session and remember cookies hold this token, never the user id: deleting the
        # token's row on the server ends this browser's session, wherever its cookies went.
        return self.session_token

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def principal_of(user: User, roles: set[str] | frozenset[str], session_token: str) -> Principal:
    assert user.id is not None
    return Principal(
        user.id,
        user.email,
        user.name,
        user.locale,
        frozenset(roles),
        session_token,
        user.org_unit_id,
    )


def _load_user(token: str) -> Principal | None:
    """The user of a live login session, from the session or the remember cookie; reads only."""
    session = get_session()
    # The roles come in the same statement, as one "a,b" string: one query per request.
    roles_of = (
        select(func.aggregate_strings(col(UserRole.role), ","))
        .where(UserRole.user_id == User.id)
        .scalar_subquery()
    )
    found = session.exec(
        select(User, LoginSession.expires_at, roles_of)
        .join(LoginSession, LoginSession.user_id == User.id)  # type: ignore[arg-type]
        .where(LoginSession.token_hash == LoginSession.digest(token))
    ).first()
    if found is None:
        return None
    user, expires_at, roles = found
    if expires_at <= utcnow() or not user.active:
        return None
    return principal_of(user, set(roles.split(",")) if roles else set(), token)


def roles_required(*roles: str) -> Callable[[F], F]:
    """The view needs a signed-in user holding one of ``roles``; others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return cast(Any, current_user_manager()).unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = roles  # type: ignore[attr-defined]  # read by the route matrix test
        return cast(F, wrapped)

    return decorator


def public(view: F) -> F:
    """Marks a view as open to everyone, on purpose."""
    view.access = ("public",)  # type: ignore[attr-defined]
    return view


def signed_in(view: F) -> F:
    """Any signed-in user, whatever their roles (their own account pages)."""
    from flask_login import login_required

    wrapped = login_required(view)
    wrapped.access = ("signed-in",)  # type: ignore[attr-defined]
    return cast(F, wrapped)


def current_user_manager() -> LoginManager:
    from flask import current_app

    manager: LoginManager = current_app.login_manager  # type: ignore[attr-defined]
    return manager


def init_app(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = _l("Please sign in to see this page.")
    manager.login_message_category = "info"
    manager.session_protection = "strong"
    manager.user_loader(_load_user)
    app.jinja_env.globals["ROLE_LABELS"] = ROLE_LABELS
