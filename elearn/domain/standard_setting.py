"""Standard setting by a modified-Angoff panel: ratings, their spread, and the cut they recommend.

Each panellist rates, for every item an exam can draw, the probability that a *minimally
competent* candidate answers it right, in steps of 0.05. Round 1 is independent; in round 2 each
panellist sees the panel's round-1 spread and, where enough candidates have answered the item,
its observed facility, and may revise. The final rating of a panellist for an item is their
round-2 rating where they gave one, else their round-1 rating.

The exam draws a different form for every candidate, per topic from a blueprint, so the cut is
that of an *expected* form, in marks as scoring counts them: per topic the mark-weighted mean
rating (Σ mark × rating / Σ mark over its rated items) and the mean mark of its items; the cut
is Σ over topics of (items drawn × mean mark × weighted mean rating) over Σ (items drawn × mean
mark), as a percentage. With every item worth one mark this is Σ (items drawn × mean rating)
over the form's items.

Panel agreement is given twice, because a panel can agree in two ways:

* on the **level** (where the cut lies): the SD of the panellists' individual cuts, and from it
  the standard error of the cut, SD / √n. This is the figure the cut's decision needs: the
  cut is a mean of n panellists' cuts, and its SE says how far another panel of the same size
  would be expected to land from it. A common rule of thumb wants SE ≤ about half the SEM of
  the test.
* on the **order** (which items are harder): the intraclass correlation ICC(C,1) of McGraw and
  Wong (1996), two-way, consistency, single rater, over the items every panellist rated. It
  leaves out each panellist's overall leniency (which the SD above already shows) and asks
  whether the panellists see the same items as hard; it is a single rater's figure, so it does
  not grow merely because the panel is larger. Below about 0.5 the panel has not understood
  the items (or the minimally competent candidate) alike, and the spread deserves a discussion
  before round 2.

Nothing here reads a clock, a database or a request.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from elearn.domain.content import BlueprintEntry, Fraction, PassRules, Slug
from elearn.domain.problems import LocatedMessage

STEPS = 20  # a rating is k / 20 for k in 0..20: steps of 0.05
# An item's observed facility is shown to the panel only once this many scored responses exist:
# a mean of fewer marks moves too much from one candidate to the next to guide a judgement.
MIN_RESPONSES = 30
# Ratings carried into the content files keep four decimals: the mean of up to 20 panellists
# in steps of 0.05 needs no more.
DECIMALS = 4
_SLACK = 1e-9
RATINGS_FOLDER = "ratings"  # question_banks/<bank>/ratings/<study-id>.yaml


# --- single ratings ------------------------------------------------------------------------------


def rating_steps() -> tuple[float, ...]:
    """Every rating a panellist may give: 0.00, 0.05, ..., 1.00."""
    return tuple(round(k / STEPS, 2) for k in range(STEPS + 1))


def parse_rating(text: str) -> float | None:
    """A posted rating: '' is none (not rated yet); a number in 0..1 in steps of 0.05 is that
    rating; anything else raises ``ValueError``."""
    text = text.strip()
    if not text:
        return None
    value = float(text)  # ValueError on text that is no number
    if not math.isfinite(value) or value < -_SLACK or value > 1 + _SLACK:
        raise ValueError(f"rating {text} is outside 0..1")
    steps = value * STEPS
    if abs(steps - round(steps)) > 1e-6:
        raise ValueError(f"rating {text} is not in steps of 0.05")
    return round(round(steps) / STEPS, 2)


def final_ratings(
    round_one: Mapping[tuple[str, str], float], round_two: Mapping[tuple[str, str], float]
) -> dict[tuple[str, str], float]:
    """Each (panellist, item)'s final rating: the round-2 one where given, else round 1's."""
    return {**round_one, **round_two}


@dataclass(frozen=True)
class Spread:
    """The panel's ratings of one item, without names: what round 2 shows."""

    values: tuple[float, ...]  # sorted
    low: float
    median: float
    high: float

    @property
    def n(self) -> int:
        return len(self.values)


def spread(values: Iterable[float]) -> Spread | None:
    """Sorted ratings with their minimum, median and maximum; None when nobody rated."""
    ordered = tuple(sorted(values))
    if not ordered:
        return None
    return Spread(ordered, ordered[0], statistics.median(ordered), ordered[-1])


def observed_facility(responses: int, mean_mark: float | None) -> float | None:
    """The item's mean mark, shown only where at least ``MIN_RESPONSES`` were scored."""
    if mean_mark is None or responses < MIN_RESPONSES:
        return None
    return mean_mark


# --- the results of a study ----------------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult:
    """One item's final ratings: how many, their mean and (sample) SD, both 0..1."""

    item: str
    topic: str
    n: int
    mean: float | None
    sd: float | None  # None below two ratings


