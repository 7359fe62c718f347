"""Separation of duties: nobody acts as certifier on their own attempts or certificates.

The one rule every certifier route and service asks (decision 0013). "Own" means the attempt's
or the certificate's user is the actor; an account that holds the learner and the certifier (or
admin) roles sits its exams as a learner, and another certifier signs off, grants its extra time,
reads its attempts with their keys and revokes its certificates.
"""

from __future__ import annotations

from elearn.domain.errors import N_, DomainError

# The certifier's actions on a person's attempt or certificate, by the name the audit log gives
# a refusal of each.
ATTEMPT_VIEW = "attempt.view"
ATTEMPT_APPROVE = "attempt.approve"
ATTEMPT_REJECT = "attempt.reject"
CERTIFICATE_VIEW = "certificate.view"
CERTIFICATE_REVOKE = "certificate.revoke"
EXTRA_TIME_GRANT = "extra_time.grant"
ACTIONS = frozenset(
    {
        ATTEMPT_VIEW,
        ATTEMPT_APPROVE,
        ATTEMPT_REJECT,
        CERTIFICATE_VIEW,
        CERTIFICATE_REVOKE,
        EXTRA_TIME_GRANT,
    }
)
REFUSED = "duties.refused"  # the audit action of a refusal; its data names the refused action


def may_act_on(*, actor_id: int, subject_user_id: int) -> bool:
    """Whether ``actor_id`` may act as certifier on what belongs to ``subject_user_id``."""
    return actor_id != subject_user_id


class OwnCase(DomainError):
    """A certifier's action on their own attempt or certificate: refused (403), and the refusal
    is written to the audit log even though everything else the request did is rolled back."""

    status = 403

    def __init__(
        self, *, action: str, subject: str, actor_id: int, exam: str | None = None
    ) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown certifier action {action!r}")
        super().__init__(
            N_(
                "This is your own attempt or certificate: a certifier may not act on their own "
                "case. Another certifier must do it. This refusal has been recorded in the audit "
                "log."
            )
        )
        self.action = action
        self.subject = subject
        self.actor_id = actor_id
        self.exam = exam


def require(
    *, actor_id: int, subject_user_id: int, action: str, subject: str, exam: str | None = None
) -> None:
    """Raise :class:`OwnCase` when the actor is the person the attempt or certificate is of."""
    if not may_act_on(actor_id=actor_id, subject_user_id=subject_user_id):
        raise OwnCase(action=action, subject=subject, actor_id=actor_id, exam=exam)
