"""The demo municipality and its users, for trying elearn out. Idempotent."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from elearn.services import accounts

DEMO_PASSWORD = "elearn-demo"
MUNICIPALITY = "Eksempel kommune"
DEPARTMENTS = ("Innkjøp", "Helse og omsorg", "Teknisk drift", "Oppvekst og utdanning")
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    ("learner@example.org", "Lena Læring", ("learner",), "Innkjøp"),
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
    return created
