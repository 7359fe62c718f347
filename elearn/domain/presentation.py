"""What a candidate may see of an item: its text in the served order, never its key or feedback.

Templates and JSON get only these objects, so that nothing secret can leak by accident.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from elearn.domain.content import ItemSpec
from elearn.domain.items import InvalidResponse, RawAnswer, Response, text_in


@dataclass(frozen=True)
class Choice:
    id: str  # the served position, "1".."n": never the authored option id
    text: str
    selected: bool = False


@dataclass(frozen=True)
class PresentedItem:
    type: str
    lang: str
    stem: str
    options: tuple[Choice, ...]
    prompts: tuple[Choice, ...]
    matched: Mapping[str, str]  # matching: prompt position -> option position
    value: str | None  # true_false, numeric, short_answer: the saved answer as text


def _position(ids: Sequence[str]) -> dict[str, str]:
    return {authored: str(i) for i, authored in enumerate(ids, start=1)}


def present(
    item: ItemSpec,
    lang: str,
    options: Sequence[str],
    prompts: Sequence[str],
    response: Response = None,
) -> PresentedItem:
    """The item in ``lang`` (else its first language) in served order, with the saved answer.

    Inputs carry served positions, not option ids, so that the page says nothing about which
    authored option is which (an author who always keys "a" gives nothing away).
    """
    text = text_in(item, lang)
    chosen = lang if lang in item.text else next(iter(item.text))
    picked: set[str] = set()
    if isinstance(response, list):
        picked = set(response)
    elif isinstance(response, str) and item.type == "single_choice":
        picked = {response}
    option_pos, prompt_pos = _position(options), _position(prompts)
    value = None
    if item.type == "true_false" and response is not None:
        value = "true" if response else "false"
    elif item.type == "numeric" and response is not None:
        value = f"{response:g}"
    elif item.type == "short_answer":
        value = response
    return PresentedItem(
        type=item.type,
        lang=chosen,
        stem=text.stem,
        options=tuple(Choice(option_pos[o], (text.options or {})[o], o in picked) for o in options),
        prompts=tuple(Choice(prompt_pos[p], (text.prompts or {})[p]) for p in prompts),
        matched={
            prompt_pos[p]: option_pos[o]
            for p, o in (response.items() if isinstance(response, dict) else ())
            if p in prompt_pos and o in option_pos
        },
        value=value,
    )


_GROUPED = {
    # English groups thousands with commas ("12,500"); Danish and Norwegian with dots or spaces.
    "en": re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"),
    "da": re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?"),
    "nb": re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?"),
}


def normalise_number(text: str, lang: str) -> str:
    """A number as the learner's language writes it, without its thousands separators."""
    compact = re.sub(r"[\s\u00a0\u202f]", "", text)
    pattern = _GROUPED.get(lang)
    if pattern is not None and pattern.fullmatch(compact):
        return compact.replace("," if lang == "en" else ".", "")
    return compact


def decode_answer(
    item_type: str,
    raw: RawAnswer,
    options: Sequence[str],
    prompts: Sequence[str],
    lang: str = "nb",
) -> dict[str, list[str]]:
    """Posted positions back to authored ids; a position the form never offered is refused.

    Numbers are read as the answer's language writes them: "12,500" is twelve thousand five
    hundred in English, "12.500" in Danish and Norwegian.
    """

    def option(position: str) -> str:
        if not position.isdigit() or not 1 <= int(position) <= len(options):
            raise InvalidResponse("not an option of this question")
        return options[int(position) - 1]

    if item_type in ("single_choice", "multiple_response"):
        return {"answer": [option(v) for v in raw.get("answer", ()) if v != ""]}
    if item_type == "matching":
        decoded: dict[str, list[str]] = {}
        for name, values in raw.items():
            position = name.removeprefix("answer-")
            if not position.isdigit() or not 1 <= int(position) <= len(prompts):
                raise InvalidResponse("not a part of this question")
            decoded[f"answer-{prompts[int(position) - 1]}"] = [option(v) for v in values if v]
        return decoded
    if item_type == "numeric":
        return {name: [normalise_number(v, lang) for v in values] for name, values in raw.items()}
    return {name: list(values) for name, values in raw.items()}


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
