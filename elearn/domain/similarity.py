"""Near-duplicate items: twins that ask the same thing in other words, found by their text.

An item is compared by its stem and its keyed answer in words, in each language: TF-IDF over
character 3- to 5-grams (scikit-learn), cosine similarity, the highest over the languages two
items share. Character n-grams catch the same words inflected or compounded (Norwegian and
Danish join words); TF-IDF weighs down what every item of a bank says ("under the 2024 rules").

``DEFAULT_THRESHOLD`` was chosen on the shipped certification bank (see
``docs/enemy-groups.md``): it is the highest value at which the twins an expert review named
(legal-011 with plan-013; legal-025, env-029, tender-014 and social-016 on equivalent labels)
are all found, and it finds 66 pairs among 211 items for authors to review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes import describe_answer

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Twin:
    """Two items whose texts are alike; ``lang`` is the language where they are most alike."""

    a: str
    b: str
    score: float
    lang: str


def item_text(item: ItemSpec, lang: str) -> str:
    """What a candidate would recognise an item by: its stem and its right answer in words."""
    return " ".join([item.text[lang].stem, *describe_answer(item, lang)])  # type: ignore[index]


def similar_pairs(
    items: Sequence[tuple[str, ItemSpec]],
    threshold: float = DEFAULT_THRESHOLD,
    against: Sequence[tuple[str, ItemSpec]] | None = None,
) -> list[Twin]:
    """Pairs at or above ``threshold``, most alike first.

    ``items`` are (name, item); with ``against`` only pairs across the two lists are compared
    (a practice pool against a certification pool), else every pair within ``items``.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer  # heavy: only where compared
    from sklearn.metrics.pairwise import cosine_similarity

    left = list(items)
    right = left if against is None else list(against)
    languages = sorted({lang for _, i in [*left, *right] for lang in i.text})
    best: dict[tuple[int, int], tuple[float, str]] = {}
    for lang in languages:
        left_in = [n for n, (_, i) in enumerate(left) if lang in i.text]
        right_in = [n for n, (_, i) in enumerate(right) if lang in i.text]
        if not left_in or not right_in:
            continue
        docs = [item_text(left[n][1], lang) for n in left_in]
        others = docs if against is None else [item_text(right[n][1], lang) for n in right_in]
        vectors = TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(3, 5))
        vectors.fit(docs if against is None else docs + others)
        scores = cosine_similarity(vectors.transform(docs), vectors.transform(others))
        for row, a in enumerate(left_in):
            for column, b in enumerate(right_in):
                if against is None and b <= a:
                    continue
                score = float(scores[row, column])
                if score >= threshold and score > best.get((a, b), (-1.0, ""))[0]:
                    best[(a, b)] = (score, lang)
    twins = [
        Twin(left[a][0], right[b][0], round(score, 4), lang)
        for (a, b), (score, lang) in best.items()
    ]
    return sorted(twins, key=lambda t: (-t.score, t.a, t.b))
