"""Sign-up, sign-in, sign-out, the account page, passwords and reset links."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    after_this_request,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from elearn.auth import public, signed_in
from elearn.clock import utcnow
from elearn.db import get_session, reading_session
from elearn.domain.errors import AccountError
from elearn.domain.sso import sso_required
from elearn.limits import MAILED
from elearn.services import accounts, sso
from elearn.web import safe_next
from elearn.web.forms import (
    ChangePasswordForm,
    ConfirmForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    SignupForm,
    language_choices,
)
from elearn.web.signin import forget_in_browser, sign_in
from elearn.web.sso import logout_url, providers

bp = Blueprint("auth", __name__)


def signup_open() -> bool:
    return bool(
        accounts.get_setting(
            session=get_session(), key="self_signup", default=current_app.config["SELF_SIGNUP"]
        )
    )


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("learn.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit() and (required := _sso_required(form.email.data or "")):
        # The organisation signs its people in: no password here for its domain (whether or not
        # an account exists, so that the answer reveals nothing), but for break-glass accounts.
        form.password.errors = [
            _("Your organisation signs you in: use the button “%(label)s”.", label=required.label)
        ]
    elif form.validate_on_submit():
        # The slow password check reads outside the write transaction: saves do not wait for it.
        with reading_session(current_app) as reader:
            user = accounts.authenticate(
                session=get_session(),
                reader=reader,
                email=form.email.data or "",
                password=form.password.data or "",
                now=utcnow(),
            )
        if user is None:
            # One message for a wrong e-mail, a wrong password and a closed account.
            form.password.errors = [_("The e-mail address or the password is not right.")]
        else:
            sign_in(user, bool(form.remember.data))
            return redirect(safe_next(form.next.data, url_for("learn.home")))
    status = 401 if form.password.errors else 200
    return render_template("auth/login.html", form=form, signup_open=signup_open()), status


def _sso_required(email: str) -> Any:
    """The provider this address's domain must sign in with, unless it is a break-glass account."""
    address = email.strip().lower()
    if address in current_app.config["SSO_BREAK_GLASS_EMAILS"]:
        return None
    # Read outside the write transaction, as the password check is: the sign-in takes the
    # write lock only to record the sign-in.
    with reading_session(current_app) as reader:
        name = sso_required(address, sso.required_domains(session=reader))
    return providers().get(name) if name else None