@dataclass(frozen=True)
class TopicResult:
    """One blueprint topic: items the form draws, the mean of its items' means, as a percent."""

    topic: str
    drawn: int  # items per form (the blueprint's count)
    rated: int  # items of the topic with at least one rating
    items: int  # items of the topic in the study
    mean: float | None  # 0..1
    required: float | None  # the exam's own rule for the topic, in percent, if it has one

    @property
    def percent(self) -> float | None:
        return None if self.mean is None else 100 * self.mean

    @property
    def key(self) -> bool:
        """A key topic: the exam's pass rules name it."""
        return self.required is not None

    @property
    def below_rule(self) -> bool:
        """A minimally competent candidate is expected below the exam's rule for the topic."""
        return (
            self.percent is not None
            and self.required is not None
            and (self.percent + _SLACK < self.required)
        )


@dataclass(frozen=True)
class PanellistCut:
    """The cut one panellist's own ratings give (percent); None if they left a topic unrated."""

    panellist: str
    cut: float | None
    rated: int  # items they rated


@dataclass(frozen=True)
class StudyResult:
    """What a study recommends, with the figures a decision record needs."""

    items: tuple[ItemResult, ...]
    topics: tuple[TopicResult, ...]
    cut: float | None  # percent of the form; None while a blueprint topic has no rating
    panellists: tuple[PanellistCut, ...]
    cut_sd: float | None  # SD of the panellists' cuts, percentage points
    standard_error: float | None  # cut_sd / √n, percentage points
    icc: float | None  # ICC(C,1) over the items every panellist rated
    icc_items: int  # how many items that is

    @property
    def counted(self) -> int:
        """Panellists whose own cut counts in the SD and the standard error."""
        return sum(1 for p in self.panellists if p.cut is not None)


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _weighted_mean(pairs: Sequence[tuple[float, float]]) -> float | None:
    """Σ mark × rating / Σ mark over (rating, mark) pairs; None without marks."""
    marks = math.fsum(m for _, m in pairs)
    return math.fsum(r * m for r, m in pairs) / marks if marks else None


def _form_cut(
    blueprint: Sequence[BlueprintEntry],
    topic_means: Mapping[str, float | None],
    topic_marks: Mapping[str, float] | None = None,
) -> float | None:
    """Σ count × mean mark × topic mean over Σ count × mean mark, as a percent; None if any
    topic has no mean."""
    parts, weights = [], []
    for entry in blueprint:
        mean = topic_means.get(entry.topic)
        if mean is None:
            return None
        weight = entry.items * (topic_marks or {}).get(entry.topic, 1.0)
        parts.append(weight * mean)
        weights.append(weight)
    total = math.fsum(weights)
    return 100 * math.fsum(parts) / total if total else None


def study_result(
    *,
    blueprint: Sequence[BlueprintEntry],
    rules: PassRules,
    items: Sequence[tuple[str, str]],
    ratings: Mapping[tuple[str, str], float],
    panellists: Sequence[str],
    marks: Mapping[str, float] | None = None,
) -> StudyResult:
    """The results of a study from its final ratings.

    ``items`` are (item, topic) in the study's order; ``ratings`` map (panellist, item) to the
    final rating (0..1); ``panellists`` name the panel in the order to report them; ``marks``
    give each item's maximum mark (1 where not given).
    """
    mark = {key: (marks or {}).get(key, 1.0) for key, _ in items}
    by_item: dict[str, list[float]] = {key: [] for key, _ in items}
    for p in panellists:
        for key in by_item:
            if (p, key) in ratings:
                by_item[key].append(ratings[(p, key)])
    item_results = tuple(
        ItemResult(
            key,
            topic,
            len(by_item[key]),
            _mean(by_item[key]),
            statistics.stdev(by_item[key]) if len(by_item[key]) > 1 else None,
        )
        for key, topic in items
    )
    topic_of = dict(items)
    topics = []
    topic_means: dict[str, float | None] = {}
    topic_marks: dict[str, float] = {}
    for entry in blueprint:
        rated = [r for r in item_results if r.topic == entry.topic and r.mean is not None]
        means = [r.mean for r in rated if r.mean is not None]
        topic_means[entry.topic] = _weighted_mean(
            [(r.mean, mark[r.item]) for r in rated if r.mean is not None]
        )
        in_topic = [mark[key] for key, topic in items if topic == entry.topic]
        topic_marks[entry.topic] = _mean(in_topic) or 0.0
        topics.append(
            TopicResult(
                topic=entry.topic,
                drawn=entry.items,
                rated=len(means),
                items=sum(1 for t in topic_of.values() if t == entry.topic),
                mean=topic_means[entry.topic],
                required=rules.topics.get(entry.topic),
            )
        )
    cuts = []
    for p in panellists:
        own: dict[str, list[tuple[float, float]]] = {}
        for key, topic in items:
            if (p, key) in ratings:
                own.setdefault(topic, []).append((ratings[(p, key)], mark[key]))
        own_means = {entry.topic: _weighted_mean(own.get(entry.topic, [])) for entry in blueprint}
        cuts.append(
            PanellistCut(
                p, _form_cut(blueprint, own_means, topic_marks), sum(map(len, own.values()))
            )
        )
    counted = [c.cut for c in cuts if c.cut is not None]
    sd = statistics.stdev(counted) if len(counted) > 1 else None
    complete = [key for key, _ in items if all((p, key) in ratings for p in panellists)]
    matrix = [[ratings[(p, key)] for p in panellists] for key in complete]
    return StudyResult(
        items=item_results,
        topics=tuple(topics),
        cut=_form_cut(blueprint, topic_means, topic_marks),
        panellists=tuple(cuts),
        cut_sd=sd,
        standard_error=sd / math.sqrt(len(counted)) if sd is not None else None,
        icc=icc_consistency(matrix),
        icc_items=len(complete),
    )


