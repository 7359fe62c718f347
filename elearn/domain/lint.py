"""Item-writing checks: cues a test-wise candidate can use without knowing the subject.

Per bank and language: how often the key of a single-choice item is its longest option (a
well-known cue: authors qualify the right answer), where the key sits among four options,
whether absolute words ("always", "never", "only") sit in distractors but not in keys (a
test-wise candidate rules those out), "all/none of the above", and negative stems that do not
stand out ("Which is not ...": written NOT / IKKE in capitals, they are read as meant).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from elearn.domain.content import ItemSpec

KEY_LONGEST_LIMIT = 0.30  # at most this share of single-choice items have the longest key
POSITION_LIMITS = (0.20, 0.30)  # each key position's share among four-option items
# Shares of a handful of items say nothing: the share limits apply from this many items on.
MIN_ITEMS_FOR_SHARES = 20

ABSOLUTE_WORDS = {
    "nb": ("alltid", "aldri", "alle", "ingen", "bare", "kun", "utelukkende"),
    "da": ("altid", "aldrig", "alle", "ingen", "kun", "udelukkende"),
    "en": ("always", "never", "all", "none", "only", "every"),
}
NEGATIONS = {"nb": ("ikke", "ikkje"), "da": ("ikke",), "en": ("not", "never")}
ALL_OR_NONE = re.compile(
    r"alle de ovennevnte|ingen av de ovennevnte|all of the above|none of the above|"
    r"alle ovenstående|ingen af ovenstående|alle svarene over|ingen av svarene over",
    re.IGNORECASE,
)


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


@dataclass(frozen=True)
class Lint:
    """The figures of one bank in one language, and the items behind each finding."""

    language: str
    single_choice_items: int
    key_longest_share: float  # of single-choice items, the key is strictly the longest option
    key_longest_items: tuple[str, ...]
    four_option_items: int
    key_position_shares: dict[int, float]  # 1..4: where the key sits among four options
    absolute_words_in_keys: int  # options that are keys and carry an absolute word
    absolute_words_in_distractors: int
    absolute_only_in_distractors_items: tuple[str, ...]  # items where only distractors have one
    all_or_none_of_the_above_items: tuple[str, ...]
    negative_stems_not_emphasised: tuple[str, ...]
    findings: list[str] = field(default_factory=list)  # the limits missed, in words

    @property
    def within_limits(self) -> bool:
        return not self.findings


def _keyed(item: ItemSpec) -> set[str]:
    key = item.key
    if item.type == "single_choice":
        return {key}
    if item.type == "multiple_response":
        return set(key) if isinstance(key, list) else {o for o, w in key.items() if w > 0}
    return set()


def lint_items(items: Sequence[ItemSpec], lang: str) -> Lint:
    """The cueing figures of ``items`` in ``lang`` (items without that language are left out)."""
    texts = [(i, i.text[lang]) for i in items if lang in i.text]  # type: ignore[index]
    absolute = set(ABSOLUTE_WORDS.get(lang, ()))
    negations = set(NEGATIONS.get(lang, ()))
    single = [(i, t) for i, t in texts if i.type == "single_choice" and t.options]
    longest = []
    positions: Counter[int] = Counter()
    four = 0
    for item, text in single:
        options = text.options or {}
        key_length = len(options[item.key])
        if all(key_length > len(body) for oid, body in options.items() if oid != item.key):
            longest.append(item.id)
        if len(options) == 4:
            four += 1
            positions[list(options).index(item.key) + 1] += 1
    in_keys = in_distractors = 0
    only_distractors = []
    all_or_none = []
    unemphasised = []
    for item, text in texts:
        options = text.options or {}
        keyed = _keyed(item)
        key_hits = sum(1 for o, b in options.items() if o in keyed and _words(b) & absolute)
        other_hits = sum(1 for o, b in options.items() if o not in keyed and _words(b) & absolute)
        in_keys += key_hits
        in_distractors += other_hits
        if other_hits and not key_hits and keyed:
            only_distractors.append(item.id)
        if any(ALL_OR_NONE.search(b) for b in options.values()):
            all_or_none.append(item.id)
        stem_words = re.findall(r"\w+", text.stem)
        if any(w in negations for w in stem_words):  # lower case: not emphasised
            unemphasised.append(item.id)
    n = len(single)
    lint = Lint(
        language=lang,
        single_choice_items=n,
        key_longest_share=round(len(longest) / n, 4) if n else 0.0,
        key_longest_items=tuple(longest),
        four_option_items=four,
        key_position_shares={
            p: round(positions[p] / four, 4) if four else 0.0 for p in range(1, 5)
        },
        absolute_words_in_keys=in_keys,
        absolute_words_in_distractors=in_distractors,
        absolute_only_in_distractors_items=tuple(only_distractors),
        all_or_none_of_the_above_items=tuple(all_or_none),
        negative_stems_not_emphasised=tuple(unemphasised),
    )
    lint.findings.extend(_findings(lint))
    return lint


def _findings(lint: Lint) -> list[str]:
    out = []
    shares = lint.single_choice_items >= MIN_ITEMS_FOR_SHARES
    if shares and lint.key_longest_share > KEY_LONGEST_LIMIT:
        out.append(
            f"the key is the longest option in {lint.key_longest_share:.0%} of single-choice "
            f"items (at most {KEY_LONGEST_LIMIT:.0%})"
        )
    low, high = POSITION_LIMITS
    for position, share in lint.key_position_shares.items():
        if lint.four_option_items >= MIN_ITEMS_FOR_SHARES and not low <= share <= high:
            out.append(
                f"the key is option {position} in {share:.0%} of four-option items "
                f"({low:.0%} to {high:.0%})"
            )
    if lint.all_or_none_of_the_above_items:
        out.append("'all/none of the above' in " + ", ".join(lint.all_or_none_of_the_above_items))
    if lint.negative_stems_not_emphasised:
        out.append(
            "negative stems not in capitals (NOT/IKKE): "
            + ", ".join(lint.negative_stems_not_emphasised)
        )
    many = lint.absolute_words_in_distractors >= 5
    if many and lint.absolute_words_in_distractors > 2 * max(1, lint.absolute_words_in_keys):
        out.append(
            f"absolute words in {lint.absolute_words_in_distractors} distractors but "
            f"{lint.absolute_words_in_keys} keys: a test-wise candidate rules them out"
        )
    return out
