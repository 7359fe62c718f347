"""Programmes: phases linked to events, courses, exams and tasks; the organisations that take
part, each with contacts, an activity plan, a versioned collaboration agreement, required
participation (read from the events' check-ins) and progress. The rules are in
``elearn.domain.programmes``; this module reads and writes the rows and flushes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from elearn.domain import programmes as rules
from elearn.domain.errors import N_, Conflict, InvalidAnswer, NotFound
from elearn.models import (
    AgreementVersion,
    Event,
    EventMaterial,
    EventRegistration,
    OrgUnit,
    Participation,
    ParticipationContact,
    Programme,
    ProgrammeActivity,
    ProgrammeEvaluation,
    ProgrammePhase,
    ProgrammePhaseLink,
    ProgrammeRequirement,
    ProgrammeStaff,
    StoredFile,
    User,
    UserRole,
)
from elearn.services import events as event_service
from elearn.services import files

ADVISING = ("adviser", "admin")
AGREEMENT_MAX_BYTES = 10 * 1024 * 1024


# --- programmes and phases ----------------------------------------------------------------------


def create_programme(
    *, session: Session, title: str, description: str, kind: str, actor_id: int, now: datetime
) -> Programme:
    if kind not in rules.KINDS:
        raise InvalidAnswer(N_("Choose a kind of programme."))
    if not title.strip():
        raise InvalidAnswer(N_("Give the programme a title."))
    programme = Programme(
        title=title.strip(),
        description=description,
        kind=kind,
        created_by_id=actor_id,
        created_at=now,
    )
    session.add(programme)
    session.flush()
    assert programme.id is not None
    if _is_adviser(session, actor_id):
        session.add(ProgrammeStaff(programme_id=programme.id, user_id=actor_id))
        session.flush()
    return programme


def _is_adviser(session: Session, user_id: int) -> bool:
    return (
        session.get(UserRole, (user_id, "adviser")) is not None
        or session.get(UserRole, (user_id, "admin")) is not None
    )


def staffed_by(*, session: Session, user_id: int, is_admin: bool) -> list[Programme]:
    query = select(Programme).order_by(col(Programme.title))
    if not is_admin:
        query = query.join(
            ProgrammeStaff, col(ProgrammeStaff.programme_id) == col(Programme.id)
        ).where(ProgrammeStaff.user_id == user_id)
    return list(session.exec(query))


def check_staff(*, session: Session, programme_id: int, user_id: int, is_admin: bool) -> Programme:
    """The programme, when the user runs it (or is an admin); otherwise "not found", so that
    nobody learns which programmes exist."""
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFound(N_("There is no such programme."))
    if not is_admin and session.get(ProgrammeStaff, (programme_id, user_id)) is None:
        raise NotFound(N_("There is no such programme."))
    return programme


def add_staff(*, session: Session, programme_id: int, email: str) -> User:
    from elearn.services import accounts

    user = accounts.find_user(session=session, email=email)
    if user is None or user.id is None or not _is_adviser(session, user.id):
        raise InvalidAnswer(N_("There is no adviser with that e-mail address."))
    if session.get(ProgrammeStaff, (programme_id, user.id)) is None:
        session.add(ProgrammeStaff(programme_id=programme_id, user_id=user.id))
        session.flush()
    return user


def staff_of(*, session: Session, programme_id: int) -> list[User]:
    return list(
        session.exec(
            select(User)
            .join(ProgrammeStaff, col(ProgrammeStaff.user_id) == col(User.id))
            .where(ProgrammeStaff.programme_id == programme_id)
            .order_by(col(User.name))
        )
    )


@dataclass(frozen=True)
class PhaseView:
    phase: ProgrammePhase
    links: list[ProgrammePhaseLink]
    requirements: list[ProgrammeRequirement]
    events: list[Event]


def phases(*, session: Session, programme_id: int) -> list[PhaseView]:
    found = list(
        session.exec(
            select(ProgrammePhase)
            .where(ProgrammePhase.programme_id == programme_id)
            .order_by(col(ProgrammePhase.position))
        )
    )
    ids = [p.id for p in found]
    links = list(
        session.exec(select(ProgrammePhaseLink).where(col(ProgrammePhaseLink.phase_id).in_(ids)))
    )
    reqs = list(
        session.exec(
            select(ProgrammeRequirement).where(col(ProgrammeRequirement.phase_id).in_(ids))
        )
    )
    event_ids = [int(link.ref) for link in links if link.kind == "event" and link.ref.isdigit()]
    events = {e.id: e for e in session.exec(select(Event).where(col(Event.id).in_(event_ids)))}
    out = []
    for p in found:
        mine = [link for link in links if link.phase_id == p.id]
        out.append(
            PhaseView(
                phase=p,
                links=mine,
                requirements=[r for r in reqs if r.phase_id == p.id],
                events=[
                    events[int(link.ref)]
                    for link in mine
                    if link.kind == "event" and link.ref.isdigit() and int(link.ref) in events
                ],
            )
        )
    return out


def add_phase(
    *,
    session: Session,
    programme_id: int,
    title: str,
    description: str,
    requires_agreement: bool,
    links: Sequence[tuple[str, str]],
    required_roles: Sequence[str],
) -> ProgrammePhase:
    """A phase at the end of the order, with what it consists of and who must take part."""
    if not title.strip():
        raise InvalidAnswer(N_("Give the phase a title."))
    for kind, ref in links:
        if kind not in rules.LINK_KINDS or not ref.strip():
            raise InvalidAnswer(N_("A phase links to an event, a course, an exam or a task."))
        if kind == "event" and (not ref.isdigit() or session.get(Event, int(ref)) is None):
            raise InvalidAnswer(N_("There is no such event."))
    last = session.exec(
        select(ProgrammePhase.position)
        .where(ProgrammePhase.programme_id == programme_id)
        .order_by(col(ProgrammePhase.position).desc())
    ).first()
    phase = ProgrammePhase(
        programme_id=programme_id,
        position=(last or 0) + 1,
        title=title.strip(),
        description=description,
        requires_agreement=requires_agreement,
    )
    session.add(phase)
    session.flush()
    assert phase.id is not None
    for kind, ref in links:
        session.add(ProgrammePhaseLink(phase_id=phase.id, kind=kind, ref=ref.strip()))
    for role in required_roles:
        if role.strip():
            session.add(ProgrammeRequirement(phase_id=phase.id, role=role.strip()[:100]))
    session.flush()
    return phase


# --- organisations ------------------------------------------------------------------------------


def top_level_units(*, session: Session) -> list[OrgUnit]:
    return list(
        session.exec(
            select(OrgUnit).where(col(OrgUnit.parent_id).is_(None)).order_by(col(OrgUnit.name))
        )
    )


def _top_level(session: Session, unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None or unit.parent_id is not None:
        raise InvalidAnswer(N_("Only an organisation (a top-level unit) can take part."))
    return unit


def invite(*, session: Session, programme_id: int, unit_id: int, now: datetime) -> Participation:
    """An adviser invites an organisation; an administrator still accepts it."""
    _top_level(session, unit_id)
    return _new_participation(session, programme_id, unit_id, "invited", now)


def apply(
    *, session: Session, programme_id: int, unit_id: int, user_id: int, now: datetime
) -> Participation:
    """A manager of the organisation applies for it to take part."""
    from elearn.services import accounts

    if session.get(Programme, programme_id) is None:
        raise NotFound(N_("There is no such programme."))
    _top_level(session, unit_id)
    if unit_id not in accounts.managed_units(session=session, user_id=user_id):
        raise rules.NotYours(N_("Only a manager of the organisation can apply for it."))
    return _new_participation(session, programme_id, unit_id, "applied", now)


def _new_participation(
    session: Session, programme_id: int, unit_id: int, status: str, now: datetime
) -> Participation:
    existing = session.exec(
        select(Participation).where(
            Participation.programme_id == programme_id, Participation.unit_id == unit_id
        )
    ).first()
    if existing is not None:
        raise Conflict(N_("The organisation is already in the programme or has applied."))
    row = Participation(programme_id=programme_id, unit_id=unit_id, status=status, created_at=now)
    session.add(row)
    session.flush()
    return row


def decide(
    *,
    session: Session,
    programme_id: int,
    participation_id: int,
    accept: bool,
    actor_id: int,
    now: datetime,
) -> Participation:
    row = participation(
        session=session, programme_id=programme_id, participation_id=participation_id
    )
    row.status = rules.check_decision(status=row.status, accept=accept)
    row.decided_at, row.decided_by_id = now, actor_id
    session.add(row)
    session.flush()
    return row


def participation(*, session: Session, programme_id: int, participation_id: int) -> Participation:
    row = session.get(Participation, participation_id)
    if row is None or row.programme_id != programme_id:
        raise NotFound(N_("There is no such organisation in this programme."))
    return row


def participations(*, session: Session, programme_id: int) -> list[tuple[Participation, OrgUnit]]:
    return list(
        session.exec(
            select(Participation, OrgUnit)
            .join(OrgUnit, col(OrgUnit.id) == col(Participation.unit_id))
            .where(Participation.programme_id == programme_id)
            .order_by(col(OrgUnit.name))
        )
    )


def add_contact(
    *, session: Session, participation_id: int, unit_id: int, email: str, role: str
) -> ParticipationContact:
    """A contact person belongs to the organisation (their unit is it or below it)."""
    from elearn.services import accounts

    user = accounts.find_user(session=session, email=email)
    if user is None or user.id is None:
        raise InvalidAnswer(N_("There is no account with that e-mail address."))
    path, _type = event_service.unit_path_of(session=session, unit_id=user.org_unit_id)
    if unit_id not in path:
        raise InvalidAnswer(N_("A contact person must belong to the organisation."))
    if not role.strip():
        raise InvalidAnswer(N_("Give the contact person's role."))
    row = session.exec(
        select(ParticipationContact).where(
            ParticipationContact.participation_id == participation_id,
            ParticipationContact.user_id == user.id,
        )
    ).first() or ParticipationContact(participation_id=participation_id, user_id=user.id, role="")
    row.role = role.strip()[:100]
    session.add(row)
    session.flush()
    return row


def contacts(*, session: Session, participation_id: int) -> list[tuple[ParticipationContact, User]]:
    return list(
        session.exec(
            select(ParticipationContact, User)
            .join(User, col(User.id) == col(ParticipationContact.user_id))
            .where(ParticipationContact.participation_id == participation_id)
            .order_by(col(User.name))
        )
    )


# --- the activity plan --------------------------------------------------------------------------


def add_activity(
    *,
    session: Session,
    participation_id: int,
    title: str,
    owner: str,
    due_on: date | None,
    notes: str,
    now: datetime,
) -> ProgrammeActivity:
    if not title.strip():
        raise InvalidAnswer(N_("Give the activity a title."))
    row = ProgrammeActivity(
        participation_id=participation_id,
        title=title.strip(),
        owner=owner.strip(),
        due_on=due_on,
        notes=notes,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def update_activity(
    *,
    session: Session,
    participation_id: int,
    activity_id: int,
    status: str,
    notes: str,
    now: datetime,
) -> ProgrammeActivity:
    row = session.get(ProgrammeActivity, activity_id)
    if row is None or row.participation_id != participation_id:
        raise NotFound(N_("There is no such activity."))
    if status not in rules.ACTIVITY_STATUSES:
        raise InvalidAnswer(N_("Choose a status."))
    row.status, row.notes, row.updated_at = status, notes, now
    session.add(row)
    session.flush()
    return row


def activities(*, session: Session, participation_id: int) -> list[ProgrammeActivity]:
    return list(
        session.exec(
            select(ProgrammeActivity)
            .where(ProgrammeActivity.participation_id == participation_id)
            .order_by(col(ProgrammeActivity.due_on), col(ProgrammeActivity.id))
        )
    )


# --- the collaboration agreement ----------------------------------------------------------------


def agreement_versions(*, session: Session, participation_id: int) -> list[AgreementVersion]:
    return list(
        session.exec(
            select(AgreementVersion)
            .where(AgreementVersion.participation_id == participation_id)
            .order_by(col(AgreementVersion.version))
        )
    )


def _plain(session: Session, rows: Sequence[AgreementVersion]) -> list[rules.AgreementVersion]:
    shas = {}
    file_ids = [r.file_id for r in rows if r.file_id is not None]
    if file_ids:
        shas = {
            f.id: f.sha256
            for f in session.exec(select(StoredFile).where(col(StoredFile.id).in_(file_ids)))
        }
    return [
        rules.AgreementVersion(
            version=r.version,
            text=r.text,
            file_sha256=shas.get(r.file_id) if r.file_id else None,
            approved_by=r.approved_by_id,
            approved_at=r.approved_at,
        )
        for r in rows
    ]


def draft_agreement(
    *,
    session: Session,
    participation_id: int,
    text: str,
    upload: files.Upload | None,
    instance_path: str,
    actor_id: int,
    now: datetime,
    max_bytes: int = AGREEMENT_MAX_BYTES,
) -> AgreementVersion:
    """A new version of the agreement (its text, and a PDF when one is attached); the
    organisation's contact must approve it, even when an earlier version was approved. A new
    version without a new file keeps the previous file."""
    import hashlib

    rows = agreement_versions(session=session, participation_id=participation_id)
    sha = hashlib.sha256(upload.data).hexdigest() if upload is not None else None
    number = rules.next_version(_plain(session, rows), text=text, file_sha256=sha)
    file_id = rows[-1].file_id if rows else None
    if upload is not None:
        stored = files.store(
            session=session,
            instance_path=instance_path,
            upload=upload,
            now=now,
            allowed=("application/pdf",),
            max_bytes=max_bytes,
        )
        file_id = stored.id
    row = AgreementVersion(
        participation_id=participation_id,
        version=number,
        text=text,
        file_id=file_id,
        drafted_by_id=actor_id,
        drafted_at=now,
    )
    session.add(row)
    session.flush()
    return row


def approve_agreement(
    *, session: Session, participation_id: int, version: int, user_id: int, now: datetime
) -> AgreementVersion:
    part = session.get(Participation, participation_id)
    user = session.get(User, user_id)
    if part is None or user is None:
        raise NotFound(N_("There is no such organisation in this programme."))
    path, _type = event_service.unit_path_of(session=session, unit_id=user.org_unit_id)
    is_contact = (
        session.exec(
            select(ParticipationContact).where(
                ParticipationContact.participation_id == participation_id,
                ParticipationContact.user_id == user_id,
            )
        ).first()
        is not None
    )
    rows = agreement_versions(session=session, participation_id=participation_id)
    rules.check_approval(
        _plain(session, rows),
        version=version,
        approver_units=path,
        organisation_unit=part.unit_id,
        is_contact=is_contact,
    )
    row = rows[-1]
    row.approved_by_id, row.approved_at = user_id, now
    session.add(row)
    session.flush()
    return row


def agreement_state(*, session: Session, participation_id: int) -> str:
    rows = agreement_versions(session=session, participation_id=participation_id)
    return rules.agreement_state(_plain(session, rows))


def agreement_file(*, session: Session, participation_id: int, version: int) -> AgreementVersion:
    row = session.exec(
        select(AgreementVersion).where(
            AgreementVersion.participation_id == participation_id,
            AgreementVersion.version == version,
        )
    ).first()
    if row is None or row.file_id is None:
        raise NotFound(N_("There is no such file."))
    return row


# --- required participation and progress -------------------------------------------------------


@dataclass(frozen=True)
class RequirementView:
    phase: ProgrammePhase
    role: str
    met: bool


def _attended(session: Session, event_ids: Sequence[int], user_ids: Sequence[int]) -> set[int]:
    if not event_ids or not user_ids:
        return set()
    return {
        uid
        for uid in session.exec(
            select(EventRegistration.user_id).where(
                col(EventRegistration.event_id).in_(event_ids),
                col(EventRegistration.user_id).in_(user_ids),
                col(EventRegistration.checked_in_at).is_not(None),
            )
        )
        if uid is not None
    }


def requirements(
    *, session: Session, programme_id: int, participation_id: int, phase_views: Sequence[PhaseView]
) -> list[RequirementView]:
    """Each phase's required roles, met when a contact with the role was checked in at one of
    the phase's events."""
    people = {
        c.user_id: c.role for c, _u in contacts(session=session, participation_id=participation_id)
    }
    out = []
    for view in phase_views:
        attended = _attended(session, [e.id or 0 for e in view.events], list(people))
        for req in view.requirements:
            met = rules.requirement_met(
                rules.Requirement(phase=view.phase.position, role=req.role),
                contacts=people,
                attended=attended,
            )
            out.append(RequirementView(phase=view.phase, role=req.role, met=met))
    return out


