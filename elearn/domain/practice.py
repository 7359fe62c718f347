"""A knowledge check: practice items marked at once, with the key and the rationale shown.

Nothing is recorded; the module page shows each result beside its item.
"""

from __future__ import annotations

from dataclasses import dataclass

from elearn.domain.content import ItemSpec
from elearn.domain.itemtypes import (
    IncompleteResponse,
    RawAnswer,
    Response,
    describe_answer,
    get_item_type,
    option_ids,
    prompt_ids,
    read_answer,
    text_in,
)


@dataclass(frozen=True)
class Checked:
    response: Response  # what was read (None when unanswered or unfinished)
    mark: float
    key: tuple[str, ...]  # the right answer in words
    feedback: str | None  # the item's rationale
    problem: str | None = None  # the answer was not complete (e.g. two steps in one place)
    given: Response = None  # what to show back in the item: the response, or an unfinished one

    @property
    def answered(self) -> bool:
        return self.response is not None


def check_answer(item: ItemSpec, raw: RawAnswer, lang: str) -> Checked:
    """Mark what was posted for one practice item (served in its authored order).

    A forged answer raises :class:`~elearn.domain.itemtypes.InvalidResponse`; an incomplete one
    is marked 0 with the problem named, so the learner can finish it.
    """
    try:
        response = read_answer(item, raw, option_ids(item), prompt_ids(item), lang)
        problem, given = None, response
    except IncompleteResponse as exc:
        response, problem, given = None, str(exc), exc.partial
    return Checked(
        response=response,
        mark=get_item_type(item.type).score(item, response, lang),
        key=describe_answer(item, lang),
        feedback=text_in(item, lang).feedback,
        problem=problem,
        given=given,
    )