def icc_consistency(matrix: Sequence[Sequence[float]]) -> float | None:
    """ICC(C,1) of an items × raters matrix: (MSR − MSE) / (MSR + (k − 1) MSE).

    MSR is the mean square between items (rows), MSE the residual mean square after rows and
    columns (raters) are taken out (McGraw & Wong 1996, case 3, consistency, single measure).
    None below two items or two raters, or when the items do not differ at all.
    """
    n = len(matrix)
    k = len(matrix[0]) if matrix else 0
    if n < 2 or k < 2:
        return None
    grand = math.fsum(x for row in matrix for x in row) / (n * k)
    row_means = [math.fsum(row) / k for row in matrix]
    col_means = [math.fsum(row[j] for row in matrix) / n for j in range(k)]
    ss_rows = k * math.fsum((m - grand) ** 2 for m in row_means)
    ss_cols = n * math.fsum((m - grand) ** 2 for m in col_means)
    ss_total = math.fsum((x - grand) ** 2 for row in matrix for x in row)
    ms_rows = ss_rows / (n - 1)
    ms_error = max(0.0, ss_total - ss_rows - ss_cols) / ((n - 1) * (k - 1))
    denominator = ms_rows + (k - 1) * ms_error
    if denominator <= _SLACK:
        return None
    icc = (ms_rows - ms_error) / denominator
    return 0.0 if abs(icc) < _SLACK else icc  # no "-0.00" from rounding dust


def item_ratings(result: StudyResult) -> dict[str, float]:
    """The panel's rating of each rated item (its mean), as the ratings file carries it."""
    return {r.item: round(r.mean, DECIMALS) for r in result.items if r.mean is not None}


# --- the ratings file: a study's final ratings in the content tree ------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StudyInfo(_Frozen):
    """Where the ratings come from: the study, its exam, when it closed, how big the panel was."""

    id: Slug
    exam: Slug
    closed: date
    panellists: int = Field(ge=1, le=1000)
    rounds: int = Field(ge=1, le=10)


class RatingsFile(_Frozen):
    """``question_banks/<bank>/ratings/<study-id>.yaml``: a study's final rating of each item."""

    study: StudyInfo
    ratings: dict[Slug, Fraction] = Field(min_length=1)


def check_ratings_file(
    ratings: RatingsFile, file_stem: str, item_ids: Iterable[str]
) -> list[LocatedMessage]:
    """Problems of a ratings file against its name and the items of its bank."""
    out = []
    if ratings.study.id != file_stem:
        out.append(
            LocatedMessage(
                ("study", "id"), f"study id '{ratings.study.id}' differs from file '{file_stem}'"
            )
        )
    known = set(item_ids)
    out += [
        LocatedMessage(("ratings", key), f"unknown item '{key}' (not in this bank)")
        for key in ratings.ratings
        if key not in known
    ]
    return out


@dataclass(frozen=True)
class PanelRating:
    """The panel rating an item carries into the draw, with where it came from."""

    rating: float
    study: StudyInfo
    path: str


def effective_ratings(files: Sequence[tuple[RatingsFile, str]]) -> dict[str, PanelRating]:
    """Each rated item's rating from the newest study that rated it (by closing date, then id).

    ``files`` are the bank's ratings files with their paths.
    """
    out: dict[str, PanelRating] = {}
    for ratings, path in sorted(files, key=lambda f: (f[0].study.closed, f[0].study.id)):
        for key, value in ratings.ratings.items():
            out[key] = PanelRating(value, ratings.study, path)
    return out