def progress_of(*, part: Participation, phase_views: Sequence[PhaseView]) -> rules.Progress:
    return rules.progress(done=part.phases_done, positions=[v.phase.position for v in phase_views])


def complete_phase(
    *, session: Session, programme_id: int, participation_id: int, now: datetime
) -> Participation:
    """The adviser marks the organisation's current phase complete, when its rules allow."""
    part = participation(
        session=session, programme_id=programme_id, participation_id=participation_id
    )
    views = phases(session=session, programme_id=programme_id)
    prog = progress_of(part=part, phase_views=views)
    current = next((v for v in views if v.phase.position == prog.current), None)
    unmet = [
        r.role
        for r in requirements(
            session=session,
            programme_id=programme_id,
            participation_id=participation_id,
            phase_views=[current] if current else [],
        )
        if not r.met
    ]
    rules.check_complete_phase(
        accepted=part.status == "accepted",
        finished=prog.finished,
        unmet=unmet,
        needs_agreement=bool(current and current.phase.requires_agreement),
        agreement=agreement_state(session=session, participation_id=participation_id),
    )
    part.phases_done += 1
    session.add(part)
    session.flush()
    if rules.evaluation_open(progress_of(part=part, phase_views=views)):
        invite_to_evaluation(session=session, part=part, now=now)
    return part


