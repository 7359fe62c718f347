"""Team reflection: the questions of a session, and who reads which answer."""

from __future__ import annotations

from elearn.domain import team_reflection as rules


def test_a_session_asks_the_three_questions_then_the_courses_prompts() -> None:
    assert rules.keys(0) == ("read", "liked", "daily")
    assert rules.keys(2) == ("read", "liked", "daily", "p1", "p2")
    assert len(rules.keys(500)) == 3 + rules.MAX_PROMPTS


def test_private_answers_stay_with_the_learner_unless_shared() -> None:
    answers = [
        rules.Answer(user_id=1, key="read", text="mine, private", shared=False),
        rules.Answer(user_id=1, key="liked", text="mine, shared", shared=True),
        rules.Answer(user_id=2, key="read", text="theirs, private", shared=False),
        rules.Answer(user_id=2, key="daily", text="theirs, shared", shared=True),
        rules.Answer(user_id=3, key="daily", text="  ", shared=True),  # nothing to share
    ]
    seen = {a.text for a in rules.visible(answers, viewer_id=1)}
    assert seen == {"mine, private", "mine, shared", "theirs, shared"}
    assert {a.text for a in rules.shared(answers)} == {"mine, shared", "theirs, shared"}
