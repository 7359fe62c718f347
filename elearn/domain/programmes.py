"""Programmes (advisory programmes, networks, competence programmes): the rules about an
organisation's way through the phases, its collaboration agreement and required participation.
Plain data in, answers out: the service reads the rows and the events' attendance."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from elearn.domain.errors import N_, Conflict, DomainError, InvalidAnswer

KINDS = ("advisory", "network", "competence")
LINK_KINDS = ("event", "course", "exam", "task")
# applied (the organisation asked) | invited (an adviser asked) | accepted | declined
PARTICIPATION_STATUSES = ("applied", "invited", "accepted", "declined")
ACTIVITY_STATUSES = ("planned", "in_progress", "done", "cancelled")
CLOSED_ACTIVITY = ("done", "cancelled")


class NotYours(DomainError):
    """Someone acted for an organisation they do not belong to, or is not its contact."""

    status = 403


@dataclass(frozen=True)
class AgreementVersion:
    version: int
    text: str
    file_sha256: str | None
    approved_by: int | None = None
    approved_at: datetime | None = None


def latest(versions: Iterable[AgreementVersion]) -> AgreementVersion | None:
    found = sorted(versions, key=lambda v: v.version)
    return found[-1] if found else None


def agreement_state(versions: Iterable[AgreementVersion]) -> str:
    """none (nothing drafted) | awaiting (the newest version is not approved) | approved."""
    newest = latest(versions)
    if newest is None:
        return "none"
    return "approved" if newest.approved_at is not None else "awaiting"


def next_version(
    versions: Sequence[AgreementVersion], *, text: str, file_sha256: str | None
) -> int:
    """The number a new draft gets. A draft identical to the newest version is refused: it
    would ask the organisation to approve again what it already has."""
    if not text.strip():
        raise InvalidAnswer(N_("Write the agreement's text."))
    newest = latest(versions)
    if newest is None:
        return 1
    same_file = file_sha256 is None or file_sha256 == newest.file_sha256
    if newest.text == text and same_file:
        raise Conflict(N_("The agreement is unchanged: there is no new version to approve."))
    return newest.version + 1


def check_approval(
    versions: Sequence[AgreementVersion],
    *,
    version: int,
    approver_units: Sequence[int],
    organisation_unit: int,
    is_contact: bool,
) -> AgreementVersion:
    """The version the approver may approve now. Only a contact person of the organisation, who
    belongs to it (their unit is the organisation or below it), approves; only the newest
    version, and only once."""
    if organisation_unit not in approver_units or not is_contact:
        raise NotYours(N_("Only a contact person of the organisation can approve its agreement."))
    newest = latest(versions)
    if newest is None:
        raise Conflict(N_("There is no agreement to approve yet."))
    if newest.version != version:
        raise Conflict(
            N_(
                "The agreement was changed after you opened it. "
                "Read the new version and approve it."
            )
        )
    if newest.approved_at is not None:
        raise Conflict(N_("This version of the agreement is already approved."))
    return newest


@dataclass(frozen=True)
class Requirement:
    """A role whose holder must take part in a phase (the head of procurement at the start)."""

    phase: int  # the phase's position
    role: str


def requirement_met(
    requirement: Requirement,
    *,
    contacts: Mapping[int, str],
    attended: Iterable[int],
) -> bool:
    """Met when a contact person with the role attended (checked in at) an event of the phase.
    ``contacts`` maps user id to role; ``attended`` are the user ids checked in."""
    wanted = requirement.role.strip().casefold()
    holders = {uid for uid, role in contacts.items() if role.strip().casefold() == wanted}
    return bool(holders.intersection(attended))


@dataclass(frozen=True)
class Progress:
    done: int  # phases completed
    total: int
    current: int | None  # the position of the phase the organisation is in; None when finished

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.done >= self.total


def progress(*, done: int, positions: Sequence[int]) -> Progress:
    """Where an organisation is, from how many phases (in order) it has completed."""
    ordered = sorted(positions)
    done = max(0, min(done, len(ordered)))
    current = ordered[done] if done < len(ordered) else None
    return Progress(done=done, total=len(ordered), current=current)


def phase_state(position_index: int, done: int) -> str:
    """done | current | upcoming, for the phase at this index (0-based) in the order."""
    if position_index < done:
        return "done"
    return "current" if position_index == done else "upcoming"


def check_complete_phase(
    *,
    accepted: bool,
    finished: bool,
    unmet: Sequence[str],
    needs_agreement: bool,
    agreement: str,
) -> None:
    """Whether the organisation's current phase may be marked complete; raises why not."""
    if not accepted:
        raise Conflict(N_("The organisation is not accepted into the programme yet."))
    if finished:
        raise Conflict(N_("Every phase is already complete."))
    if needs_agreement and agreement != "approved":
        raise Conflict(N_("The collaboration agreement must be approved before this phase ends."))
    if unmet:
        raise Conflict(N_("The phase's required participation is not met yet."))


def overdue(*, due_on: date | None, status: str, today: date) -> bool:
    return due_on is not None and due_on < today and status not in CLOSED_ACTIVITY


def check_decision(*, status: str, accept: bool) -> str:
    """An administrator accepts or declines an application or invitation, once."""
    if status not in ("applied", "invited"):
        raise Conflict(N_("This organisation's participation is already decided."))
    return "accepted" if accept else "declined"


# The closing evaluation: three scales (1 = not at all, 5 = very) and two free texts.
SCALES = ("useful", "advice", "use")


def check_ratings(given: Mapping[str, str | int | None]) -> dict[str, int]:
    """Every scale answered with a whole number from 1 to 5."""
    out = {}
    for key in SCALES:
        value = given.get(key)
        try:
            number = int(value) if value is not None else 0
        except ValueError:
            number = 0
        if not 1 <= number <= 5:
            raise InvalidAnswer(N_("Answer every scale with a number from 1 to 5."))
        out[key] = number
    return out


def evaluation_open(progress: Progress) -> bool:
    """The evaluation opens when the organisation reaches the last phase (the closing
    workshop) and stays open after it."""
    return progress.total > 0 and progress.done >= progress.total - 1


@dataclass(frozen=True)
class EvaluationSummary:
    responses: int
    means: dict[str, float | None]


def summarise(ratings: Iterable[Mapping[str, int]]) -> EvaluationSummary:
    rows = list(ratings)
    means: dict[str, float | None] = {}
    for key in SCALES:
        values = [r[key] for r in rows if key in r]
        means[key] = round(sum(values) / len(values), 2) if values else None
    return EvaluationSummary(responses=len(rows), means=means)