# --- the contact's side -------------------------------------------------------------------------


def contact_of(*, session: Session, user_id: int) -> list[tuple[Participation, Programme, OrgUnit]]:
    return list(
        session.exec(
            select(Participation, Programme, OrgUnit)
            .join(
                ParticipationContact,
                col(ParticipationContact.participation_id) == col(Participation.id),
            )
            .join(Programme, col(Programme.id) == col(Participation.programme_id))
            .join(OrgUnit, col(OrgUnit.id) == col(Participation.unit_id))
            .where(ParticipationContact.user_id == user_id)
            .order_by(col(Programme.title))
        )
    )


def check_contact(*, session: Session, participation_id: int, user_id: int) -> Participation:
    part = session.get(Participation, participation_id)
    if (
        part is None
        or session.exec(
            select(ParticipationContact).where(
                ParticipationContact.participation_id == participation_id,
                ParticipationContact.user_id == user_id,
            )
        ).first()
        is None
    ):
        raise NotFound(N_("There is no such organisation in this programme."))
    return part


# --- the adviser's dashboard --------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardRow:
    participation: Participation
    unit: OrgUnit
    phase_title: str  # the current phase, or "" when finished / not accepted
    progress: rules.Progress
    agreement: str
    overdue: list[ProgrammeActivity]
    missing: list[RequirementView]
    next_events: list[Event]


