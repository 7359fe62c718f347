"""Team reflection after a course (KS's advice to leaders): the three questions, and who may
read which answer. A participant's answer is private unless they share it with the group."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# The three questions, by key; their text is translated in the web layer.
KS_QUESTIONS = ("read", "liked", "daily")
MAX_PROMPTS = 20


@dataclass(frozen=True)
class Answer:
    user_id: int
    key: str
    text: str
    shared: bool


def keys(prompt_count: int) -> tuple[str, ...]:
    """Every question of a session: the three, then the course's own prompts (p1, p2...)."""
    return KS_QUESTIONS + tuple(f"p{i + 1}" for i in range(min(prompt_count, MAX_PROMPTS)))


def visible(answers: Iterable[Answer], *, viewer_id: int) -> list[Answer]:
    """What a person sees of a session's answers: their own, and what others shared. A manager
    is no exception: a private reflection stays with the learner."""
    return [a for a in answers if a.user_id == viewer_id or (a.shared and a.text.strip())]


def shared(answers: Iterable[Answer]) -> list[Answer]:
    """What the group (and the manager) sees."""
    return [a for a in answers if a.shared and a.text.strip()]
