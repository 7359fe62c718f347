"""Sign-in through the organisation's OpenID provider (OIDC_PROVIDERS; docs/sso.md).

Authlib's Flask client runs the authorization code flow with PKCE (S256), `state` and `nonce`
and checks the ID token's signature against the provider's JWKS, its issuer, audience, expiry
and nonce; elearn checks the claims again against its own clock and nonce
(``elearn.domain.sso.check_id_token_claims``) before it finds, links or creates the user."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp

from elearn.auth import public, roles_required
from elearn.clock import utcnow
from elearn.db import get_session, writes_on_get
from elearn.domain.errors import N_
from elearn.domain.sso import (
    Provider,
    SsoConfigError,
    SsoRefused,
    check_id_token_claims,
    parse_providers,
)
from elearn.models import ROLES, User
from elearn.services import accounts, audit, sso
from elearn.web import safe_next
from elearn.web.forms import PlainText
from elearn.web.signin import sign_in as sign_in_browser

bp = Blueprint("sso", __name__)

PENDING = "sso_pending"  # the browser's sign-in in progress: provider, nonce, next page
LINK = "sso_link"  # a password account waiting for its password: the provider's claims
ID_TOKEN = "sso_id_token"  # for RP-initiated logout (id_token_hint)
LINK_MINUTES = 10
NOT_STARTED = N_("This sign-in was not started here, or it was used already. Please start again.")
DOWN = N_(
    "Your organisation's sign-in service did not answer. Nothing was changed; please try again "
    "in a while, or sign in with your password if you have one."
)


def providers(app: Flask | None = None) -> dict[str, Provider]:
    app = app or current_app
    found: dict[str, Provider] = app.extensions["elearn.sso"]
    return found


def _client(name: str) -> Any:
    oauth: OAuth = current_app.extensions["elearn.oauth"]
    return oauth.create_client(name)


def _provider_or_404(name: str) -> Provider:
    provider = providers().get(name)
    if provider is None:
        abort(404)
    return provider


def _refuse(message: str, status: int = 400) -> Any:
    session.pop(PENDING, None)
    return render_template("auth/sso_refused.html", message=_(message)), status


@bp.get("/login/sso/<name>")
@public
def start(name: str) -> Any:
    """Off to the provider. A GET (a link, not a form): the site's CSP allows forms to post
    only to itself, and nothing is changed here; `state` protects the way back."""
    provider = _provider_or_404(name)
    nonce = secrets.token_urlsafe(24)
    next_page = safe_next(request.args.get("next"), url_for("learn.home"))
    session[PENDING] = {"provider": provider.name, "nonce": nonce, "next": next_page}
    try:
        return _client(name).authorize_redirect(
            url_for("sso.callback", name=name, _external=True), nonce=nonce
        )
    except (requests.RequestException, OAuthError, RuntimeError, ValueError, KeyError):
        current_app.logger.warning("SSO provider %s: discovery failed", name, exc_info=True)
        return _refuse(DOWN, 503)


@bp.get("/login/sso/<name>/callback")
@public
@writes_on_get(
    "the provider sends the browser back with a GET: the first sign-in makes or links the account"
)
def callback(name: str) -> Any:
    provider = _provider_or_404(name)
    pending = session.get(PENDING) or {}
    if pending.get("provider") != name:
        # No sign-in started in this browser (or it was used already): a replayed or forged
        # answer. Authlib would refuse its state too.
        return _refuse(NOT_STARTED)
    try:
        token = _client(name).authorize_access_token()
    except OAuthError as exc:
        current_app.logger.info("SSO %s refused: %s", name, exc)
        reason = getattr(exc, "error", "") or ""
        if reason == "access_denied":
            return _refuse(N_("The sign-in was cancelled at your organisation's sign-in page."))
        return _refuse(N_("Your organisation's sign-in could not be confirmed. Please try again."))
    except requests.RequestException:
        current_app.logger.warning("SSO provider %s: token endpoint failed", name, exc_info=True)
        return _refuse(DOWN, 503)
    except Exception as exc:  # joserfc: a bad signature, an unknown key, a malformed token
        current_app.logger.warning("SSO %s: the ID token was refused: %r", name, exc)
        return _refuse(N_("Your organisation's sign-in could not be confirmed. Please try again."))
    session.pop(PENDING, None)
    claims = dict(token.get("userinfo") or {})
    now = utcnow()
    metadata = _client(name).load_server_metadata()
    try:
        check_id_token_claims(
            claims,
            issuer=str(metadata.get("issuer")),
            client_id=provider.client_id,
            nonce=str(pending.get("nonce") or ""),
            now=now,
            leeway_seconds=provider.leeway_seconds,
        )
        outcome = sso.sign_in(session=get_session(), provider=provider, claims=claims, now=now)
    except SsoRefused as refused:
        audit.record(
            session=get_session(),
            action="user.sso_refused",
            subject=f"sso:{provider.name}",
            now=now,
            actor_id=None,
            data={"reason": refused.reason},
        )
        return _refuse(refused.message, 403)
    next_page = safe_next(pending.get("next"), url_for("learn.home"))
    if outcome.link_to is not None or outcome.link_any:
        session[LINK] = {
            "provider": provider.name,
            "user_id": outcome.link_to.id if outcome.link_to else None,
            "claims": _kept_claims(claims),
            "until": (now.timestamp() + LINK_MINUTES * 60),
            "next": next_page,
            "id_token": token.get("id_token"),
        }
        return redirect(url_for("sso.link"))
    assert outcome.user is not None
    sign_in_browser(outcome.user, remember=False)
    if provider.logout and token.get("id_token"):
        session[ID_TOKEN] = {"provider": provider.name, "id_token": token["id_token"]}
    return redirect(next_page)


def _kept_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """What the link step needs again: never a national identity number (decision 0023)."""
    rules = {r.claim for p in providers().values() for r in p.rules}
    keep = {"iss", "sub", "email", "email_verified", "name", "given_name", "family_name"} | rules
    return {k: v for k, v in claims.items() if k in keep}


class LinkForm(FlaskForm):
    email = StringField(
        _l("Your e-mail address in elearn"), validators=[Length(max=254), PlainText()]
    )
    password = PasswordField(_l("Your password in elearn"), validators=[DataRequired()])
    submit = SubmitField(_l("Link and sign in"))


@bp.route("/login/sso/link", methods=["GET", "POST"])
@public
def link() -> Any:
    """An account with a password exists for the provider's e-mail address: the person proves
    the password too before the provider's sign-in is linked to it."""
    pending = session.get(LINK)
    if not pending or pending.get("until", 0) < utcnow().timestamp():
        session.pop(LINK, None)
        return _refuse(N_("The sign-in to link has expired. Please start again."))
    provider = providers().get(pending["provider"])
    named = get_session().get(User, pending["user_id"]) if pending.get("user_id") else None
    if provider is None or (pending.get("user_id") and (named is None or not named.active)):
        session.pop(LINK, None)
        return _refuse(N_("The sign-in to link has expired. Please start again."))
    form = LinkForm()
    page = {"form": form, "user": named, "provider": provider}
    if form.validate_on_submit():
        password = form.password.data or ""
        if named is None:  # the provider named no account: the person names theirs
            user = accounts.authenticate(
                session=get_session(), email=form.email.data or "", password=password, now=utcnow()
            )
            wrong = _("The e-mail address or the password is not right.")
        else:
            user = named if check_password_hash(named.password_hash, password) else None
            wrong = _("The password is not right.")
        if user is None:
            form.password.errors = [wrong]
            return render_template("auth/sso_link.html", **page), 401
        try:
            sso.link_after_password(
                session=get_session(),
                user=user,
                provider=provider,
                claims=pending["claims"],
                now=utcnow(),
            )
        except SsoRefused as refused:
            session.pop(LINK, None)
            return _refuse(refused.message, 409)
        session.pop(LINK, None)
        sign_in_browser(user, remember=False)
        if provider.logout and pending.get("id_token"):
            session[ID_TOKEN] = {"provider": provider.name, "id_token": pending["id_token"]}
        flash(_("Your organisation's sign-in is linked to your account."), "success")
        return redirect(safe_next(pending.get("next"), url_for("learn.home")))
    return render_template("auth/sso_link.html", **page)