def dashboard(
    *, session: Session, programme_id: int, today: date, now: datetime
) -> list[DashboardRow]:
    views = phases(session=session, programme_id=programme_id)
    out = []
    for part, unit in participations(session=session, programme_id=programme_id):
        assert part.id is not None
        prog = progress_of(part=part, phase_views=views)
        current = next((v for v in views if v.phase.position == prog.current), None)
        reached = [v for v in views if v.phase.position <= (prog.current or 10**6)]
        missing = [
            r
            for r in requirements(
                session=session,
                programme_id=programme_id,
                participation_id=part.id,
                phase_views=reached,
            )
            if not r.met
        ]
        upcoming = [
            e
            for v in views
            if v.phase.position >= (prog.current or 10**6)
            for e in v.events
            if e.starts_at >= now and e.cancelled_at is None
        ]
        out.append(
            DashboardRow(
                participation=part,
                unit=unit,
                phase_title=current.phase.title if current and part.status == "accepted" else "",
                progress=prog,
                agreement=agreement_state(session=session, participation_id=part.id),
                overdue=[
                    a
                    for a in activities(session=session, participation_id=part.id)
                    if rules.overdue(due_on=a.due_on, status=a.status, today=today)
                ],
                missing=missing,
                next_events=sorted(upcoming, key=lambda e: e.starts_at)[:3],
            )
        )
    return out


