"""Separation of duties: the one rule, as a table."""

from __future__ import annotations

import pytest

from elearn.domain import duties
from elearn.domain.errors import DomainError


@pytest.mark.parametrize(
    ("actor", "subject", "allowed"),
    [(7, 7, False), (7, 8, True), (8, 7, True), (1, 1, False)],
)
def test_no_one_acts_on_their_own_case(actor: int, subject: int, allowed: bool) -> None:
    assert duties.may_act_on(actor_id=actor, subject_user_id=subject) is allowed


def test_require_refuses_the_own_case_with_403_naming_the_action() -> None:
    duties.require(actor_id=7, subject_user_id=8, action=duties.ATTEMPT_APPROVE, subject="a:1")
    with pytest.raises(duties.OwnCase) as refused:
        duties.require(
            actor_id=7,
            subject_user_id=7,
            action=duties.ATTEMPT_APPROVE,
            subject="attempt:1",
            exam="x",
        )
    assert isinstance(refused.value, DomainError) and refused.value.status == 403
    assert (refused.value.action, refused.value.subject, refused.value.actor_id) == (
        "attempt.approve",
        "attempt:1",
        7,
    )
    assert refused.value.exam == "x" and "own" in refused.value.message


def test_an_unknown_action_name_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown certifier action"):
        duties.OwnCase(action="attempt.aprove", subject="attempt:1", actor_id=1)
