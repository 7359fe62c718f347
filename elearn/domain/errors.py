"""Expected failures. The web layer shows their message with their status; nothing is half-saved."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for translation where it is raised; the web layer translates it."""
    return message


class DomainError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class BadAddress(ValueError):
    """An e-mail address no message can be sent to (empty, no @, a line break that would forge
    headers)."""


class AccountError(DomainError):
    """A refusal about an account (a taken e-mail, a bad reset link); ``field`` names the form
    field it belongs to, so that the page can show it there."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotEligible(Conflict):
    """The learner may not start the exam now; the message says why."""


class AttemptClosed(Conflict):
    """The attempt was submitted or its time ran out: nothing more is accepted."""


class InvalidAnswer(DomainError):
    """A forged or malformed answer (or setting): refused before anything was changed."""


class IncompleteAnswer(InvalidAnswer):
    """An answer the learner has not finished (two steps in one place, text where a number
    goes): not saved, and shown back as ``partial`` with the message, so nothing typed is lost."""

    status = 422

    def __init__(self, message: str, partial: object = None) -> None:
        super().__init__(message)
        self.partial = partial
