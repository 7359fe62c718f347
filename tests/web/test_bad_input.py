"""Bad input is refused with 4xx and changes nothing: unreadable bodies, huge or odd numbers."""

from __future__ import annotations

import math
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import StatementError
from sqlmodel import Session, col, func, select

from elearn.db import engine_of
from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes import InvalidResponse, get_item_type, parse_number
from elearn.domain.itemtypes.base import Served, at_position
from elearn.domain.numbers import whole_number
from elearn.models import AttemptEvent, AttemptSlot, Reflection
from tests.conftest import COURSE, ROLE_USERS, csrf_token, post
from tests.web.test_exams import right_answer, slots, start
from tests.web.test_standard_setting import TOPIC, items_of, open_study, stored

HUGE = 2**63
DIGITS = "9" * 5000
BOUNDARY = "elearnboundary"
MODULE = "01-what-is-sustainability"


def multipart(*parts: tuple[str, bytes]) -> bytes:
    body = b"".join(
        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (BOUNDARY.encode(), name.encode(), value)
        for name, value in parts
    )
    return body + b"--%s--\r\n" % BOUNDARY.encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
# (content type, body, status): a body the save endpoint cannot read as the page's form.
UNREADABLE = {
    "truncated JSON": ("application/json", b'{"answer": "1", "fl', 415),
    "text/plain": ("text/plain", b"answer=1&flag=1", 415),
    "octet-stream": ("application/octet-stream", b"\x00\x01\x02answer", 415),
    "no content type": (None, b"answer=1", 415),
    "multipart without boundary": ("multipart/form-data", multipart(("answer", b"1")), 400),
    "truncated multipart": (MULTIPART, multipart(("answer", b"1"))[:-30], 400),
    "multipart, not UTF-8": (MULTIPART, multipart(("answer", b"\xff\xfe")), 400),
    "multipart part without a name": (MULTIPART, multipart(("\r", b"1")), 400),
    "form, not UTF-8": ("application/x-www-form-urlencoded", b"answer=\xff", 400),
    "form, %-escape not UTF-8": ("application/x-www-form-urlencoded", b"answer=%FF", 400),
    "form with NUL": ("application/x-www-form-urlencoded", b"answer=1%00", 400),
}


def raw_post(client: FlaskClient, path: str, content_type: str | None, body: bytes) -> Any:
    """A POST with a valid CSRF header, as the page's script sends it, and any body."""
    headers = {"X-CSRFToken": csrf_token(client)}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.post(path, data=body, headers=headers)


def stored_slot(app: Flask, attempt_id: int, number: int) -> tuple[Any, bool, int]:
    """A slot's answer and flag, and how many events the attempt's trail holds."""
    with Session(engine_of(app)) as s:
        slot = s.exec(
            select(AttemptSlot).where(
                AttemptSlot.attempt_id == attempt_id, AttemptSlot.number == number
            )
        ).one()
        events = s.exec(
            select(func.count()).where(col(AttemptEvent.attempt_id) == attempt_id)
        ).one()
        return slot.response, slot.flagged, int(events)


@pytest.fixture
def answered(app: Flask, learner: FlaskClient) -> tuple[int, dict[str, Any]]:
    """An attempt whose first question is answered and flagged."""
    attempt_id = start(learner)
    slot, spec = slots(app, attempt_id)[0]
    answer = {**right_answer(slot, spec), "flag": "1"}
    saved = learner.post(
        f"/attempts/{attempt_id}/1/save", data=answer, headers={"X-CSRFToken": csrf_token(learner)}
    )
    assert saved.status_code == 200 and saved.json["saved"] is True
    before = stored_slot(app, attempt_id, 1)
    assert before[0] is not None and before[1] is True
    return attempt_id, answer


# --- 1. a body that is not a readable form ------------------------------------------------------


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_save_refuses_a_body_it_cannot_read_and_keeps_the_answer(
    app: Flask, learner: FlaskClient, answered: tuple[int, dict[str, Any]], case: str
) -> None:
    attempt_id, _answer = answered
    before = stored_slot(app, attempt_id, 1)
    content_type, body, status = UNREADABLE[case]
    for path in (f"/attempts/{attempt_id}/1/save", f"/attempts/{attempt_id}/1"):
        response = raw_post(learner, path, content_type, body)
        assert response.status_code == status, (path, response.status_code)
        assert stored_slot(app, attempt_id, 1) == before


