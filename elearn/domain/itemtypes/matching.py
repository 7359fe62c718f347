"""``matching``: pair each prompt with an option; each right pair is worth 1/n of the mark.

Authored as ``prompts: {p1: ...}``, ``options: {a: ...}`` (spare options are distractors) and
``key: {p1: a, ...}``. Both lists are shuffled when served. GIFT ``{=prompt -> option}``, Moodle
``matching`` (a spare option is a subquestion without text), QTI ``qti-match-interaction``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes.base import (
    InvalidResponse,
    ItemType,
    PresentedItem,
    RawAnswer,
    Response,
    Served,
    at_position,
    forbid,
    language_of,
    one,
    option_ids,
    positions,
    prompt_ids,
    register,
    same_ids,
    served_choices,
    text_in,
)
from elearn.domain.itemtypes.formats import (
    GiftBlock,
    MoodleQuestion,
    QtiItemParts,
    QtiRead,
    Skip,
    as_html,
    el,
    gift_html,
    gift_plain,
    letter_id,
    moodle_simple,
    moodle_text,
    qti_identifier,
)
from elearn.domain.problems import LocatedMessage


@register
class Matching(ItemType):
    name = "matching"
    template = "matching.html"
    shuffles_options = True
    gift_order = 30
    moodle_qtype = "matching"
    qti_interaction = "qti-match-interaction"

    def validate(self, item: ItemSpec) -> list[LocatedMessage]:
        prompts, out = same_ids(item, "prompts", 2)
        options, more = same_ids(item, "options", 2)
        out += more + forbid(item, "accepted")
        if not isinstance(item.key, dict):
            out.append(LocatedMessage(("key",), "the key must map each prompt id to an option id"))
            return out
        for prompt_id in prompts:
            if prompt_id not in item.key:
                out.append(LocatedMessage(("key",), f"prompt '{prompt_id}' has no key"))
        for prompt_id, option_id in item.key.items():
            if prompt_id not in prompts:
                out.append(LocatedMessage(("key", prompt_id), f"'{prompt_id}' is not a prompt"))
            elif option_id not in options:
                out.append(
                    LocatedMessage(("key", prompt_id), f"the key '{option_id}' is not an option")
                )
        return out

    def decode(self, raw: RawAnswer, served: Served, lang: str) -> dict[str, list[str]]:
        decoded: dict[str, list[str]] = {}
        for name, values in raw.items():
            prompt = at_position(name.removeprefix("answer-"), served.prompts, "a part")
            decoded[f"answer-{prompt}"] = [at_position(v, served.options) for v in values if v]
        return decoded

    def parse(self, item: ItemSpec, raw: RawAnswer) -> Response:
        offered = option_ids(item)
        pairs: dict[str, str] = {}
        for prompt in prompt_ids(item):
            value = one(raw, f"answer-{prompt}")
            if value is None:
                continue
            if value not in offered:
                raise InvalidResponse("not an option of this question")
            pairs[prompt] = value
        names = {f"answer-{p}" for p in prompt_ids(item)}
        if {k for k in raw if k.startswith("answer-")} - names:
            raise InvalidResponse("not a part of this question")
        return pairs or None

    def score(self, item: ItemSpec, response: Response, lang: str) -> float:
        if not response:
            return 0.0
        prompts = prompt_ids(item)
        right = sum(1 for p in prompts if response.get(p) == item.key.get(p))
        return right / len(prompts)

    def key_response(self, item: ItemSpec, lang: str) -> Response:
        return dict(item.key)

    def random_guess_score(self, item: ItemSpec) -> float | None:
        """Moodle's matching: each part right with one chance in the number of options (spare
        ones included), so the expected share of parts is 1 / options."""
        options = option_ids(item)
        return 1 / len(options) if options else None

    def present(
        self, item: ItemSpec, lang: str, served: Served, response: Response
    ) -> PresentedItem:
        text = text_in(item, lang)
        option_pos, prompt_pos = positions(served.options), positions(served.prompts)
        pairs = response.items() if isinstance(response, dict) else ()
        return PresentedItem(
            type=item.type,
            template=self.partial,
            lang=language_of(item, lang),
            stem=text.stem,
            options=served_choices(text.options, served.options),
            prompts=served_choices(text.prompts, served.prompts),
            chosen={
                prompt_pos[p]: option_pos[o]
                for p, o in pairs
                if p in prompt_pos and o in option_pos
            },
        )

    def describe(self, item: ItemSpec, lang: str) -> tuple[str, ...]:
        text = text_in(item, lang)
        prompts, options = text.prompts or {}, text.options or {}
        return tuple(f"{prompts[p]} → {options[o]}" for p, o in item.key.items())

    # -- GIFT

    def gift_claims(self, answer_text: str) -> bool:
        return "=" in answer_text and "->" in answer_text

    def read_gift(self, block: GiftBlock) -> tuple[Any, dict[str, Any]]:
        answers = block.answers("=", weights=False)
        if len(answers) < 2:
            block.syntax_error(block.lo, "a matching question needs at least 2 pairs")
        for answer in answers:
            if "->" not in answer.body:
                block.syntax_error(
                    answer.offset, "a matching pair needs the form 'prompt -> answer'"
                )
        pairs: list[tuple[str, str]] = []
        for answer in answers:
            left, right = answer.body.split("->", 1)
            prompt_fmt, prompt_body = block.split_format(left.strip(), block.fmt)
            prompt = block.to_text(prompt_body, prompt_fmt)
            if left.strip() and not prompt:
                raise Skip("a prompt has no text once its HTML is reduced to plain text")
            option = block.plain(right)
            if not option:
                raise Skip("a matching pair has no answer after '->'")
            pairs.append((prompt, option))
        options: dict[str, str] = {}
        option_of: dict[str, str] = {}
        for _, option in pairs:
            if option not in option_of:
                option_of[option] = letter_id(len(options))
                options[option_of[option]] = option
        prompts: dict[str, str] = {}
        key: dict[str, str] = {}
        for prompt, option in pairs:
            if prompt:  # nothing left of '->': a distractor only
                prompt_id = f"p{len(prompts) + 1}"
                prompts[prompt_id] = prompt
                key[prompt_id] = option_of[option]
        if len(prompts) < 2:
            raise Skip("a matching question needs at least 2 prompts")
        if len(options) < 2:
            raise Skip("a matching question needs at least 2 different answers")
        return key, {"prompts": prompts, "options": options}

    def write_gift(self, item: ItemSpec, lang: str) -> list[str]:
        text = text_in(item, lang)
        prompts, options = text.prompts or {}, text.options or {}
        used = set(item.key.values())
        pairs = [
            f"={gift_html(prompts[pid])} -> {gift_plain(options[item.key[pid]])}" for pid in prompts
        ]
        spare = [f"= -> {gift_plain(b)}" for oid, b in options.items() if oid not in used]
        return pairs + spare

    # -- Moodle XML

    def read_moodle(self, question: MoodleQuestion) -> tuple[Any, dict[str, Any]]:
        prompts: dict[str, str] = {}
        options: dict[str, str] = {}
        key: dict[str, str] = {}
        for sub in question.children("subquestion"):
            answer = sub.child("answer")
            match = answer.plain() if answer is not None else ""
            if not match:
                raise Skip("a matching answer has no text")
            option_id = next((k for k, v in options.items() if v == match), None)
            if option_id is None:
                n = len(options)
                option_id = chr(ord("a") + n) if n < 26 else f"o{n + 1}"
                options[option_id] = match
            prompt = sub.rich()
            if prompt:  # a subquestion without text only adds a distractor answer
                prompt_id = f"p{len(prompts) + 1}"
                prompts[prompt_id] = prompt
                key[prompt_id] = option_id
        if len(prompts) < 2 or len(options) < 2:
            raise Skip("a matching question needs at least 2 pairs")
        return key, {"prompts": prompts, "options": options}

    def write_moodle(self, question: ET.Element, item: ItemSpec, lang: str) -> None:
        moodle_simple(question, "shuffleanswers", "true")
        text = text_in(item, lang)
        prompts, options = text.prompts or {}, text.options or {}
        used = set(item.key.values())
        pairs = [(prompts[pid], options[item.key[pid]]) for pid in prompts]
        pairs += [("", body) for oid, body in options.items() if oid not in used]
        for prompt, option in pairs:
            sub = moodle_text(question, "subquestion", as_html(prompt) if prompt else "")
            answer = ET.SubElement(sub, "answer")
            ET.SubElement(answer, "text").text = option

    # -- QTI

    def write_qti(self, parts: QtiItemParts, item: ItemSpec, lang: str) -> None:
        text = text_in(item, lang)
        prompts, options = text.prompts or {}, text.options or {}
        interaction = el(
            parts.body,
            "qti-match-interaction",
            response_identifier="RESPONSE",
            max_associations=str(len(prompts)),
            shuffle="true",
        )
        parts.prompt(interaction, text.stem)
        left = el(interaction, "qti-simple-match-set")
        for pid, prompt in prompts.items():
            el(
                left,
                "qti-simple-associable-choice",
                prompt,
                identifier=qti_identifier(pid),
                match_max="1",
            )
        right = el(interaction, "qti-simple-match-set")
        for oid, option in options.items():
            el(
                right,
                "qti-simple-associable-choice",
                option,
                identifier=qti_identifier(oid),
                match_max=str(len(prompts)),
            )
        pairs = [f"{qti_identifier(p)} {qti_identifier(item.key[p])}" for p in prompts]
        parts.declare("multiple", "directedPair", *pairs)
        parts.mapping((pair, 1 / len(pairs)) for pair in pairs)
        parts.score_mapped()

    def read_qti(self, read: QtiRead) -> tuple[Any, dict[str, Any]]:
        sets = read.interaction.findall("qti-simple-match-set")
        if len(sets) != 2:
            raise Skip("a match interaction needs two sets")
        prompts = read.choices_of(sets[0])
        options = read.choices_of(sets[1])
        key: dict[str, str] = {}
        for pair in read.correct:
            source, _, target = pair.partition(" ")
            if source not in prompts or target not in options or source in key:
                raise Skip("the correct pairs do not match each prompt with one option")
            key[source] = target
        if set(key) != set(prompts):
            raise Skip("every prompt needs a correct pair")
        share = 1 / len(prompts)
        even = read.scoring == "map_response" and all(
            abs(read.mapping.get(f"{p} {o}", 0) - share) < 1e-6 for p, o in key.items()
        )
        if not even:
            raise Skip("only an equal share per right pair can be scored as elearn's matching")
        return key, {"prompts": prompts, "options": options}
