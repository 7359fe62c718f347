"""The demo municipality and its users, for trying elearn out. Idempotent."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from elearn.domain.errors import NotFound
from elearn.domain.events import SessionTime
from elearn.models import Assignment, Event, EventRegistration, ManagerUnit
from elearn.services import accounts, cases, certificates, events, exams, learning, reports

DEMO_PASSWORD = "elearn-demo"
MUNICIPALITY = "Eksempel kommune"
DEPARTMENTS = ("Innkjøp", "Helse og omsorg", "Teknisk drift", "Oppvekst og utdanning")
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    ("learner@example.org", "Lena Læring", ("learner",), "Innkjøp"),
    ("learner2@example.org", "Lars Lærling", ("learner",), "Helse og omsorg"),
    ("manager@example.org", "Magnus Leder", ("manager", "learner"), None),
    ("certifier@example.org", "Sara Sertifisør", ("certifier",), None),
    ("admin@example.org", "Ada Admin", ("admin",), None),
    # The panel of a standard-setting study (modified Angoff).
    ("panellist@example.org", "Pernille Panel", ("panellist",), None),
    ("panellist2@example.org", "Per Paneldeltaker", ("panellist",), None),
    # Holders of the demo certificates: one valid, one revoked, one expired.
    ("kari.gyldig@example.org", "Kari Gyldig", ("learner",), "Innkjøp"),
    ("rune.tilbakekalt@example.org", "Rune Tilbakekalt", ("learner",), "Teknisk drift"),
    ("eva.utlopt@example.org", "Eva Utløpt", ("learner",), "Oppvekst og utdanning"),
    # A second certifier, who also sits exams: the first signs off hers, she signs off others'
    # (no one acts as certifier on their own attempts or certificates: decision 0013).
    ("certifier2@example.org", "Siri Sensor", ("certifier", "learner"), "Innkjøp"),
    # Reviews and publishes the case bank's cases (decision 0020).
    ("editor@example.org", "Eli Redaktør", ("editor",), None),
    # Runs the demo events: sees their participants, checks people in, uploads materials.
    ("organiser@example.org", "Olav Arrangør", ("organiser",), None),
    # Runs the demo programmes (elearn.services.programme_demo).
    ("adviser@example.org", "Astrid Rådgiver", ("adviser",), None),
)
CERTIFIERS = ("certifier@example.org", "certifier2@example.org")


def create_demo(
    *,
    session: Session,
    now: datetime,
    authority: certificates.Authority | None = None,
    cases_dir: Path | None = None,
    instance_path: str | None = None,
) -> list[str]:
    """Create what is missing; returns the e-mail addresses created this time."""
    for unit_name in DEPARTMENTS:
        accounts.ensure_unit_path(session=session, path=f"{MUNICIPALITY}/{unit_name}")
    created = []
    for email, name, roles, department in DEMO_USERS:
        if accounts.find_user(session=session, email=email) is not None:
            continue
        path = f"{MUNICIPALITY}/{department}" if department else MUNICIPALITY
        unit = accounts.ensure_unit_path(session=session, path=path)
        accounts.create_user(
            session=session,
            email=email,
            name=name,
            password=DEMO_PASSWORD,
            now=now,
            roles=roles,
            org_unit_id=unit.id,
        )
        created.append(email)
    for email in ("learner@example.org", "certifier2@example.org"):
        _complete_exam_courses(session, email, now)
    _demo_manager(session, now)
    _demo_events(session, now)
    from elearn.services.programme_demo import create_demo_programmes

    create_demo_programmes(
        session=session, now=now, password=DEMO_PASSWORD, instance_path=instance_path
    )
    if authority is not None:
        _demo_certificates(session, authority, now)
    if cases_dir is not None and cases_dir.is_dir():
        _demo_cases(session, cases_dir, now)
    return created


CASE_WRITER = "learner2@example.org"
CASE_EDITOR = "editor@example.org"


def _demo_cases(session: Session, folder: Path, now: datetime) -> None:
    """The shipped cases (cases/*.yaml), written by a participant and published by the editor."""
    writer = accounts.find_user(session=session, email=CASE_WRITER)
    editor = accounts.find_user(session=session, email=CASE_EDITOR)
    assert writer is not None and editor is not None
    assert writer.id is not None and editor.id is not None
    cases.load_demo_cases(
        session=session,
        files=cases.read_case_files(folder=folder),
        owner_id=writer.id,
        editor_id=editor.id,
        now=now,
    )


def _demo_certificates(session: Session, authority: certificates.Authority, now: datetime) -> None:
    """One valid, one revoked and one expired certificate, for trying the verify page."""
    certifying = [v for v in exams.active_exams(session=session) if v.spec.certificate.issue]
    if not certifying:
        return
    view = certifying[0]
    certifier = accounts.find_user(session=session, email=CERTIFIERS[0])
    assert certifier is not None and certifier.id is not None
    cases = (
        ("kari.gyldig@example.org", now - timedelta(days=30), now + timedelta(days=3 * 365), None),
        (
            "rune.tilbakekalt@example.org",
            now - timedelta(days=60),
            now + timedelta(days=3 * 365),
            "Demo: issued on a mistaken result.",
        ),
        ("eva.utlopt@example.org", now - timedelta(days=4 * 365), now - timedelta(days=365), None),
    )
    for email, issued, until, revoked in cases:
        user = accounts.find_user(session=session, email=email)
        if user is None or certificates.of_user(session=session, user_id=user.id or 0):
            continue
        cert = certificates.issue_demo(
            session=session,
            authority=authority,
            user=user,
            exam_id=view.exam.id,
            spec=view.spec,
            issued_at=issued,
            valid_until=until,
            now=now,
        )
        if revoked:
            certificates.revoke(
                session=session,
                code=cert.code,
                reason=revoked,
                revoker_id=certifier.id,
                now=issued + timedelta(days=1),
            )


def _complete_exam_courses(session: Session, email: str, now: datetime) -> None:
    """A demo learner has done the courses exams require, so a newcomer can sit one at once."""
    user = accounts.find_user(session=session, email=email)
    assert user is not None and user.id is not None
    for view in exams.active_exams(session=session):
        if view.spec.course is None:
            continue
        try:
            course = learning.load_course(session=session, course_id=view.spec.course)
        except NotFound:
            continue
        for module in course.modules:
            learning.open_module(
                session=session,
                user_id=user.id,
                course_id=course.spec.id,
                module_id=module.id,
                now=now,
            )
            learning.complete_module(
                session=session, user_id=user.id, view=course, module_id=module.id, now=now
            )


def _demo_manager(session: Session, now: datetime) -> None:
    """The demo manager looks after the whole municipality, which must finish the course soon."""
    manager = accounts.find_user(session=session, email="manager@example.org")
    root = accounts.ensure_unit_path(session=session, path=MUNICIPALITY)
    if manager is None or manager.id is None or root.id is None:
        return
    if not session.get(ManagerUnit, (manager.id, root.id)):
        accounts.set_managed_units(
            session=session, user_id=manager.id, unit_ids=[root.id], actor_id=None, now=now
        )
    course = next(
        (t for t in reports.targets(session=session, lang="nb") if t.kind == "course"), None
    )
    if course is not None and not session.exec(select(Assignment)).first():
        reports.assign(
            session=session,
            unit_id=root.id,
            target=course,
            due_at=now + timedelta(days=30),
            actor_id=manager.id,
            now=now,
        )


def _demo_events(session: Session, now: datetime) -> None:
    """Upcoming events of each kind: in person, online, hybrid, one full with a waiting list,
    one for certain organisation types only. Made once (none exists yet)."""
    if session.exec(select(Event)).first() is not None:
        return
    organiser = accounts.find_user(session=session, email="organiser@example.org")
    if organiser is None or organiser.id is None:
        return
    root = accounts.ensure_unit_path(session=session, path=MUNICIPALITY)
    if root.org_type is None:
        root.org_type = "municipality"
    day = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)

    def at(days: int, hour: int, minutes: int = 0) -> datetime:
        """``days`` ahead, moved on to a Monday to Thursday (so a two-day workshop is on
        weekdays)."""
        when = day + timedelta(days=days)
        while when.weekday() >= 4:
            when += timedelta(days=1)
        return when.replace(hour=hour, minute=minutes, tzinfo=None)

    drafts = [
        events.Draft(
            kind="information",
            language="nb",
            title={
                "nb": "Informasjonsmøte: bærekraftige anskaffelser i kommunen",
                "en": "Information meeting: sustainable procurement in the municipality",
            },
            description={
                "nb": "Hva sier regelverket, og hvordan kommer vi i gang? Kaffe fra 08.30.",
                "en": "What the rules say, and how to begin. Coffee from 8.30.",
            },
            sessions=[SessionTime(at(9, 9), at(9, 11), "Europe/Oslo")],
            deadline=(at(9, 9) - timedelta(days=2)).replace(tzinfo=UTC),
            place="Rådhuset, Storgata 1, 0155 Oslo",
            capacity_in_person=40,
            questions=["Allergier eller matbehov?"],
            contact_name="Olav Arrangør",
            contact_email="organiser@example.org",
        ),
        events.Draft(
            kind="webinar",
            language="da",
            title={
                "da": "Webinar: klimakrav i udbud",
                "en": "Webinar: climate requirements in tenders",
            },
            description={
                "da": "Hvordan stiller man klimakrav, der kan kontrolleres?",
                "en": "How to set climate requirements that can be checked.",
            },
            sessions=[SessionTime(at(12, 13), at(12, 14), "Europe/Copenhagen")],
            deadline=(at(12, 13) - timedelta(hours=3)).replace(tzinfo=UTC),
            online_url="https://meet.example.org/klimakrav",
            capacity_online=200,
            contact_name="Olav Arrangør",
            contact_email="organiser@example.org",
        ),
        events.Draft(
            kind="workshop",
            language="nb",
            title={
                "nb": "Verksted: dilemmatrening i etisk handel",
                "en": "Workshop: dilemma training in ethical trade",
            },
            description={
                "nb": "To halve dager med case og diskusjon, på stedet eller på nett.",
                "en": "Two half days of cases and discussion, in person or online.",
            },
            sessions=[
                SessionTime(at(20, 9), at(20, 12), "Europe/Oslo"),
                SessionTime(
                    at(20, 9) + timedelta(days=1), at(20, 12) + timedelta(days=1), "Europe/Oslo"
                ),
            ],
            deadline=(at(20, 9) - timedelta(days=3)).replace(tzinfo=UTC),
            place="Kulturhuset, Kirkegata 5, Drammen",
            capacity_in_person=20,
            online_url="https://meet.example.org/dilemma",
            capacity_online=50,
            questions=["Allergier eller matbehov?", "Hva ønsker du å diskutere?"],
            contact_name="Olav Arrangør",
            contact_email="organiser@example.org",
        ),
        events.Draft(
            kind="network",
            language="nb",
            title={"nb": "Nettverksmøte for innkjøpere", "en": "Network meeting for buyers"},
            description={
                "nb": "Temamøte om dokumentasjon av leverandørkjeder. "
                "Presentasjonene deles etterpå.",
                "en": "Themed meeting on documenting supply chains. Slides are shared afterwards.",
            },
            sessions=[SessionTime(at(5, 14), at(5, 16), "Europe/Oslo")],
            deadline=(at(5, 14) - timedelta(days=1)).replace(tzinfo=UTC),
            place="Innkjøpshuset, Bergen",
            capacity_in_person=2,
            contact_name="Olav Arrangør",
            contact_email="organiser@example.org",
        ),
        events.Draft(
            kind="information",
            language="nb",
            title={
                "nb": "Informasjonsmøte for offentlige innkjøpere",
                "en": "Information meeting for public buyers",
            },
            description={
                "nb": "Kun for innkjøpere i kommuner, fylkeskommuner og statlige virksomheter.",
                "en": "Only for buyers in municipalities, county councils and state agencies.",
            },
            sessions=[SessionTime(at(15, 10), at(15, 12), "Europe/Oslo")],
            deadline=(at(15, 10) - timedelta(days=1)).replace(tzinfo=UTC),
            place="Statens hus, Trondheim",
            capacity_in_person=30,
            online_url="https://meet.example.org/offentlig",
            capacity_online=100,
            audience_types=["municipality", "county", "state"],
            contact_name="Olav Arrangør",
            contact_email="organiser@example.org",
        ),
    ]
    made = [
        events.create_event(
            session=session, draft=d, organiser_ids=[], created_by=organiser.id, now=now
        )
        for d in drafts
    ]
    full = made[3]
    people = ("kari.gyldig@example.org", "rune.tilbakekalt@example.org", "eva.utlopt@example.org")
    for n, email in enumerate(people):
        user = accounts.find_user(session=session, email=email)
        if user is None:
            continue
        session.add(
            EventRegistration(
                event_id=full.id or 0,
                user_id=user.id,
                nonce=secrets.token_hex(12),
                name=user.name,
                email=user.email,
                organisation=MUNICIPALITY,
                org_type="municipality",
                mode="in_person",
                language="nb",
                status="confirmed" if n < 2 else "waiting",
                created_at=now,
                confirmed_at=now,
            )
        )
    session.flush()