# --- the closing evaluation ---------------------------------------------------------------------


def invite_to_evaluation(*, session: Session, part: Participation, now: datetime) -> int:
    """E-mail each contact person the link to the closing evaluation, once each."""
    from elearn.services import mail

    programme = session.get(Programme, part.programme_id)
    assert programme is not None and part.id is not None
    base = event_service.site_of(session=session).base_url.rstrip("/")
    sent = 0
    for contact, user in contacts(session=session, participation_id=part.id):
        queued = mail.queue_mail(
            session,
            to=user.email,
            template="programmes/evaluation",
            lang=user.locale or "nb",
            context={
                "name": user.name,
                "title": programme.title,
                "url": f"{base}/me/programmes/{part.id}/evaluation",
            },
            dedupe_key=f"programme-evaluation:{part.id}:{contact.user_id}",
            now=now,
        )
        sent += queued is not None
    return sent


def evaluation_of(
    *, session: Session, participation_id: int, user_id: int
) -> ProgrammeEvaluation | None:
    return session.exec(
        select(ProgrammeEvaluation).where(
            ProgrammeEvaluation.participation_id == participation_id,
            ProgrammeEvaluation.user_id == user_id,
        )
    ).first()


def evaluate(
    *,
    session: Session,
    participation_id: int,
    user_id: int,
    ratings: dict[str, str | int | None],
    gained: str,
    improve: str,
    now: datetime,
) -> ProgrammeEvaluation:
    """A contact person's closing evaluation: once the last phase is reached, once each."""
    part = check_contact(session=session, participation_id=participation_id, user_id=user_id)
    views = phases(session=session, programme_id=part.programme_id)
    if not rules.evaluation_open(progress_of(part=part, phase_views=views)):
        raise Conflict(N_("The evaluation opens at the closing phase."))
    if evaluation_of(session=session, participation_id=participation_id, user_id=user_id):
        raise Conflict(N_("You have already answered the evaluation. Thank you."))
    row = ProgrammeEvaluation(
        participation_id=participation_id,
        user_id=user_id,
        ratings=rules.check_ratings(ratings),
        gained=gained,
        improve=improve,
        submitted_at=now,
    )
    session.add(row)
    session.flush()
    return row