@bp.post("/logout")
@signed_in
def logout() -> Any:
    # This browser's session ends on the server: copies of its cookies stop working too.
    # The user's other devices stay signed in.
    # Signed in through a provider that offers it: signed out there too (RP-initiated logout).
    at_provider = logout_url(url_for("auth.login", _external=True))
    accounts.end_session(session=get_session(), token=current_user.session_token)
    forget_in_browser()
    if at_provider:
        # A page, not a redirect: the site's CSP lets its forms lead only to the site itself.
        url, label = at_provider
        return render_template("auth/signed_out_sso.html", url=url, label=label)
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/account/sign-out-everywhere")
@signed_in
def sign_out_everywhere() -> Any:
    accounts.sign_out_everywhere(session=get_session(), user_id=current_user.id, now=utcnow())
    forget_in_browser()
    flash(_("You are signed out everywhere, on this device too."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
@public
def signup() -> Any:
    if not signup_open():
        return render_template("auth/signup_closed.html"), 403
    form = SignupForm()
    if form.validate_on_submit():
        try:
            accounts.request_signup(
                session=get_session(),
                email=form.email.data or "",
                name=form.name.data or "",
                password=form.password.data or "",
                locale=str(session.get("lang")) if session.get("lang") else None,
                now=utcnow(),
                lifetime=timedelta(hours=current_app.config["SIGNUP_CONFIRM_HOURS"]),
            )
        except AccountError as exc:
            field = form.name if exc.field == "name" else form.email
            field.errors = [_(exc.message)]
        else:
            # The same page whether or not the address has an account: its e-mail says which.
            g.setdefault(MAILED, True)
            return render_template("auth/signup_sent.html", email=form.email.data)
    return render_template("auth/signup.html", form=form)


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
@public
def confirm_signup(token: str) -> Any:
    # A button, not the link itself: mail scanners open links, and must not open accounts.
    if accounts.valid_signup(session=get_session(), token=token, now=utcnow()) is None:
        return render_template("auth/signup_invalid.html"), 404
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            user = accounts.confirm_signup(session=get_session(), token=token, now=utcnow())
        except AccountError as exc:
            flash(_(exc.message), "error")
            return redirect(url_for("auth.login"))
        if current_user.is_authenticated:
            forget_in_browser()
        sign_in(user, remember=False)
        flash(_("Welcome! Your account is ready."), "success")
        return redirect(url_for("learn.home"))
    return render_template("auth/signup_confirm.html", form=form)


def _answer_no_sooner_than(seconds: float) -> None:
    """Hold the answer until ``seconds`` after now: a known address makes a link and a message
    (about 12 ms more than an unknown one, measured), which the time of the answer must not
    tell. The wait comes after the request's commit, so no lock is held while it lasts."""
    until = time.monotonic() + seconds

    @after_this_request
    def wait(response: Response) -> Response:
        time.sleep(max(0.0, until - time.monotonic()))
        return response


@bp.route("/forgot", methods=["GET", "POST"])
@public
def forgot() -> Any:
    """Self-service reset: a link by e-mail to the account's owner; one answer for every address."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        _answer_no_sooner_than(current_app.config["PASSWORD_FORGOT_ANSWER_SECONDS"])
        accounts.forgot_password(
            session=get_session(),
            email=form.email.data or "",
            now=utcnow(),
            lifetime=timedelta(minutes=current_app.config["PASSWORD_FORGOT_MINUTES"]),
        )
        g.setdefault(MAILED, True)
        return render_template("auth/forgot_sent.html", email=form.email.data)
    return render_template("auth/forgot.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@signed_in
def account() -> Any:
    user = accounts.user_by_id(session=get_session(), user_id=current_user.id)
    assert user is not None
    form = ProfileForm(obj=user)
    form.locale.choices = language_choices()
    if request.method == "GET":
        form.locale.data = (
            user.locale or session.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"]
        )
    if form.validate_on_submit():
        accounts.update_profile(
            session=get_session(),
            user_id=current_user.id,
            name=form.name.data or "",
            locale=form.locale.data,
        )
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("auth.account"))
    unit = accounts.unit_path(session=get_session(), unit_id=user.org_unit_id)
    live = accounts.live_sessions(session=get_session(), user_id=current_user.id, now=utcnow())
    return render_template("auth/account.html", form=form, user=user, unit=unit, live_sessions=live)


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = accounts.user_by_id(session=get_session(), user_id=current_user.id)
        assert user is not None
        try:
            accounts.change_password(
                session=get_session(),
                user=user,
                current=form.current.data or "",
                new=form.password.data or "",
                now=utcnow(),
            )
        except AccountError as exc:
            form.current.errors = [_(exc.message)]
        else:
            sign_in(user, remember=False)  # the new session token replaces the old one
            flash(_("Your password is changed. You were signed out everywhere else."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/password.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset(token: str) -> Any:
    if accounts.valid_reset(session=get_session(), token=token, now=utcnow()) is None:
        return render_template("auth/reset_invalid.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.use_reset_link(
                session=get_session(), token=token, password=form.password.data or "", now=utcnow()
            )
        except AccountError:
            return render_template("auth/reset_invalid.html"), 404
        if current_user.is_authenticated:
            forget_in_browser()  # the new password ended every session, this one too
        flash(_("Your new password is set. Sign in with it."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)


@bp.post("/language")
@public
def language() -> Any:
    form = LanguageForm()
    form.lang.choices = language_choices()
    if not form.validate_on_submit():
        abort(400)
    session["lang"] = form.lang.data
    if current_user.is_authenticated:
        accounts.set_locale(session=get_session(), user_id=current_user.id, locale=form.lang.data)
    return redirect(safe_next(form.next.data, url_for("learn.home")))