def logout_url(post_logout: str) -> tuple[str, str] | None:
    """Where the browser signs out at the provider it signed in with (RP-initiated logout), with
    the provider's label; None when it did not sign in so, or the provider offers no such end."""
    held = session.pop(ID_TOKEN, None)
    if not held:
        return None
    provider = providers().get(held.get("provider", ""))
    if provider is None or not provider.logout:
        return None
    try:
        client = _client(provider.name)
        if not client.load_server_metadata().get("end_session_endpoint"):
            return None
        made = client.create_logout_url(
            post_logout_redirect_uri=post_logout,
            id_token_hint=held.get("id_token"),
            client_id=provider.client_id,
        )
    except (requests.RequestException, RuntimeError, OAuthError):
        return None  # signed out here anyway; the provider's session ends on its own
    return str(made["url"]), provider.label


# --- the administrator's page: providers and domains that must use them ---------------------------


class RequiredDomainForm(FlaskForm):
    domain = StringField(
        _l("E-mail domain"),
        validators=[
            DataRequired(),
            Length(max=253),
            PlainText(),
            Regexp(
                r"^@?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
                message=_l("Give a domain such as kommune.no."),
            ),
        ],
    )
    provider = SelectField(_l("Sign-in through"), choices=[])
    submit = SubmitField(_l("Require this sign-in"))