def test_the_pages_own_bodies_still_save(
    app: Flask, learner: FlaskClient, answered: tuple[int, dict[str, Any]]
) -> None:
    """The script's multipart form, the page's urlencoded form and an empty body still work."""
    attempt_id, answer = answered
    value = answer["answer"] if isinstance(answer.get("answer"), str) else None
    if value is not None:
        body = multipart(("answer", value.encode()))
        response = raw_post(learner, f"/attempts/{attempt_id}/1/save", MULTIPART, body)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert stored_slot(app, attempt_id, 1)[1] is False  # unflagged, as that form said
    emptied = learner.post(
        f"/attempts/{attempt_id}/1/save", headers={"X-CSRFToken": csrf_token(learner)}
    )
    assert emptied.status_code == 200 and stored_slot(app, attempt_id, 1)[0] is None


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "application/octet-stream"]
)
def test_an_empty_body_of_another_type_is_refused_and_keeps_the_answer(
    app: Flask, learner: FlaskClient, answered: tuple[int, dict[str, Any]], content_type: str
) -> None:
    """Declared as no form, an empty body is refused like a full one, not read as "no answer"."""
    attempt_id, _answer = answered
    before = stored_slot(app, attempt_id, 1)
    for path in (f"/attempts/{attempt_id}/1/save", f"/attempts/{attempt_id}/1"):
        response = raw_post(learner, path, content_type, b"")
        assert response.status_code == 415, (path, response.status_code)
        assert stored_slot(app, attempt_id, 1) == before


@pytest.mark.parametrize("case", ["text/plain", "truncated multipart", "form, not UTF-8"])
def test_reflections_knowledge_check_and_ratings_refuse_unreadable_bodies(
    app: Flask, as_role: Any, case: str
) -> None:
    content_type, body, status = UNREADABLE[case]
    learner = as_role("new-learner")
    module = f"/courses/{COURSE}/modules/{MODULE}"
    assert post(learner, module, {"save": "1", "reflection-1": "Kept"}).status_code == 302
    for path in (module, f"{module}/check"):
        assert raw_post(learner, path, content_type, body).status_code == status
    with Session(engine_of(app)) as s:
        assert [r.answer for r in s.exec(select(Reflection)).all() if r.answer == "Kept"] == [
            "Kept"
        ]
    certifier, panellist = as_role("certifier"), as_role("panellist")
    study_id = open_study(app, certifier, ROLE_USERS["panellist"], ROLE_USERS["panellist2"])
    path = f"/panel/studies/{study_id}/topics/{TOPIC}"
    assert raw_post(panellist, path, content_type, body).status_code == status
    assert stored(app, study_id) == []


# --- 7. numbers that crashed: huge ids, '²', thousands of digits, infinity ------------------------


def test_every_int_route_answers_404_for_an_id_of_2_to_the_63(app: Flask, as_role: Any) -> None:
    from werkzeug.routing import IntegerConverter

    clients = {role: as_role(role) for role in ("learner", "admin", "certifier", "panellist")}
    tried = 0
    for rule in app.url_map.iter_rules():
        ints = [n for n, c in rule._converters.items() if isinstance(c, IntegerConverter)]
        if not ints:
            continue
        values = {name: "x" for name in rule.arguments} | {n: str(HUGE) for n in ints}
        path = rule.rule
        for name, value in values.items():
            path = path.replace(f"<int:{name}>", value).replace(f"<{name}>", value)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            for role, client in clients.items():
                headers = {"X-CSRFToken": csrf_token(client)} if method == "POST" else {}
                response = client.open(path, method=method, headers=headers)
                assert response.status_code == 404, (role, method, path, response.status_code)
                tried += 1
    assert tried > 40


@pytest.mark.parametrize("number", [str(HUGE), DIGITS, "²", "-5"])
def test_a_page_number_past_the_end_shows_the_last_page(as_role: Any, number: str) -> None:
    admin, certifier = as_role("admin"), as_role("certifier")
    for client, path in (
        (admin, "/admin/"),
        (certifier, "/certify/attempts"),
        (certifier, "/certify/certificates"),
    ):
        response = client.get(f"{path}?page={number}")
        assert response.status_code == 200, (path, number, response.status_code)


@pytest.mark.parametrize("go", ["²", DIGITS, str(HUGE), "-1", "later"])
def test_a_forged_go_is_refused_before_the_answer_is_saved(
    app: Flask, learner: FlaskClient, go: str
) -> None:
    attempt_id = start(learner)
    slot, spec = slots(app, attempt_id)[1]
    before = stored_slot(app, attempt_id, 2)
    response = post(learner, f"/attempts/{attempt_id}/2", {**right_answer(slot, spec), "go": go})
    assert response.status_code == 400
    assert stored_slot(app, attempt_id, 2) == before


def test_go_to_a_number_past_the_last_question_saves_and_stays_on_the_last(
    app: Flask, learner: FlaskClient
) -> None:
    attempt_id = start(learner)
    served = slots(app, attempt_id)
    slot, spec = served[0]
    response = post(learner, f"/attempts/{attempt_id}/1", {**right_answer(slot, spec), "go": "99"})
    assert response.headers["Location"] == f"/attempts/{attempt_id}/{len(served)}"
    assert stored_slot(app, attempt_id, 1)[0] is not None