def evaluations(
    *, session: Session, programme_id: int
) -> list[tuple[ProgrammeEvaluation, OrgUnit]]:
    return list(
        session.exec(
            select(ProgrammeEvaluation, OrgUnit)
            .join(Participation, col(Participation.id) == col(ProgrammeEvaluation.participation_id))
            .join(OrgUnit, col(OrgUnit.id) == col(Participation.unit_id))
            .where(Participation.programme_id == programme_id)
            .order_by(col(OrgUnit.name), col(ProgrammeEvaluation.submitted_at))
        )
    )


def evaluation_summaries(
    *, session: Session, programme_id: int
) -> tuple[rules.EvaluationSummary, list[tuple[OrgUnit, rules.EvaluationSummary]]]:
    """The programme's summary, and each organisation's."""
    rows = evaluations(session=session, programme_id=programme_id)
    by_unit: dict[int, tuple[OrgUnit, list[dict[str, int]]]] = {}
    for ev, unit in rows:
        by_unit.setdefault(unit.id or 0, (unit, []))[1].append(ev.ratings)
    return (
        rules.summarise(ev.ratings for ev, _u in rows),
        [(unit, rules.summarise(r)) for unit, r in by_unit.values()],
    )


# --- networks: members, meetings and their archive ----------------------------------------------