class LiftDomainForm(FlaskForm):
    domain = StringField(validators=[DataRequired(), Length(max=253), PlainText()])
    submit = SubmitField(_l("Allow passwords again"))


@bp.route("/admin/sso", methods=["GET", "POST"])
@roles_required("admin")
def admin() -> Any:
    db = get_session()
    form = RequiredDomainForm()
    form.provider.choices = [(p.name, p.label) for p in providers().values()]
    lift = LiftDomainForm(prefix="lift")
    if lift.submit.data and lift.validate_on_submit():
        sso.set_required_domain(
            session=db,
            domain=lift.domain.data or "",
            provider=None,
            actor_id=current_user.id,
            now=utcnow(),
        )
        flash(
            _("Password sign-in is allowed again for %(domain)s.", domain=lift.domain.data),
            "success",
        )
        return redirect(url_for("sso.admin"))
    if form.submit.data and form.validate_on_submit():
        sso.set_required_domain(
            session=db,
            domain=form.domain.data or "",
            provider=form.provider.data,
            actor_id=current_user.id,
            now=utcnow(),
        )
        flash(
            _(
                "Sign-in through the organisation is required for %(domain)s.",
                domain=form.domain.data,
            ),
            "success",
        )
        return redirect(url_for("sso.admin"))
    return render_template(
        "admin/sso.html",
        form=form,
        lift=lift,
        providers=list(providers().values()),
        required=sorted(sso.required_domains(session=db).items()),
        break_glass=current_app.config["SSO_BREAK_GLASS_EMAILS"],
    )


def init_app(app: Flask) -> None:
    """Reads OIDC_PROVIDERS; wrong settings stop the app at start, naming the setting."""
    try:
        found = parse_providers(app.config["OIDC_PROVIDERS"], ROLES)
    except SsoConfigError as exc:
        raise RuntimeError(f"OIDC_PROVIDERS: {exc}") from None
    oauth = OAuth(app)
    for provider in found.values():
        kwargs: dict[str, Any] = {
            "scope": " ".join(provider.scopes),
            "code_challenge_method": "S256",
            "timeout": 10,
        }
        secret: str | None = provider.client_secret
        auth_methods = None
        if provider.private_key_file:
            path = Path(provider.private_key_file)
            if not path.is_absolute():
                path = Path(app.instance_path) / path
            try:
                secret = path.read_text()
            except OSError as exc:
                setting = f"OIDC_PROVIDERS[{provider.name!r}]['private_key_file']"
                raise RuntimeError(f"{setting}: cannot read {path}: {exc}") from None
            kwargs["token_endpoint_auth_method"] = "private_key_jwt"
            headers = {"kid": provider.private_key_id} if provider.private_key_id else None
            auth_methods = [PrivateKeyJWT(headers=headers)]
        oauth.register(
            provider.name,
            client_id=provider.client_id,
            client_secret=secret,
            server_metadata_url=provider.discovery_url,
            client_kwargs=kwargs,
            client_auth_methods=auth_methods,
        )
    app.extensions["elearn.sso"] = found
    app.extensions["elearn.oauth"] = oauth
    app.register_blueprint(bp)
    app.jinja_env.globals["sso_providers"] = lambda: list(providers(app).values())
    app.jinja_env.globals["sso_identities"] = _identities_for_page


def _identities_for_page(user_id: int) -> list[Any]:
    """The account page's list: each linked provider's label and when it was linked."""
    from types import SimpleNamespace

    found = sso.identities_of(session=get_session(), user_id=user_id)
    labels = {p.name: p.label for p in providers().values()}
    return [
        SimpleNamespace(label=labels.get(i.provider, i.provider), created_at=i.created_at)
        for i in found
    ]
