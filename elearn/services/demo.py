"""The demo municipality and its users, for trying elearn out. Idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from elearn.domain.errors import NotFound
from elearn.models import Assignment, ManagerUnit
from elearn.services import accounts, cases, certificates, exams, learning, reports

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
)
CERTIFIERS = ("certifier@example.org", "certifier2@example.org")


def create_demo(
    *,
    session: Session,
    now: datetime,
    authority: certificates.Authority | None = None,
    cases_dir: Path | None = None,
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
