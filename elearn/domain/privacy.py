"""Privacy by design (GDPR arts. 5(1)(e), 15, 17, 20; docs/privacy.md, decision 0024): the kinds
of personal data elearn holds, why, and how long, as one table that the retention command, the
privacy notice and docs/privacy.md all read. Pure: no Flask, no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from elearn.domain.errors import N_, Conflict

# The configurable periods (RETENTION in the configuration overrides any of them), in days.
DEFAULT_PERIODS: dict[str, int] = {
    # Practice and other non-certifying attempts, with their answers and trail.
    "practice_attempts": 365,
    # Certification attempts and their certificates: kept while the certificate is valid, then
    # this long more (complaints, appeals, the certification body's own audit).
    "certification_after_expiry": 730,
    # A certification attempt that gave no certificate (failed, rejected): kept this long.
    "certification_without_certificate": 730,
    # The trail of an attempt (addresses and browsers of saves): kept this long after submission.
    "attempt_trail": 180,
    # Sealed audit entries older than this are pruned behind a signed checkpoint.
    "audit_entries": 365 * 5,
    # Learning records sent to the LRS (the LRS keeps its own copy; docs/privacy.md).
    "sent_learning_records": 90,
    # Guests' event registrations, counted from the event's end.
    "guest_registrations": 365,
}


class RetentionError(ValueError):
    """A RETENTION setting that cannot be used; the message names it."""


def periods(configured: Mapping[str, Any] | None) -> dict[str, int]:
    """The retention periods in days: the defaults, with the configured ones over them."""
    found = dict(DEFAULT_PERIODS)
    for key, value in (configured or {}).items():
        if key not in DEFAULT_PERIODS:
            raise RetentionError(f"RETENTION: unknown period {key!r}")
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise RetentionError(f"RETENTION[{key!r}] must be a whole number of days, 1 or more")
        found[key] = value
    return found


@dataclass(frozen=True)
class Category:
    """One kind of personal data: what it is, why it is held, on what basis, for how long."""

    key: str
    what: str
    purpose: str
    basis: str
    keep: str  # the rule in words; {days} and {years} are filled from the period
    period: str | None = None  # the DEFAULT_PERIODS key, or None when no clock applies


# The records of processing, in one place (art. 30): the notice, the retention command and
# docs/privacy.md follow this table.
CATEGORIES: tuple[Category, ...] = (
    Category(
        "account",
        N_("Your account: name, e-mail address, language, roles, organisation unit"),
        N_("To let you sign in and to show your manager your completion"),
        N_("Public task or legitimate interest of your employer (GDPR art. 6(1)(e) or (f))"),
        N_("While the account is open; erased when you ask and an administrator agrees"),
    ),
    Category(
        "learning",
        N_("Course progress, your reflections and course evaluations"),
        N_("To let you continue where you stopped and to improve the courses"),
        N_("Public task or legitimate interest (art. 6(1)(e) or (f))"),
        N_("Until you delete them or your account is erased"),
    ),
    Category(
        "practice",
        N_("Practice exam attempts with your answers and results"),
        N_("To show you your results and what to practise"),
        N_("Public task or legitimate interest (art. 6(1)(e) or (f))"),
        N_("{days} days after the attempt"),
        "practice_attempts",
    ),
    Category(
        "certification",
        N_("Certification exam attempts with your answers, results and the certifier's decision"),
        N_("To certify you, and to answer complaints about a result"),
        N_("Public task or legitimate interest of the certification body (art. 6(1)(e) or (f))"),
        N_(
            "While your certificate is valid and {days} days after it expires; as long after "
            "an attempt without a certificate"
        ),
        "certification_after_expiry",
    ),
    Category(
        "certificates",
        N_("Certificates: your name, the exam, the dates, the signed credential and PDF"),
        N_("So that anyone you show a certificate to can check that it is genuine"),
        N_("Legitimate interest of the holder and the certification body (art. 6(1)(f))"),
        N_(
            "Until the certificate expires and {days} days more; if you ask for erasure, it "
            "is kept until it expires unless the administrator revokes it"
        ),
        "certification_after_expiry",
    ),
    Category(
        "trail",
        N_("The trail of an exam attempt: when answers were saved, from which address and browser"),
        N_("To detect and examine cheating and technical problems"),
        N_("Legitimate interest of the certification body (art. 6(1)(f))"),
        N_("{days} days after the attempt"),
        "attempt_trail",
    ),
    Category(
        "audit",
        N_("The audit log: who did what and when, under a pseudonym"),
        N_("Security and accountability of certification decisions"),
        N_("Legal obligation and legitimate interest (art. 6(1)(c) and (f))"),
        N_("{days} days; erasure removes the link from the pseudonym to you"),
        "audit_entries",
    ),
    Category(
        "learning_records",
        N_("Learning records (xAPI) sent to your organisation's learning record store"),
        N_("To keep your training record in your organisation's own system"),
        N_("Public task or legitimate interest (art. 6(1)(e) or (f))"),
        N_("Here until sent and {days} days more; the learning record store keeps its own copy"),
        "sent_learning_records",
    ),
    Category(
        "sign_in",
        N_("Sign-in data: login sessions, reset links, the link to your organisation's sign-in"),
        N_("To keep your account safe"),
        N_("Legitimate interest (art. 6(1)(f))"),
        N_("Until they expire or you sign out; the link until the account is erased"),
    ),
    Category(
        "events",
        N_("Event registrations: name, e-mail, organisation, your answers, attendance"),
        N_("To run the event and tell you about changes"),
        N_("Public task or legitimate interest (art. 6(1)(e) or (f))"),
        N_("Guests' registrations {days} days after the event; yours while your account is open"),
        "guest_registrations",
    ),
)


def keep_text(category: Category, days: Mapping[str, int], translate: Any = None) -> str:
    """The category's retention rule in words, with its configured period filled in."""
    text = translate(category.keep) if translate else category.keep
    period = days.get(category.period or "", 0)
    return text.replace("{days}", f"{period:,}".replace(",", " ")).replace(
        "{years}", f"{period / 365:.1f}"
    )


def cutoff(now: datetime, days: Mapping[str, int], key: str) -> datetime:
    """The moment before which data under the period ``key`` is due for deletion."""
    return now - timedelta(days=days[key])


SCOPES = ("default", "full")


class ErasureRefused(Conflict):
    """An erasure that must not go ahead; the message is shown (409, nothing changed)."""


def check_erasure(*, already_erased: bool, scope: str, is_self_certifier: bool = False) -> None:
    if already_erased:
        raise ErasureRefused(N_("This person's data has been erased already."))
    if scope not in SCOPES:
        raise ErasureRefused(N_("Choose how far the erasure goes."))
    if is_self_certifier:
        raise ErasureRefused(N_("You cannot decide on your own erasure request."))
