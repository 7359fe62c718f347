"""The rules of programmes: agreement versions and approval, phase progress, required
participation, overdue activities."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from elearn.domain import programmes as rules
from elearn.domain.errors import Conflict, InvalidAnswer

NOW = datetime(2026, 12, 5, 9, tzinfo=UTC)


def v(
    n: int, text: str = "t", sha: str | None = None, approved: bool = False
) -> rules.AgreementVersion:
    return rules.AgreementVersion(
        version=n,
        text=text,
        file_sha256=sha,
        approved_by=7 if approved else None,
        approved_at=NOW if approved else None,
    )


def test_agreement_state_follows_the_newest_version() -> None:
    assert rules.agreement_state([]) == "none"
    assert rules.agreement_state([v(1)]) == "awaiting"
    assert rules.agreement_state([v(1, approved=True)]) == "approved"
    # A changed agreement needs approval again, whatever the earlier version had.
    assert rules.agreement_state([v(1, approved=True), v(2, "changed")]) == "awaiting"


def test_a_new_version_is_numbered_after_the_newest() -> None:
    assert rules.next_version([], text="a", file_sha256=None) == 1
    assert rules.next_version([v(1, "a")], text="b", file_sha256=None) == 2
    assert rules.next_version([v(1, "a", "x")], text="a", file_sha256="y") == 2


def test_an_unchanged_or_empty_draft_is_refused() -> None:
    with pytest.raises(Conflict):
        rules.next_version([v(1, "a", "x")], text="a", file_sha256=None)
    with pytest.raises(Conflict):
        rules.next_version([v(1, "a", "x")], text="a", file_sha256="x")
    with pytest.raises(InvalidAnswer):
        rules.next_version([], text="  ", file_sha256=None)


def test_only_a_contact_inside_the_organisation_approves() -> None:
    versions = [v(1)]
    ok = rules.check_approval(
        versions, version=1, approver_units=(5, 1), organisation_unit=1, is_contact=True
    )
    assert ok.version == 1
    with pytest.raises(rules.NotYours):  # from another organisation
        rules.check_approval(
            versions, version=1, approver_units=(9, 2), organisation_unit=1, is_contact=True
        )
    with pytest.raises(rules.NotYours):  # inside, but not a contact person
        rules.check_approval(
            versions, version=1, approver_units=(5, 1), organisation_unit=1, is_contact=False
        )


def test_approval_names_the_newest_version_and_happens_once() -> None:
    with pytest.raises(Conflict):  # the adviser changed it after the page was opened
        rules.check_approval(
            [v(1), v(2, "b")], version=1, approver_units=(1,), organisation_unit=1, is_contact=True
        )
    with pytest.raises(Conflict):
        rules.check_approval(
            [v(1, approved=True)],
            version=1,
            approver_units=(1,),
            organisation_unit=1,
            is_contact=True,
        )
    with pytest.raises(Conflict):
        rules.check_approval(
            [], version=1, approver_units=(1,), organisation_unit=1, is_contact=True
        )


def test_progress_through_phases_in_order() -> None:
    p = rules.progress(done=0, positions=[3, 1, 2, 4])
    assert (p.done, p.total, p.current, p.percent, p.finished) == (0, 4, 1, 0, False)
    p = rules.progress(done=2, positions=[1, 2, 3, 4])
    assert (p.current, p.percent) == (3, 50)
    p = rules.progress(done=9, positions=[1, 2])
    assert (p.done, p.current, p.finished) == (2, None, True)
    assert [rules.phase_state(i, 1) for i in range(3)] == ["done", "current", "upcoming"]
    assert rules.progress(done=0, positions=[]).percent == 0


def test_required_participation_is_met_by_a_contact_with_the_role_who_attended() -> None:
    req = rules.Requirement(phase=2, role="Head of procurement")
    contacts = {1: "head of procurement ", 2: "Environmental coordinator"}
    assert rules.requirement_met(req, contacts=contacts, attended={1})
    assert not rules.requirement_met(req, contacts=contacts, attended={2})  # wrong role came
    assert not rules.requirement_met(req, contacts=contacts, attended={3})  # not a contact
    assert not rules.requirement_met(req, contacts={}, attended={1})


def test_a_phase_completes_only_when_its_rules_are_met() -> None:
    ok = {
        "accepted": True,
        "finished": False,
        "unmet": [],
        "needs_agreement": True,
        "agreement": "approved",
    }
    rules.check_complete_phase(**ok)  # type: ignore[arg-type]
    for change in (
        {"accepted": False},
        {"finished": True},
        {"unmet": ["Head of procurement"]},
        {"agreement": "awaiting"},
        {"agreement": "none"},
    ):
        with pytest.raises(Conflict):
            rules.check_complete_phase(**{**ok, **change})  # type: ignore[arg-type]
    rules.check_complete_phase(**{**ok, "needs_agreement": False, "agreement": "none"})  # type: ignore[arg-type]


def test_overdue_activities() -> None:
    today = date(2026, 12, 5)
    assert rules.overdue(due_on=date(2026, 12, 4), status="planned", today=today)
    assert not rules.overdue(due_on=date(2026, 12, 5), status="planned", today=today)
    assert not rules.overdue(due_on=date(2026, 12, 1), status="done", today=today)
    assert not rules.overdue(due_on=None, status="planned", today=today)


def test_a_decision_is_taken_once() -> None:
    assert rules.check_decision(status="applied", accept=True) == "accepted"
    assert rules.check_decision(status="invited", accept=False) == "declined"
    with pytest.raises(Conflict):
        rules.check_decision(status="accepted", accept=False)


def test_the_evaluation_opens_at_the_last_phase_and_needs_every_scale() -> None:
    assert not rules.evaluation_open(rules.progress(done=2, positions=[1, 2, 3, 4]))
    assert rules.evaluation_open(rules.progress(done=3, positions=[1, 2, 3, 4]))
    assert rules.evaluation_open(rules.progress(done=4, positions=[1, 2, 3, 4]))
    assert not rules.evaluation_open(rules.progress(done=0, positions=[]))
    assert rules.check_ratings({"useful": "5", "advice": 1, "use": "3"}) == {
        "useful": 5,
        "advice": 1,
        "use": 3,
    }
    for bad in (
        {"useful": "5", "advice": "1"},
        {"useful": "6", "advice": "1", "use": "1"},
        {"useful": "x", "advice": "1", "use": "1"},
    ):
        with pytest.raises(InvalidAnswer):
            rules.check_ratings(bad)


def test_evaluations_are_summarised_as_means() -> None:
    s = rules.summarise(
        [{"useful": 5, "advice": 4, "use": 3}, {"useful": 4, "advice": 4, "use": 4}]
    )
    assert s.responses == 2 and s.means == {"useful": 4.5, "advice": 4.0, "use": 3.5}
    assert rules.summarise([]).means == {"useful": None, "advice": None, "use": None}
