"""Demo programmes: a Rejsehold-like advisory programme with three organisations in different
phases, and a network of public buyers with past meetings. Made once (no programme exists)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from elearn.domain.events import SessionTime
from elearn.models import (
    Event,
    EventMaterial,
    EventRegistration,
    OrgUnit,
    Participation,
    Programme,
    ProgrammeEvaluation,
    User,
)
from elearn.services import accounts, events, files
from elearn.services import programmes as service

ADVISER = ("adviser@example.org", "Astrid Rådgiver")
# Organisations (top-level units) and their contact people: (e-mail, name, role).
ORGANISATIONS: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "Nordby kommune",
        "municipality",
        (
            ("indkobschef@nordby.example.org", "Nina Nordby", "Head of procurement"),
            ("miljo@nordby.example.org", "Mads Miljø", "Environmental coordinator"),
        ),
    ),
    (
        "Sydby kommune",
        "municipality",
        (("indkobschef@sydby.example.org", "Sofie Sydby", "Head of procurement"),),
    ),
    (
        "Region Vest (demo)",
        "county",
        (("indkobschef@regionvest.example.org", "Rasmus Vest", "Head of procurement"),),
    ),
)
HEAD = "Head of procurement"
# The accounts the programme demo adds beside elearn.services.demo.DEMO_USERS.
PEOPLE = tuple(email for _n, _t, contacts in ORGANISATIONS for email, _p, _r in contacts)


def create_demo_programmes(
    *, session: Session, now: datetime, password: str, instance_path: str | None = None
) -> None:
    if session.exec(select(Programme)).first() is not None:
        return
    adviser = accounts.find_user(session=session, email=ADVISER[0])
    if adviser is None:
        adviser = accounts.create_user(
            session=session,
            email=ADVISER[0],
            name=ADVISER[1],
            password=password,
            now=now,
            roles=("adviser",),
            org_unit_id=None,
        )
    assert adviser.id is not None
    people: dict[str, User] = {}
    units = []
    for name, org_type, contacts in ORGANISATIONS:
        unit = accounts.ensure_unit_path(session=session, path=name)
        unit.org_type = org_type
        session.add(unit)
        units.append(unit)
        for email, person, _role in contacts:
            user = accounts.find_user(session=session, email=email) or accounts.create_user(
                session=session,
                email=email,
                name=person,
                password=password,
                now=now,
                roles=("learner",),
                org_unit_id=unit.id,
            )
            people[email] = user
    session.flush()
    _rejsehold(session, now, adviser.id, units, people)
    _network(session, now, adviser.id, people, instance_path)


def _event(
    session: Session,
    creator: int,
    now: datetime,
    *,
    kind: str,
    title: str,
    days: int,
    place: str,
) -> Event:
    start = (now + timedelta(days=days)).replace(hour=8, minute=0, second=0, microsecond=0)
    made_at = min(now, start - timedelta(days=30))  # a past meeting was planned before it
    draft = events.Draft(
        kind=kind,
        language="da",
        title={"da": title, "en": title},
        description={"da": "Demo.", "en": "Demo."},
        sessions=[
            SessionTime(
                start.replace(tzinfo=None),
                (start + timedelta(hours=3)).replace(tzinfo=None),
                "Europe/Copenhagen",
            )
        ],
        deadline=start - timedelta(days=2),
        place=place,
        capacity_in_person=60,
        contact_name=ADVISER[1],
        contact_email=ADVISER[0],
    )
    return events.create_event(
        session=session, draft=draft, organiser_ids=[], created_by=creator, now=made_at
    )


def _attend(session: Session, event: Event, user: User, now: datetime) -> None:
    session.add(
        EventRegistration(
            event_id=event.id or 0,
            user_id=user.id,
            nonce=secrets.token_hex(12),
            name=user.name,
            email=user.email,
            mode="in_person",
            language="da",
            status="confirmed",
            created_at=event.created_at,
            confirmed_at=event.created_at,
            checked_in_at=event.starts_at if event.starts_at <= now else None,
        )
    )


def _rejsehold(
    session: Session, now: datetime, adviser: int, units: list[OrgUnit], people: dict[str, User]
) -> None:
    programme = service.create_programme(
        session=session,
        title="Rejseholdet for grønne indkøb (demo)",
        description=(
            "Et illustrativt rådgivningsforløb efter Rejseholdets model: fælles opstart, "
            "startmøde i organisationen, rådgivningsaktiviteter og fælles afslutning."
        ),
        kind="advisory",
        actor_id=adviser,
        now=now,
    )
    assert programme.id is not None
    kickoff = _event(
        session,
        adviser,
        now,
        kind="workshop",
        title="Rejseholdet: fælles opstartsworkshop",
        days=-60,
        place="Miljøstyrelsen, København",
    )
    start_meeting = _event(
        session,
        adviser,
        now,
        kind="workshop",
        title="Rejseholdet: startmøder i organisationerne",
        days=-40,
        place="Hos organisationen",
    )
    closing = _event(
        session,
        adviser,
        now,
        kind="workshop",
        title="Rejseholdet: fælles afslutningsworkshop",
        days=21,
        place="Miljøstyrelsen, København",
    )
    service.add_phase(
        session=session,
        programme_id=programme.id,
        title="Fælles opstartsworkshop",
        description="",
        requires_agreement=False,
        links=[("event", str(kickoff.id))],
        required_roles=[],
    )
    service.add_phase(
        session=session,
        programme_id=programme.id,
        title="Startmøde i organisationen",
        description="Indkøbschefen deltager; aktivitetsplan og samarbejdsaftale aftales.",
        requires_agreement=True,
        links=[("event", str(start_meeting.id))],
        required_roles=[HEAD],
    )
    service.add_phase(
        session=session,
        programme_id=programme.id,
        title="Rådgivningsaktiviteter",
        description="",
        requires_agreement=False,
        links=[
            ("task", "Gennemfør aktiviteterne i aktivitetsplanen"),
            ("course", "sustainability-intro"),
        ],
        required_roles=[],
    )
    service.add_phase(
        session=session,
        programme_id=programme.id,
        title="Fælles afslutningsworkshop med evaluering",
        description="",
        requires_agreement=False,
        links=[("event", str(closing.id))],
        required_roles=[],
    )
    today = now.date()
    agreement = (
        "Samarbejdsaftale mellem Rejseholdet og {org}.\n\n"
        "1. Formål: at styrke grønne indkøb gennem konkrete rådgivningsaktiviteter.\n"
        "2. Aktiviteter: som i aktivitetsplanen.\n"
        "3. Organisationen stiller indkøbschefen og relevante fagpersoner til rådighed."
    )
    # Nordby: at the start meeting, its agreement drafted and awaiting approval; the head of
    # procurement was not at the start meeting (missing on the dashboard).
    # Sydby: in the advisory activities, two of them overdue.
    # Region Vest: every phase complete (evaluated).
    plans = (
        (units[0], 1, False, [("Kortlæg de største indkøbsområder", "Nina Nordby", 20, "planned")]),
        (
            units[1],
            2,
            True,
            [
                (
                    "Livscyklusomkostninger i udbuddet af rengøringsmidler",
                    "Sofie Sydby",
                    -10,
                    "in_progress",
                ),
                ("Miljøkrav til møbler: markedsdialog", "Sofie Sydby", -3, "planned"),
                ("Indkøbspolitik opdateret", "Sofie Sydby", -30, "done"),
            ],
        ),
        (units[2], 4, True, [("TCO-værktøj brugt i to udbud", "Rasmus Vest", -20, "done")]),
    )
    for unit, done, approved, activities in plans:
        assert unit.id is not None
        part = Participation(
            programme_id=programme.id,
            unit_id=unit.id,
            status="accepted",
            phases_done=done,
            created_at=now - timedelta(days=70),
            decided_at=now - timedelta(days=65),
        )
        session.add(part)
        session.flush()
        assert part.id is not None
        contacts = next(c for n, _t, c in ORGANISATIONS if n == unit.name)
        for email, _name, role in contacts:
            service.add_contact(
                session=session, participation_id=part.id, unit_id=unit.id, email=email, role=role
            )
            user = people[email]
            _attend(session, kickoff, user, now)
            if done >= 2 and role == HEAD:
                _attend(session, start_meeting, user, now)
        version = service.draft_agreement(
            session=session,
            participation_id=part.id,
            text=agreement.format(org=unit.name),
            upload=None,
            instance_path="",
            actor_id=adviser,
            now=now - timedelta(days=41),
        )
        if approved:
            version.approved_by_id = people[contacts[0][0]].id
            version.approved_at = now - timedelta(days=39)
            session.add(version)
        if done == 4:  # evaluated at the closing workshop
            session.add(
                ProgrammeEvaluation(
                    participation_id=part.id,
                    user_id=people[contacts[0][0]].id or 0,
                    ratings={"useful": 5, "advice": 4, "use": 4},
                    gained="Et TCO-værktøj, vi nu bruger i alle større udbud (illustrativt).",
                    improve="Mere tid til markedsdialog.",
                    submitted_at=now - timedelta(days=5),
                )
            )
        for title, owner, due, status in activities:
            row = service.add_activity(
                session=session,
                participation_id=part.id,
                title=title,
                owner=owner,
                due_on=today + timedelta(days=due),
                notes="",
                now=now,
            )
            row.status = status
            session.add(row)
    session.flush()


def _network(
    session: Session,
    now: datetime,
    adviser: int,
    people: dict[str, User],
    instance_path: str | None,
) -> None:
    network = service.create_programme(
        session=session,
        title="Tænketank for offentlige indkøbere (demo)",
        description=(
            "Et netværk af offentlige indkøbere, der mødes om temaer og deler oplæg og cases."
        ),
        kind="network",
        actor_id=adviser,
        now=now,
    )
    assert network.id is not None
    themes = (
        ("Netværksmøde: den grønne indkøbsstrategi", -90),
        ("Netværksmøde: totalomkostninger (TCO)", -45),
        ("Netværksmøde: kontraktperioden og opfølgning", 30),
    )
    links = []
    for title, days in themes:
        meeting = _event(
            session,
            adviser,
            now,
            kind="network",
            title=title,
            days=days,
            place="Online og i København",
        )
        links.append(("event", str(meeting.id)))
        for user in people.values():
            _attend(session, meeting, user, now)
        if instance_path and meeting.starts_at < now:
            for kind in ("Oplæg", "Referat"):
                stored = files.store(
                    session=session,
                    instance_path=instance_path,
                    upload=files.Upload(f"{kind} {title}.pdf", _pdf(f"{kind}: {title}")),
                    now=now,
                )
                session.add(
                    EventMaterial(
                        event_id=meeting.id or 0,
                        file_id=stored.id or 0,
                        title=f"{kind} (demo)",
                        uploaded_by_id=adviser,
                        uploaded_at=now,
                    )
                )
    service.add_phase(
        session=session,
        programme_id=network.id,
        title="Netværksmøder",
        description="",
        requires_agreement=False,
        links=links,
        required_roles=[],
    )
    for unit_name, email in (
        ("Nordby kommune", "indkobschef@nordby.example.org"),
        ("Sydby kommune", "indkobschef@sydby.example.org"),
    ):
        unit = accounts.ensure_unit_path(session=session, path=unit_name)
        assert unit.id is not None
        part = Participation(
            programme_id=network.id,
            unit_id=unit.id,
            status="accepted",
            created_at=now - timedelta(days=100),
        )
        session.add(part)
        session.flush()
        assert part.id is not None
        service.add_contact(
            session=session, participation_id=part.id, unit_id=unit.id, email=email, role=HEAD
        )
    session.flush()


def _pdf(text: str) -> bytes:
    """A one-page PDF showing one line (ASCII), for the demo archive."""
    line = text.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 14 Tf 56 780 Td (" + line + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
