"""What a candidate may see of an item: its text in the served order, never its key or feedback.

Templates and JSON get only these objects, so that nothing secret can leak by accident.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from elearn.domain.content import ItemSpec
from elearn.domain.items import text_in


@dataclass(frozen=True)
class Choice:
    id: str
    text: str


@dataclass(frozen=True)
class PresentedItem:
    type: str
    lang: str
    stem: str
    options: tuple[Choice, ...]
    prompts: tuple[Choice, ...]


def present(
    item: ItemSpec, lang: str, options: Sequence[str], prompts: Sequence[str]
) -> PresentedItem:
    """The item in ``lang`` (else its first language) with options and prompts in served order."""
    chosen = lang if lang in item.text else next(iter(item.text))
    text = text_in(item, chosen)
    return PresentedItem(
        type=item.type,
        lang=chosen,
        stem=text.stem,
        options=tuple(Choice(o, (text.options or {})[o]) for o in options),
        prompts=tuple(Choice(p, (text.prompts or {})[p]) for p in prompts),
    )


@dataclass(frozen=True)
class Review:
    """What the review policy lets a candidate see of one item after submitting."""

    mark: float
    correct_answer: str | None  # only with the 'answers' policy
    feedback: str | None  # only with the 'answers' policy


def describe_answer(item: ItemSpec, lang: str) -> tuple[str, ...]:
    """The right answer in words, one part per line, for the review of answers."""
    text = text_in(item, lang)
    options = text.options or {}
    key = item.key
    if item.type == "single_choice":
        return (options[key],)
    if item.type == "multiple_response":
        chosen_ids = key if isinstance(key, list) else [o for o, w in key.items() if w > 0]
        return tuple(options[o] for o in options if o in chosen_ids)
    if item.type == "true_false":
        return ("true" if key else "false",)
    if item.type == "numeric":
        if "value" in key:
            return (f"{key['value']:g} (± {key['tolerance']:g})",)
        return (f"{key['min']:g} – {key['max']:g}",)
    if item.type == "matching":
        prompts = text.prompts or {}
        return tuple(f"{prompts[p]} → {options[o]}" for p, o in key.items())
    return tuple(a.answer for a in text.accepted or [] if a.credit == 1.0)
