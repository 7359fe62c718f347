"""Events: public pages, registration by guests and users, the waiting list, the organiser."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import select

from elearn.db import open_session
from elearn.domain import events as rules
from elearn.models import Event, EventRegistration, MailAttachment, MailMessage
from elearn.services import events as service
from elearn.services.event_mail import NOTED
from tests.conftest import csrf_token, english_client, post

TOKEN = re.compile(r"/events/registration/([0-9a-f]+\.[0-9a-f]+)")


def _event(app: Flask, **changes: Any) -> int:
    """A new open event (in person and online), returns its id."""
    now = datetime.now(UTC)
    start = (now + timedelta(days=3)).replace(tzinfo=None, second=0, microsecond=0)
    draft = service.Draft(
        kind="workshop",
        language="en",
        title={"en": "Test workshop", "nb": "Testverksted"},
        description={"en": "About tests."},
        sessions=[rules.SessionTime(start, start + timedelta(hours=2), "Europe/Oslo")],
        deadline=now + timedelta(days=2),
        place="Town hall",
        capacity_in_person=changes.pop("capacity_in_person", 5),
        online_url="https://meet.example.org/x",
        capacity_online=changes.pop("capacity_online", 5),
        questions=["Dietary needs?"],
        contact_name="Olav",
        contact_email="organiser@example.org",
        **changes,
    )
    with open_session(app) as s:
        organiser = s.exec(
            select(service.User).where(service.User.email == "organiser@example.org")
        ).one()
        event = service.create_event(
            session=s, draft=draft, organiser_ids=[], created_by=organiser.id or 0, now=now
        )
        s.commit()
        assert event.id is not None
        return event.id


def _learner(s: Any) -> Any:
    """The demo learner as a person who registers (signed in)."""
    user_id = s.exec(
        select(service.User.id).where(service.User.email == "learner@example.org")
    ).one()
    return service.user_person(session=s, user_id=user_id)


def _site(app: Flask) -> service.Site:
    return service.Site("http://localhost", app.secret_key.encode())  # type: ignore[union-attr]


def _register_guest(client: Any, event_id: int, email: str, mode: str = "in_person") -> Any:
    return post(
        client,
        f"/events/{event_id}/register",
        {
            "name": "Gina Gjest",
            "email": email,
            "organisation": "Nabokommune",
            "org_type": "municipality",
            "mode": mode,
            "q1": "Vegetarian",
        },
    )


def _guest_token(app: Flask, email: str) -> str:
    with open_session(app) as s:
        reg = s.exec(select(EventRegistration).where(EventRegistration.email == email)).one()
        return rules.personal_token(app.secret_key.encode(), reg.nonce)  # type: ignore[union-attr]


def test_public_pages_are_readable_without_signing_in_and_filter(client: Any) -> None:
    page = client.get("/events/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Webinar: climate requirements in tenders" in text  # falls back to English
    online = client.get("/events/?mode=online").get_data(as_text=True)
    assert "Network meeting for buyers" not in online and "Webinar: climate" in online
    assert "Network meeting for buyers" not in client.get("/events/?kind=webinar").get_data(
        as_text=True
    )
    assert "Webinar: climate" not in client.get("/events/?language=nb").get_data(as_text=True)
    assert client.get("/events/?kind=%3Cscript%3E").status_code == 200


def test_guest_registers_confirms_and_cancels(app: Flask, client: Any) -> None:
    event_id = _event(app)
    detail = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert "meet.example.org" not in detail  # the link is for registered people only
    form = client.get(f"/events/{event_id}/register").get_data(as_text=True)
    assert "What we store" in form
    response = _register_guest(client, event_id, "gina@example.net")
    assert response.status_code == 302 and "check-your-email" in response.headers["Location"]
    token = _guest_token(app, "gina@example.net")
    page = client.get(f"/events/registration/{token}").get_data(as_text=True)
    assert "Confirm your e-mail address" in page and "QR code" not in page
    # The confirm link's GET changes nothing; its POST confirms.
    assert "Confirm my registration" in client.get(
        f"/events/registration/{token}/confirm"
    ).get_data(as_text=True)
    response = post(client, f"/events/registration/{token}/confirm")
    assert response.status_code == 302
    page = client.get(f"/events/registration/{token}").get_data(as_text=True)
    assert "You are registered for Test workshop" in page
    assert "QR code" in page and "Vegetarian" in page
    ics = client.get(f"/events/registration/{token}/invitation.ics")
    from icalendar import Calendar

    cal = Calendar.from_ical(ics.data)
    vevent = next(iter(cal.walk("VEVENT")))
    assert str(vevent["DTSTART"].dt.tzinfo) == "Europe/Oslo"
    response = post(client, f"/events/registration/{token}/cancel")
    assert response.status_code == 302
    assert "This registration is cancelled" in client.get(f"/events/registration/{token}").get_data(
        as_text=True
    )


def test_forged_tokens_and_event_ids_are_not_found(app: Flask, client: Any) -> None:
    event_id = _event(app)
    _register_guest(client, event_id, "gina@example.net")
    token = _guest_token(app, "gina@example.net")
    nonce = token.split(".")[0]
    for bad in (f"{nonce}.{'0' * 32}", "x", f"{nonce}", "a" * 300 + ".b"):
        assert client.get(f"/events/registration/{bad}").status_code == 404
        assert post(client, f"/events/registration/{bad}/cancel").status_code == 404
        assert post(client, f"/events/registration/{bad}/confirm").status_code == 404
    assert client.get("/events/999999").status_code == 404
    assert client.get("/events/999999/register").status_code == 404
    assert client.get(f"/events/{'9' * 40}").status_code == 404


def test_csrf_is_required_on_the_forms(app: Flask, client: Any) -> None:
    event_id = _event(app)
    response = client.post(
        f"/events/{event_id}/register",
        data={
            "name": "X",
            "email": "x@example.net",
            "organisation": "Y",
            "org_type": "private",
            "mode": "online",
        },
    )
    assert response.status_code == 400
    with open_session(app) as s:
        assert (
            s.exec(
                select(EventRegistration).where(EventRegistration.email == "x@example.net")
            ).first()
            is None
        )


def test_unconfirmed_guest_is_released_after_a_day_and_the_next_promoted(app: Flask) -> None:
    event_id = _event(app, capacity_in_person=1)
    site, now = _site(app), datetime.now(UTC)
    with open_session(app) as s:
        guest = service.register(
            session=s,
            event_id=event_id,
            person=service.Person("Gina", "gina@example.net", "Org", "private"),
            mode="in_person",
            answers={},
            lang="en",
            site=site,
            now=now,
        ).registration
        assert guest.status == "pending"
        user = _learner(s)
        waiting = service.register(
            session=s,
            event_id=event_id,
            person=user,
            mode="in_person",
            answers={},
            lang="en",
            site=site,
            now=now,
        ).registration
        assert waiting.status == "waiting"
        s.info.pop(NOTED, None)
        assert service.release_expired(session=s, now=now + timedelta(hours=23), site=site) == 0
        assert service.release_expired(session=s, now=now + timedelta(hours=24), site=site) == 1
        assert guest.status == "cancelled" and waiting.status == "confirmed"
        assert [n.template for n in s.info[NOTED]] == ["promoted"]
        token = rules.personal_token(site.secret, guest.nonce)
        with pytest.raises(service.Conflict):
            service.confirm_guest(session=s, token=token, site=site, now=now + timedelta(hours=25))


def test_registration_after_the_deadline_is_refused(app: Flask, client: Any) -> None:
    event_id = _event(app)
    with open_session(app) as s:
        event = s.get(Event, event_id)
        assert event is not None
        event.registration_deadline = datetime.now(UTC) - timedelta(minutes=1)
        s.commit()
    assert client.get(f"/events/{event_id}/register").status_code == 409
    assert _register_guest(client, event_id, "late@example.net").status_code == 409


def test_restricted_audience(app: Flask, client: Any) -> None:
    event_id = _event(app, audience_types=["county"])
    response = _register_guest(client, event_id, "m@example.net")
    assert response.status_code == 409
    assert "only for the organisations" in response.get_data(as_text=True)


def test_full_event_waits_and_promotes(app: Flask, as_role: Any) -> None:
    event_id = _event(app, capacity_in_person=1)
    learner, other = as_role("learner"), as_role("new-learner")
    data = {"organisation": "Eksempel kommune", "org_type": "municipality", "mode": "in_person"}
    first = post(learner, f"/events/{event_id}/register", data)
    assert first.status_code == 302
    token = TOKEN.search(first.headers["Location"]).group(1)  # type: ignore[union-attr]
    second = post(other, f"/events/{event_id}/register", data)
    other_token = TOKEN.search(second.headers["Location"]).group(1)  # type: ignore[union-attr]
    assert "waiting list" in other.get(f"/events/registration/{other_token}").get_data(as_text=True)
    post(learner, f"/events/registration/{token}/cancel")
    assert "You are registered" in other.get(f"/events/registration/{other_token}").get_data(
        as_text=True
    )


def test_change_to_a_full_mode_is_refused(app: Flask, as_role: Any) -> None:
    event_id = _event(app, capacity_online=1)
    learner, other = as_role("learner"), as_role("new-learner")
    post(
        other,
        f"/events/{event_id}/register",
        {"organisation": "O", "org_type": "private", "mode": "online"},
    )
    first = post(
        learner,
        f"/events/{event_id}/register",
        {"organisation": "O", "org_type": "private", "mode": "in_person"},
    )
    token = TOKEN.search(first.headers["Location"]).group(1)  # type: ignore[union-attr]
    assert (
        post(learner, f"/events/registration/{token}/change", {"mode": "online"}).status_code == 409
    )
    assert (
        post(learner, f"/events/registration/{token}/change", {"mode": "teleport"}).status_code
        == 422
    )


@pytest.mark.parametrize(
    ("sessions", "deadline_days", "message"),
    [
        ([(-1, 2)], -2, "in the past"),
        ([(3, 2), (3.05, 2)], 1, "overlap"),
        ([(3, -1)], 1, "end after"),
        ([(3, 2)], 4, "deadline must be before"),
        ([], 1, "at least one session"),
    ],
)
def test_bad_schedules_are_refused(
    sessions: list[tuple[float, float]], deadline_days: int, message: str
) -> None:
    now = datetime(2026, 12, 5, 8, tzinfo=UTC)
    base = now.replace(tzinfo=None)
    times = [
        rules.SessionTime(
            base + timedelta(days=d), base + timedelta(days=d, hours=h), "Europe/Oslo"
        )
        for d, h in sessions
    ]
    with pytest.raises(rules.InvalidAnswer, match=message):
        rules.check_schedule(times, now + timedelta(days=deadline_days), now)


def test_organiser_checks_in_exports_and_uploads(app: Flask, as_role: Any, client: Any) -> None:
    event_id = _event(app)
    _register_guest(client, event_id, "gina@example.net")
    token = _guest_token(app, "gina@example.net")
    post(client, f"/events/registration/{token}/confirm")
    organiser = as_role("organiser")
    page = organiser.get(f"/organise/events/{event_id}").get_data(as_text=True)
    assert "Gina Gjest" in page and "Vegetarian" in page
    with open_session(app) as s:
        reg = s.exec(
            select(EventRegistration).where(EventRegistration.email == "gina@example.net")
        ).one()
    check = rules.check_in_token(app.secret_key.encode(), reg.nonce)  # type: ignore[union-attr]
    qr_page = organiser.get(f"/organise/events/{event_id}/check-in/{check}")
    assert qr_page.status_code == 200 and "Check in Gina Gjest" in qr_page.get_data(as_text=True)
    # The personal token does not open the check-in page, nor the check-in token the personal one.
    assert organiser.get(f"/organise/events/{event_id}/check-in/{token}").status_code == 404
    assert client.get(f"/events/registration/{check}").status_code == 404
    assert (
        post(
            organiser, f"/organise/events/{event_id}/check-in", {"registration": reg.id}
        ).status_code
        == 302
    )
    csv = organiser.get(f"/organise/events/{event_id}/participants.csv")
    assert csv.status_code == 200 and b"Gina Gjest" in csv.data and b"Vegetarian" in csv.data
    # Materials: a PDF is kept and served safely; a disguised file is refused.
    from io import BytesIO

    ok = organiser.post(
        f"/organise/events/{event_id}/materials",
        data={
            "csrf_token": csrf_token(organiser),
            "title": "Slides",
            "file": (BytesIO(b"%PDF-1.4 slides"), "slides.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    bad = organiser.post(
        f"/organise/events/{event_id}/materials",
        data={
            "csrf_token": csrf_token(organiser),
            "title": "Evil",
            "file": (BytesIO(b"<html><script>alert(1)</script>"), "evil.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    page = client.get(f"/events/registration/{token}").get_data(as_text=True)
    link = re.search(r'href="(/events/registration/[^"]+/materials/\d+)"', page)
    assert link
    served = client.get(link.group(1))
    assert served.status_code == 200 and served.data.startswith(b"%PDF")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Type"] == "application/pdf"
    assert "slides.pdf" in served.headers["Content-Disposition"]
    # Someone not registered gets no file.
    material_id = link.group(1).rsplit("/", 1)[1]
    outsider = as_role("new-learner")
    assert outsider.get(f"/events/{event_id}/materials/{material_id}").status_code == 404
    summary = organiser.get(f"/organise/events/{event_id}").get_data(as_text=True)
    assert "Checked in" in summary


def test_other_organisers_event_is_not_found(app: Flask, as_role: Any) -> None:
    event_id = _event(app)
    with open_session(app) as s:
        from elearn.models import EventOrganiser

        for row in s.exec(select(EventOrganiser).where(EventOrganiser.event_id == event_id)):
            s.delete(row)
        s.commit()
    organiser = as_role("organiser")
    assert organiser.get(f"/organise/events/{event_id}").status_code == 404
    assert post(organiser, f"/organise/events/{event_id}/cancel").status_code == 404
    assert as_role("learner").get(f"/organise/events/{event_id}").status_code == 403


def test_organiser_cancels_and_everyone_is_told(app: Flask) -> None:
    event_id = _event(app)
    site, now = _site(app), datetime.now(UTC)
    with open_session(app) as s:
        for n in range(3):
            person = service.Person(f"P{n}", f"p{n}@example.net", "O", "private")
            service.register(
                session=s,
                event_id=event_id,
                person=person,
                mode="online",
                answers={},
                lang="nb",
                site=site,
                now=now,
            )
        s.info.pop(NOTED, None)
        assert service.cancel_event(session=s, event_id=event_id, site=site, now=now) == 3
        assert {n.template for n in s.info[NOTED]} == {"event_cancelled"}


def test_reminders_are_queued_once(app: Flask) -> None:
    event_id = _event(app)
    site, now = _site(app), datetime.now(UTC)
    with open_session(app) as s:
        user = _learner(s)
        service.register(
            session=s,
            event_id=event_id,
            person=user,
            mode="online",
            answers={},
            lang="nb",
            site=site,
            now=now,
        )
        event = s.get(Event, event_id)
        assert event is not None
        s.info.pop(NOTED, None)
        assert service.queue_reminders(session=s, now=now, site=site) == 0
        day_before = event.starts_at - timedelta(hours=20)
        assert service.queue_reminders(session=s, now=day_before, site=site) == 1
        assert service.queue_reminders(session=s, now=day_before, site=site) == 0
        hour_before = event.starts_at - timedelta(minutes=50)
        assert service.queue_reminders(session=s, now=hour_before, site=site) == 1
        sent = s.info[NOTED]
        assert [n.template for n in sent] == ["reminder", "online_link"]
        assert sent[1].context["online_url"] == "https://meet.example.org/x"


def test_guest_data_is_purged_after_the_retention_time(app: Flask) -> None:
    event_id = _event(app)
    site, now = _site(app), datetime.now(UTC)
    with open_session(app) as s:
        service.register(
            session=s,
            event_id=event_id,
            person=service.Person("G", "g@example.net", "O", "private"),
            mode="online",
            answers={},
            lang="nb",
            site=site,
            now=now,
        )
        event = s.get(Event, event_id)
        assert event is not None
        assert service.purge_guest_registrations(s, event.ends_at + timedelta(days=364)) == 0
        assert service.purge_guest_registrations(s, event.ends_at + timedelta(days=365)) == 1
        assert (
            s.exec(
                select(EventRegistration).where(EventRegistration.email == "g@example.net")
            ).first()
            is None
        )


def test_attendance_shows_in_the_learners_record(app: Flask, as_role: Any) -> None:
    event_id = _event(app)
    learner = as_role("learner")
    first = post(
        learner,
        f"/events/{event_id}/register",
        {"organisation": "O", "org_type": "private", "mode": "in_person"},
    )
    assert first.status_code == 302
    with open_session(app) as s:
        reg = s.exec(
            select(EventRegistration).where(
                EventRegistration.email == "learner@example.org",
                EventRegistration.event_id == event_id,
            )
        ).one()
        service.check_in(
            session=s, event_id=event_id, registration_id=reg.id or 0, now=datetime.now(UTC)
        )
        learner_id = reg.user_id
        s.commit()
    home = learner.get("/").get_data(as_text=True)
    assert "Test workshop" in home and "Attended" in home
    with open_session(app) as s:
        unit_id = s.exec(
            select(service.User.org_unit_id).where(service.User.email == "learner@example.org")
        ).one()
    manager = as_role("manager")
    unit = manager.get(f"/manage/units/{unit_id}").get_data(as_text=True)
    assert "Test workshop" in unit
    person = manager.get(f"/manage/units/{unit_id}/people/{learner_id}").get_data(as_text=True)
    assert "Test workshop" in person and "Attended" in person


def test_fifty_at_once_never_overfill_ten_places(app: Flask) -> None:
    """50 guests post their registration at the same moment, against 10 places in person."""
    event_id = _event(app, capacity_in_person=10)
    clients = [english_client(app) for _ in range(50)]
    tokens = [csrf_token(c, f"/events/{event_id}/register") for c in clients]
    barrier = threading.Barrier(50)
    statuses: list[int] = []

    def go(n: int) -> None:
        barrier.wait()
        response = clients[n].post(
            f"/events/{event_id}/register",
            data={
                "csrf_token": tokens[n],
                "name": f"Guest {n}",
                "email": f"g{n}@example.net",
                "organisation": "O",
                "org_type": "private",
                "mode": "in_person",
            },
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=go, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open_session(app) as s:
        rows = list(s.exec(select(EventRegistration).where(EventRegistration.event_id == event_id)))
    held = [r for r in rows if r.status in rules.ACTIVE]
    assert len(held) == 10
    assert len(rows) == statuses.count(302)
    assert set(statuses) <= {302, 503}
    assert statuses.count(302) >= 45  # a few may be told "try again" past the lock budget


def test_cli_purges_guests_and_queues_reminders(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["events", "purge-guests"])
    assert result.exit_code == 0 and "deleted 0 guest registration(s)" in result.output
    result = runner.invoke(args=["events", "remind"])
    assert result.exit_code == 0 and "reminder(s)" in result.output


def test_guest_mails_confirm_link_then_confirmation_with_ics_in_their_language(
    app: Flask, client: Any
) -> None:
    """The e-mails a guest gets, as the outbox holds them: the double opt-in link (nothing with
    the place's details yet), then, once confirmed, the confirmation with an .ics whose start
    is in the session's own time zone, in the language the guest used."""
    from icalendar import Calendar

    event_id = _event(app)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "da"
    _register_guest(client, event_id, "gina@example.net", mode="online")
    token = _guest_token(app, "gina@example.net")
    with open_session(app) as s:
        first = s.exec(
            select(MailMessage).where(MailMessage.to_address == "gina@example.net")
        ).all()
    assert [m.template for m in first] == ["events/confirm_address"]
    assert first[0].lang == "da" and "Bekræft" in first[0].subject
    assert f"/events/registration/{token}/confirm" in first[0].body_text
    assert "meet.example.org" not in first[0].body_text  # no link before the address is confirmed
    post(client, f"/events/registration/{token}/confirm")
    with open_session(app) as s:
        sent = s.exec(
            select(MailMessage)
            .where(MailMessage.to_address == "gina@example.net")
            .order_by(MailMessage.id)  # type: ignore[arg-type]
        ).all()
        confirmation = sent[-1]
        files = s.exec(
            select(MailAttachment).where(MailAttachment.message_id == confirmation.id)
        ).all()
    assert confirmation.template == "events/confirmation"
    assert "Tilmeldt" in confirmation.subject and "meet.example.org/x" in confirmation.body_text
    assert "dansk tid" not in confirmation.body_text and "norsk tid" in confirmation.body_text
    assert [f.filename for f in files] == ["invitation.ics"]
    cal = Calendar.from_ical(files[0].data)
    vevent = next(iter(cal.walk("VEVENT")))
    assert str(vevent["DTSTART"].dt.tzinfo) == "Europe/Oslo"
    assert vevent["LOCATION"] == "https://meet.example.org/x"
    assert any(c.name == "VTIMEZONE" for c in cal.walk())


def test_demo_learner_registers_for_the_restricted_demo_event_twice_is_once(
    app: Flask, learner: Any, client: Any
) -> None:
    with open_session(app) as s:
        event = next(e for e in s.exec(select(Event)) if e.audience_types)
        assert event.id is not None
        event_id = event.id
    data = {"organisation": "Eksempel kommune", "org_type": "private", "mode": "in_person"}
    first = post(learner, f"/events/{event_id}/register", data)
    again = post(learner, f"/events/{event_id}/register", data)  # a double submit
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"].split("?")[0] == again.headers["Location"].split("?")[0]
    with open_session(app) as s:
        rows = s.exec(
            select(EventRegistration).where(
                EventRegistration.event_id == event_id,
                EventRegistration.email == "learner@example.org",
            )
        ).all()
    # One registration, and the organisation type came from the learner's municipality.
    assert len(rows) == 1 and rows[0].org_type == "municipality"
    # A guest who says "private" is refused: the audience is public buyers only.
    assert _register_guest(client, event_id, "p@example.net").status_code == 302  # municipality
    refused = post(
        client,
        f"/events/{event_id}/register",
        {
            "name": "P",
            "email": "q@example.net",
            "organisation": "AS",
            "org_type": "private",
            "mode": "in_person",
        },
    )
    assert refused.status_code == 409


def test_evaluation_after_the_start_and_the_organisers_summary(app: Flask, as_role: Any) -> None:
    event_id = _event(app)
    learner = as_role("learner")
    first = post(
        learner,
        f"/events/{event_id}/register",
        {"organisation": "O", "org_type": "private", "mode": "online"},
    )
    token = TOKEN.search(first.headers["Location"]).group(1)  # type: ignore[union-attr]
    data = {"rating": "4", "useful": "The cases", "improve": "More time"}
    assert post(learner, f"/events/registration/{token}/evaluation", data).status_code == 409
    with open_session(app) as s:
        event = s.get(Event, event_id)
        assert event is not None
        event.starts_at = datetime.now(UTC) - timedelta(minutes=5)
        s.commit()
    assert (
        post(learner, f"/events/registration/{token}/evaluation", {"rating": "9"}).status_code
        == 422
    )
    assert post(learner, f"/events/registration/{token}/evaluation", data).status_code == 302
    page = as_role("organiser").get(f"/organise/events/{event_id}").get_data(as_text=True)
    assert "mean 4.0 of 5" in page and "The cases" in page and "More time" in page


def test_organiser_publishes_an_event_and_bad_schedules_come_back_with_the_reason(
    app: Flask, as_role: Any
) -> None:
    organiser = as_role("organiser")
    day = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%d")
    data = {
        "kind": "webinar",
        "language": "da",
        "title_da": "Klimakrav",
        "tz": "Europe/Copenhagen",
        "start1": f"{day}T10:00",
        "end1": f"{day}T11:00",
        "deadline": f"{day}T08:00",
        "online_url": "https://meet.example.org/k",
        "capacity_online": "30",
        "contact_name": "Olav",
        "contact_email": "organiser@example.org",
        "questions": "Dietary needs?\n",
    }
    overlapping = {**data, "start2": f"{day}T10:30", "end2": f"{day}T12:00"}
    late_deadline = {**data, "deadline": f"{day}T10:30"}
    past = {**data, "start1": "2020-01-01T10:00", "end1": "2020-01-01T11:00"}
    for bad, reason in (
        (overlapping, "The sessions overlap."),
        (late_deadline, "before the first session"),
        (past, "in the past"),
        ({**data, "organisers": "learner@example.org"}, "organiser role"),
        ({**data, "online_url": "", "capacity_online": "0"}, "Give a place, an online link"),
    ):
        response = post(organiser, "/organise/events/new", bad)
        assert response.status_code == 422, reason
        assert reason in response.get_data(as_text=True)
    response = post(organiser, "/organise/events/new", data)
    assert response.status_code == 302
    page = organiser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Klimakrav" in page
    with open_session(app) as s:
        event = s.exec(select(Event).where(Event.language == "da", Event.kind == "webinar")).all()[
            -1
        ]
        sessions = service.sessions_of(session=s, event_id=event.id or 0)
    assert sessions[0].tz == "Europe/Copenhagen"
    assert sessions[0].starts_at.hour == 9  # 10:00 in Copenhagen in winter is 09:00 UTC
    assert as_role("learner").get("/organise/events/new").status_code == 403


def test_the_mail_sender_queues_event_reminders_once(app: Flask) -> None:
    from elearn.jobs.mail import queue_reminders
    from elearn.services import mail

    assert service.reminder_source in mail.reminder_sources()
    event_id = _event(app)
    now = datetime.now(UTC)
    with open_session(app) as s:
        user = _learner(s)
        service.register(
            session=s,
            event_id=event_id,
            person=user,
            mode="online",
            answers={},
            lang="nb",
            site=_site(app),
            now=now,
        )
        event = s.get(Event, event_id)
        assert event is not None
        starts = event.starts_at
        s.commit()
    queue_reminders(app, now=starts - timedelta(hours=20))
    queue_reminders(app, now=starts - timedelta(hours=20))
    queue_reminders(app, now=starts - timedelta(minutes=30))
    with open_session(app) as s:
        sent = s.exec(
            select(MailMessage.template).where(MailMessage.to_address == "learner@example.org")
        ).all()
    assert sorted(t for t in sent if t.startswith("events/")) == [
        "events/confirmation",
        "events/online_link",
        "events/reminder",
    ]
