"""The demo municipality and its users, for trying elearn out. Idempotent."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from elearn.domain.errors import NotFound
from elearn.services import accounts, exams, learning

DEMO_PASSWORD = "elearn-demo"
MUNICIPALITY = "Eksempel kommune"
DEPARTMENTS = ("Innkjøp", "Helse og omsorg", "Teknisk drift", "Oppvekst og utdanning")
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    ("learner@example.org", "Lena Læring", ("learner",), "Innkjøp"),
    ("learner2@example.org", "Lars Lærling", ("learner",), "Helse og omsorg"),
    ("manager@example.org", "Magnus Leder", ("manager", "learner"), None),
    ("certifier@example.org", "Sara Sertifisør", ("certifier",), None),
    ("admin@example.org", "Ada Admin", ("admin",), None),
)


def create_demo(*, session: Session, now: datetime) -> list[str]:
    """Create what is missing; returns the e-mail addresses created this time."""
    for unit_name in DEPARTMENTS:
        accounts.ensure_unit_path(session, f"{MUNICIPALITY}/{unit_name}")
    created = []
    for email, name, roles, department in DEMO_USERS:
        if accounts.find_user(session, email) is not None:
            continue
        path = f"{MUNICIPALITY}/{department}" if department else MUNICIPALITY
        unit = accounts.ensure_unit_path(session, path)
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
    _complete_exam_courses(session, "learner@example.org", now)
    return created


def _complete_exam_courses(session: Session, email: str, now: datetime) -> None:
    """The demo learner has done the courses exams require, so a newcomer can sit one at once."""
    user = accounts.find_user(session, email)
    assert user is not None and user.id is not None
    for view in exams.active_exams(session):
        if view.spec.course is None:
            continue
        try:
            course = learning.load_course(session, view.spec.course)
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