@pytest.mark.parametrize("name", ["reflection-²", f"reflection-{DIGITS}", f"reflection-{HUGE}"])
def test_a_reflection_field_with_an_odd_number_is_refused(
    app: Flask, as_role: Any, name: str
) -> None:
    learner = as_role("new-learner")
    response = post(learner, f"/courses/{COURSE}/modules/{MODULE}", {"save": "1", name: "x"})
    assert response.status_code == 400
    with Session(engine_of(app)) as s:
        assert s.exec(select(Reflection).where(Reflection.answer == "x")).first() is None


@pytest.mark.parametrize("value", ["²", DIGITS])
def test_a_knowledge_check_answer_with_an_odd_number_is_refused(as_role: Any, value: str) -> None:
    learner = as_role("new-learner")
    response = post(learner, f"/courses/{COURSE}/modules/{MODULE}/check", {"q1-answer": value})
    assert response.status_code == 400


@pytest.mark.parametrize("name", ["rating-²", f"rating-{DIGITS}"])
def test_a_rating_field_with_an_odd_number_is_refused(app: Flask, as_role: Any, name: str) -> None:
    certifier, panellist = as_role("certifier"), as_role("panellist")
    study_id = open_study(app, certifier, ROLE_USERS["panellist"], ROLE_USERS["panellist2"])
    item = items_of(panellist, study_id)[0]
    response = post(
        panellist,
        f"/panel/studies/{study_id}/topics/{TOPIC}",
        {f"rating-{item}": "0.5", name: "0.5"},
    )
    assert response.status_code == 400
    assert stored(app, study_id) == []


def test_a_numeric_answer_of_400_nines_is_refused_and_nothing_is_stored() -> None:
    numeric = get_item_type("numeric")
    for text in ("9" * 400, "9" * 41, "1" + "0" * 400 + ",5"):
        with pytest.raises(InvalidResponse):
            numeric.parse(None, numeric.decode({"answer": [text]}, Served(), "en"))  # type: ignore[arg-type]
    assert parse_number("9" * 40) == 1e40  # the longest number taken is still finite


def test_no_json_column_takes_nan_or_infinity(app: Flask, learner: FlaskClient) -> None:
    """Infinity in a stored answer was invalid JSON (PostgreSQL refused it): now refused early."""
    attempt_id = start(learner)
    for bad in (math.inf, -math.inf, math.nan):
        with Session(engine_of(app)) as s:
            slot = s.exec(select(AttemptSlot).where(AttemptSlot.attempt_id == attempt_id)).first()
            assert slot is not None
            slot.response = bad
            with pytest.raises((StatementError, ValueError), match="Out of range float values"):
                s.commit()
    assert all(s.response is None for s, _ in slots(app, attempt_id))


def test_odd_digits_in_item_answers_are_refused_not_crashed() -> None:
    for position in ("²", "٣", DIGITS, str(HUGE), "0", "-1", ""):
        with pytest.raises(InvalidResponse):
            at_position(position, ["a", "b", "c"])
    ordering = get_item_type("ordering")
    item = ItemSpec.model_validate(
        {
            "id": "o1",
            "source": "test",
            "topic": "t",
            "type": "ordering",
            "key": {"order": ["a", "b", "c"], "grading": "absolute_position"},
            "text": {"en": {"stem": "Order", "options": {"a": "A", "b": "B", "c": "C"}}},
        }
    )
    for step in ("²", DIGITS):  # a served step
        with pytest.raises(InvalidResponse):
            ordering.decode({f"answer-{step}": ["1"]}, Served(("a", "b", "c"), ()), "en")
    for place in ("²", DIGITS, "0", "4"):  # a place, as parse reads it
        with pytest.raises(InvalidResponse):
            ordering.parse(item, {"answer-a": [place]})
    assert ordering.parse(item, {"answer-a": ["1"], "answer-b": ["2"], "answer-c": ["3"]})


def test_whole_number_reads_only_small_ascii_numbers() -> None:
    assert whole_number("0") == 0 and whole_number("2147483647") == 2**31 - 1
    assert whole_number("7", maximum=6) is None and whole_number("6", maximum=6) == 6
    for text in ("", "²", "٣", "-1", "+1", " 1", "1.0", "2147483648", DIGITS):
        assert whole_number(text) is None, text


