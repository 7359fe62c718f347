"""Configuration: these defaults, then ``instance/config.py``, then ``ELEARN_*`` variables."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    PRODUCTION = False
    DATABASE_URL: str | None = None  # None: sqlite:///<instance>/elearn.sqlite
    SQL_ECHO = False
    # SQLite: how long a write waits for the write lock before it gives up ("database is
    # locked"); well under gunicorn's 30 s worker timeout. Requests that only read never wait.
    SQLITE_BUSY_TIMEOUT_MS = 5000
    # An answer's save that finds the database locked is retried on the server for this long,
    # then answered 503 with Retry-After (the page keeps the answer and tries again).
    SAVE_LOCK_BUDGET_MS = 2000
    # The staff import commits every this many rows, so that it never holds the lock for long.
    STAFF_IMPORT_BATCH_ROWS = 300
    # The upload page imports files up to this many rows; larger ones go through
    # `flask --app elearn staff import` (a request must end well within gunicorn's 30 s).
    STAFF_UPLOAD_MAX_ROWS = 5000
    # A GET that changes rows without @writes_on_get is rolled back and logged; True: it raises.
    FAIL_ON_GET_WRITES = False
    COURSES_DIR = str(PROJECT_ROOT / "courses")
    QUESTION_BANKS_DIR = str(PROJECT_ROOT / "question_banks")
    # The demo cases of the case bank, published by `flask demo` (docs/decisions/0020).
    CASES_DIR = str(PROJECT_ROOT / "cases")
    # A case's attachments (PDF, images): each at most this large.
    CASE_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
    LANGUAGES = ("nb", "da", "en")
    BABEL_DEFAULT_LOCALE = "nb"
    BABEL_DEFAULT_TIMEZONE = "Europe/Oslo"
    SELF_SIGNUP = True  # the admin's switch in the settings page overrides it
    PASSWORD_MIN_LENGTH = 10
    PASSWORD_RESET_HOURS = 48
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # True in production (set below)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"  # not sent on other sites' form posts
    REMEMBER_COOKIE_SECURE = False  # True in production (set below)
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = 12 * 3600
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    TRUSTED_PROXIES = 0  # reverse proxies in front (nginx: 1) whose X-Forwarded-* to believe
    # Sent in production only (HTTPS): browsers then refuse plain HTTP to this site for a year.
    STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
    # Certificates: the address the site is served at now, e.g. "https://kurs.example.no".
    # None: the development address, http://FLASK_RUN_HOST:FLASK_RUN_PORT (as `make run` sets
    # them; 127.0.0.1:5000 otherwise); production refuses to start without one. The issuer id,
    # key ids and status-list URLs are recorded when first used and never follow a later change
    # of this (docs/decisions/0014): list the earlier addresses in PUBLIC_URL_ALIASES.
    PUBLIC_URL: str | None = None
    # Earlier base URLs of this site: what was signed under them keeps answering here.
    PUBLIC_URL_ALIASES: tuple[str, ...] = ()
    JWKS_MAX_AGE = 300  # seconds verifiers may cache the keys; a rotated key signs only after it
    STATUS_LIST_MAX_AGE = 300  # seconds verifiers may cache a revocation list
    # Slots per revocation list; a full list is followed by a new one. The spec's minimum,
    # 131,072, hides which certificate a verifier checks; smaller sizes are for tests.
    STATUS_LIST_SIZE = 131_072
    ISSUER_NAME = "elearn"
    CERTIFICATE_EXPIRY_WARNING_DAYS = 90
    # Events: guests' registrations are deleted RETENTION["guest_registrations"] days (365 by
    # default) after the event ends: the one rule for guests' data (docs/privacy.md).
    EVENT_MATERIAL_MAX_BYTES = 20 * 1024 * 1024  # a presentation (PDF) or an image
    AGREEMENT_MAX_BYTES = 10 * 1024 * 1024  # a programme's collaboration agreement (PDF)
    # TrueType files (glyf outlines) for scripts the bundled fonts lack, asked after them in order;
    # without one, such letters are printed in Latin letters (docs/decisions/0009).
    CERTIFICATE_FONTS: tuple[str, ...] = ()
    # The JWT proof's algorithm: RS256 (Open Badges 3.0's baseline, what 1EdTech's validator
    # accepts) or EdDSA. Both keys stay published; the JSON-LD credential is always Ed25519.
    CREDENTIAL_JWT_ALG = "RS256"
    # Sign-in through organisations' OpenID providers (docs/sso.md): a name used in URLs -> its
    # settings (discovery_url, client_id, client_secret or private_key_file, scopes, label,
    # trusted_email_domains, rules, default_roles, logout). Put it in instance/config.py.
    OIDC_PROVIDERS: dict[str, Any] = {}
    # Local accounts that keep their password when their domain must sign in through a provider:
    # the break-glass path when the provider is down (docs/sso.md). Lower-case addresses.
    SSO_BREAK_GLASS_EMAILS: tuple[str, ...] = ()
    # Retention periods in days, over the defaults in elearn/domain/privacy.py (DEFAULT_PERIODS):
    # e.g. {"practice_attempts": 365}. `flask privacy retention` applies them (cron, nightly).
    RETENTION: dict[str, int] = {}
    VERIFY_LIMIT_PER_ADDRESS = "30 per minute"  # failed look-ups of codes: against guessing
    # PDF signing (docs/decisions/0015, docs/deploy.md). Without PDF_SIGNING_PKCS12 the app makes
    # its own P-256 key and a self-signed certificate issued to ISSUER_NAME (instance/pdf-signing/).
    # Relative paths are read from the instance folder. The passphrase: here (instance/config.py),
    # ELEARN_PDF_SIGNING_PKCS12_PASSPHRASE, or a file named by PDF_SIGNING_PKCS12_PASSPHRASE_FILE.
    PDF_SIGNING_PKCS12: str | None = None  # the organisation's key and chain, e.g. "signing.p12"
    PDF_SIGNING_PKCS12_PASSPHRASE = ""
    PDF_SIGNING_PKCS12_PASSPHRASE_FILE: str | None = None
    # An RFC 3161 timestamp authority; its root certificate(s) as a PEM file are then required.
    PDF_TIMESTAMP_URL: str | None = None
    PDF_TIMESTAMP_ROOTS: str | None = None
    VERIFY_UPLOAD_LIMIT_PER_ADDRESS = "20 per minute"  # PDFs checked on /verify: each costs CPU
    # Sign-in brakes (Flask-Limiter). memory:// counts in each process apart: with several
    # gunicorn workers or servers use a shared store, e.g. redis://127.0.0.1:6379/0 (production
    # with more than one worker refuses to start on memory://; see docs/deploy.md).
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    # While the shared store does not answer, count in the process rather than refuse sign-ins.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Failed sign-ins to one account from one address: the guesser waits, the owner elsewhere not.
    SIGN_IN_LIMIT_PER_ACCOUNT_AND_ADDRESS = "10 per 10 minutes"
    # Failed sign-ins to one account from everywhere: a ceiling against guessing from many
    # addresses, out of reach of any one address under the limit above (at most 70 an hour).
    SIGN_IN_LIMIT_PER_ACCOUNT = "100 per hour"
    SIGN_IN_LIMIT_PER_ADDRESS = "300 per minute"  # sign-in, sign-up, reset from one address
    # Learning records (xAPI 1.0.3) to an LRS: off unless XAPI_ENDPOINT is set. Keep the password
    # in instance/config.py or ELEARN_XAPI_PASSWORD. `flask --app elearn xapi flush` sends.
    XAPI_ENDPOINT: str | None = None  # the LRS's xAPI base, e.g. https://lrs.example.org/xapi/
    XAPI_USERNAME = ""
    XAPI_PASSWORD = ""
    XAPI_ACTOR = "mbox"  # the learner by e-mail; "account": by an opaque user id only
    XAPI_TIMEOUT_SECONDS = 10
    XAPI_BATCH_SIZE = 50
    XAPI_RETRY_MIN_SECONDS = 30  # the wait after a failure doubles from this ...
    XAPI_RETRY_MAX_SECONDS = 3600  # ... up to this
    # E-mail (docs/decisions/0018). Messages are queued in the database with what causes them;
    # `flask --app elearn mail send` (cron, or --loop) delivers them over SMTP. Without MAIL_HOST
    # nothing is delivered: in development the admins' page /admin/mailbox shows what was queued.
    # Keep the password in instance/config.py or ELEARN_MAIL_PASSWORD.
    MAIL_HOST: str | None = None  # e.g. "smtp.example.no"
    MAIL_PORT = 587
    MAIL_SECURITY = "starttls"  # starttls (port 587), tls (implicit TLS, port 465), or none
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_CA_FILE: str | None = None  # a PEM file of CAs to trust instead of the system's
    # The sender: "Name <address>". None: "ISSUER_NAME <noreply@the PUBLIC_URL's host>".
    MAIL_FROM: str | None = None
    MAIL_REPLY_TO: str | None = None  # where answers go, when not to MAIL_FROM
    MAIL_TIMEOUT_SECONDS = 30
    MAIL_BATCH_SIZE = 20  # messages claimed at a time by one sender
    MAIL_RETRY_MIN_SECONDS = 60  # the wait after a temporary failure doubles from this ...
    MAIL_RETRY_MAX_SECONDS = 3600  # ... up to this
    MAIL_GIVE_UP_HOURS = 72  # a message still not delivered after this is kept as refused
    MAIL_LOOP_SECONDS = 30  # `mail send --loop`: the pause between passes
    # Self-service "forgot password": requests per address from one network address, and per
    # account (the same answer is given whether or not the account exists).
    # (The same limits hold for sign-up: each one e-mails the address.)
    PASSWORD_FORGOT_LIMIT_PER_ADDRESS = "30 per hour"
    PASSWORD_FORGOT_LIMIT_PER_ACCOUNT = "5 per hour"
    PASSWORD_FORGOT_MINUTES = 60  # a reset link by e-mail works this long (an admin's: above)
    # "Forgot password" answers no sooner than this, for a known address and an unknown alike.
    PASSWORD_FORGOT_ANSWER_SECONDS = 0.25
    SIGNUP_CONFIRM_HOURS = 24  # a sign-up's confirmation link works this long


def instance_path_of(test_config: dict[str, Any] | None) -> Path:
    """The instance folder: the test's, ``ELEARN_INSTANCE_PATH``, or ``instance/`` here."""
    return Path(
        (test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("ELEARN_INSTANCE_PATH")
        or PROJECT_ROOT / "instance"
    ).resolve()


def load_config(
    config: Any, instance_path: Path, test_config: dict[str, Any] | None, make_secret: bool = True
) -> None:
    """Fill a Flask config in the documented order; make a secret key when none is set (unless
    ``make_secret`` is false: a reader of the settings, such as the gunicorn master, needs none)."""
    config.from_object(Defaults)
    if test_config is None:
        config.from_pyfile(str(instance_path / "config.py"), silent=True)
        config.from_prefixed_env("ELEARN")
    else:
        config.from_mapping(test_config)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'elearn.sqlite'}"
    _public_url(config)
    if config["PRODUCTION"]:
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
    if make_secret and not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(instance_path / "secret_key")


