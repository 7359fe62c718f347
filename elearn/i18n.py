"""Flask-Babel: the UI language comes from the profile, then the session, then the browser."""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

LANGUAGE_NAMES = {"nb": "Norsk bokmål", "da": "Dansk", "en": "English"}
# Browsers that ask for Norwegian in general, or Nynorsk, get Bokmål rather than English.
_ALIASES = {"no": "nb", "nn": "nb"}


def select_locale() -> str:
    languages: tuple[str, ...] = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return str(current_user.locale)
    chosen = session.get("lang")
    if chosen in languages:
        return str(chosen)
    for value, _quality in request.accept_languages:
        primary = value.split("-")[0].lower()
        primary = _ALIASES.get(primary, primary)
        if primary in languages:
            return primary
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def current_language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(current_language=current_language, LANGUAGE_NAMES=LANGUAGE_NAMES)
