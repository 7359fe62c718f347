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