DEVELOPMENT_URL = "http://127.0.0.1:5000"


class DefaultPublicUrl(RuntimeError):
    """Production without an address of its own: certificates would name the development one."""


def _public_url(config: Any) -> None:
    """Settle PUBLIC_URL (and its aliases) without a trailing slash: the configured address, or
    in development the one ``flask run`` serves at; production refuses the default."""
    url = config.get("PUBLIC_URL")
    if config["PRODUCTION"] and (not url or url.rstrip("/") == DEVELOPMENT_URL):
        raise DefaultPublicUrl(
            "PUBLIC_URL is not set: production signs it into every certificate, so set "
            "PUBLIC_URL to the site's public address (e.g. https://kurs.example.no) in "
            "instance/config.py or ELEARN_PUBLIC_URL; see docs/deploy.md."
        )
    if not url:
        host = os.environ.get("FLASK_RUN_HOST") or "127.0.0.1"
        if host in ("0.0.0.0", "::"):  # listening everywhere: loopback reaches it
            host = "127.0.0.1"
        url = f"http://{host}:{os.environ.get('FLASK_RUN_PORT') or 5000}"
    config["PUBLIC_URL"] = url.rstrip("/")
    aliases = config.get("PUBLIC_URL_ALIASES") or ()
    if isinstance(aliases, str):  # ELEARN_PUBLIC_URL_ALIASES="https://a https://b"
        aliases = aliases.replace(",", " ").split()
    config["PUBLIC_URL_ALIASES"] = tuple(str(a).rstrip("/") for a in aliases)


def read_settings() -> Any:
    """The settings the app will run with, read without starting it (the gunicorn master checks
    them before it forks workers); no secret key is made."""
    from flask import Config

    config = Config(str(PROJECT_ROOT))
    load_config(config, instance_path_of(None), None, make_secret=False)
    return config


def _instance_secret(path: Path) -> str:
    """Read the secret key from the instance folder, creating it (mode 0600) on first run."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key