def test_nul_in_an_address_or_a_field_is_refused(app: Flask, as_role: Any) -> None:
    certifier, learner = as_role("certifier"), as_role("new-learner")
    assert certifier.get("/certify/attempts?q=a%00b").status_code == 400
    assert certifier.get("/verify/AB%00CD").status_code == 400
    module = f"/courses/{COURSE}/modules/{MODULE}"
    assert post(learner, module, {"save": "1", "reflection-1": "a\x00b"}).status_code == 400
    with Session(engine_of(app)) as s:
        assert (
            s.exec(select(Reflection).where(col(Reflection.answer).contains("a"))).first() is None
        )


def test_a_due_date_in_the_year_9999_is_refused_and_the_unit_page_still_shows(
    app: Flask, as_role: Any
) -> None:
    """Found by the fuzz: 31 December 9999 was saved, and the unit's page crashed showing it."""
    from elearn.models import Assignment

    manager = as_role("manager")
    with Session(engine_of(app)) as s:
        before = s.exec(select(func.count()).select_from(Assignment)).one()
    unit = 1
    for due in ("9999-12-31", "2200-01-01"):
        response = post(
            manager,
            f"/manage/units/{unit}/assignments",
            {"target": f"course:{COURSE}", "due": due},
        )
        assert response.status_code == 409
        assert "within ten years" in response.get_data(as_text=True)
    assert manager.get(f"/manage/units/{unit}").status_code == 200
    with Session(engine_of(app)) as s:
        assert s.exec(select(func.count()).select_from(Assignment)).one() == before


def test_a_staff_file_with_a_nul_character_is_refused_and_nothing_is_imported(
    app: Flask, as_role: Any
) -> None:
    """Found by probing after the fuzz: a NUL in the unit column reached a PostgreSQL query (500)."""
    import io

    from elearn.models import User

    admin = as_role("admin")
    with Session(engine_of(app)) as s:
        before = s.exec(select(func.count()).select_from(User)).one()
    for content in (
        b"name,email,unit,roles\nAnn,ann@example.org,\x00,learner\n",
        b"name,email,unit,roles\nAnn\x00Admin,ann@example.org,,learner\n",
    ):
        response = admin.post(
            "/admin/staff",
            data={
                "csrf_token": csrf_token(admin),
                "confirm": "y",
                "file": (io.BytesIO(content), "staff.csv"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 400  # refused, with the reason on the page
        assert "NUL character" in response.get_data(as_text=True)
    carried = post(admin, "/admin/staff", {"confirm": "y", "text": "name,email\nA\x00,a@b.no"})
    assert carried.status_code == 400
    with Session(engine_of(app)) as s:
        assert s.exec(select(func.count()).select_from(User)).one() == before


@pytest.mark.parametrize("target", ["//[", "http://[x", "/\\evil.example", "/\t/evil.example"])
def test_a_next_address_that_is_no_path_here_goes_home(client: FlaskClient, target: str) -> None:
    """Found by probing after the fuzz: '//[' made urlsplit raise (a 500); a backslash, which
    browsers read as '/', led to another site."""
    response = post(client, "/language", {"lang": "en", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    kept = post(client, "/language", {"lang": "en", "next": "/courses?x=1"})
    assert kept.headers["Location"] == "/courses?x=1"


@pytest.mark.parametrize("field", ["minutes", "percent"])
def test_extra_time_of_400_nines_is_refused_on_the_form(
    app: Flask, as_role: Any, field: str
) -> None:
    """Found by the fuzz: WTForms' NumberRange turned 400 nines into a float and crashed (500)."""
    from elearn.models import ExtraTime

    certifier = as_role("certifier")
    values = {"email": "learner@example.org", "exam": "quick-certificate", "minutes": "0"}
    for number in ("9" * 400, "9" * 10):
        response = post(certifier, "/certify/extra-time", {**values, field: number})
        assert response.status_code == 200
        assert "Not a valid integer value." in response.get_data(as_text=True)
    with Session(engine_of(app)) as s:
        assert s.exec(select(ExtraTime)).first() is None


ODD_QUERIES = (
    "page=²&q=%25_%5C&person=²&exam=²&certificate=%FF&code=²&next=//[&table=units&attempts=all",
    f"format=csv&table=units&page={HUGE * 10**6}&attempts=last&q={DIGITS}",
)


def test_no_page_answers_5xx_to_odd_addresses_and_queries(app: Flask, as_role: Any) -> None:
    """Every GET route, its parts filled with '²', and odd query values (a huge page, '²',
    5,000 digits, LIKE wildcards, bytes that are not UTF-8), for four kinds of user."""
    clients = {role: as_role(role) for role in ("learner", "certifier", "admin", "manager")}
    start(clients["learner"])
    crashed, tried = [], 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", "1").replace(f"<{name}>", "²")
        for query in ODD_QUERIES:
            for role, client in clients.items():
                response = client.get(f"{path}?{query}")
                tried += 1
                if response.status_code >= 500:
                    crashed.append((role, path, query[:40], response.status_code))
    assert tried > 200 and crashed == []