def check_member(*, session: Session, programme_id: int, user_id: int) -> Programme:
    """A network's page is for its members: contact people of its accepted organisations."""
    programme = session.get(Programme, programme_id)
    member = session.exec(
        select(ParticipationContact.id)
        .join(Participation, col(Participation.id) == col(ParticipationContact.participation_id))
        .where(
            Participation.programme_id == programme_id,
            Participation.status == "accepted",
            ParticipationContact.user_id == user_id,
        )
    ).first()
    if programme is None or member is None:
        raise NotFound(N_("There is no such programme."))
    return programme


def members(
    *, session: Session, programme_id: int
) -> list[tuple[OrgUnit, ParticipationContact, User]]:
    return list(
        session.exec(
            select(OrgUnit, ParticipationContact, User)
            .join(Participation, col(Participation.unit_id) == col(OrgUnit.id))
            .join(
                ParticipationContact,
                col(ParticipationContact.participation_id) == col(Participation.id),
            )
            .join(User, col(User.id) == col(ParticipationContact.user_id))
            .where(Participation.programme_id == programme_id, Participation.status == "accepted")
            .order_by(col(OrgUnit.name), col(User.name))
        )
    )


def meetings(
    *, session: Session, programme_id: int
) -> list[tuple[Event, list[tuple[EventMaterial, StoredFile]]]]:
    """The programme's events (its meetings), newest first, each with its materials
    (presentations, minutes) as the organisers uploaded them."""
    found = {e.id: e for v in phases(session=session, programme_id=programme_id) for e in v.events}
    ordered = sorted(found.values(), key=lambda e: e.starts_at, reverse=True)
    return [(e, event_service.materials(session=session, event_id=e.id or 0)) for e in ordered]


def archive_material(*, session: Session, programme_id: int, material_id: int) -> EventMaterial:
    """A material of one of the programme's meetings; anything else is "not found"."""
    row = session.get(EventMaterial, material_id)
    ids = {e.id for v in phases(session=session, programme_id=programme_id) for e in v.events}
    if row is None or row.event_id not in ids:
        raise NotFound(N_("There is no such file."))
    return row


def event_choices(*, session: Session, limit: int = 200) -> list[Event]:
    """The newest events, for linking to a phase."""
    return list(session.exec(select(Event).order_by(col(Event.starts_at).desc()).limit(limit)))


def all_programmes(*, session: Session) -> list[Programme]:
    return list(session.exec(select(Programme).order_by(col(Programme.title))))
