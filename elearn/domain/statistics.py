"""Item analysis of exam attempts, computed as Moodle's quiz statistics report defines it.

The formulas follow docs.moodle.org/dev/Quiz_statistics_calculations and Moodle's own code
(question/classes/statistics/questions/calculator.php, mod/quiz/report/statistics/classes/
calculator.php); docs/item-statistics.md gives each one with how to read it. Marks are fractions
0..1 of the item's maximum, one row per attempt, None where the item was not on the attempt's
form. Each item may carry a maximum mark (1 unless given): Moodle computes on marks, the fraction
times the maximum, so an item worth 2 weighs twice in the totals, and an item worth 0 is left
out of everything but its count and its intended weight. Anything undefined (too few attempts,
no spread) comes back as None, never as an error.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from elearn.domain.csvfile import write_csv

FLAG_HARD = "facility < 0.3"
FLAG_EASY = "facility > 0.9"
FLAG_WEAK = "discrimination < 0.2"
FLAG_NEGATIVE = "negative discrimination"

FACILITY_LOW = 0.3
FACILITY_HIGH = 0.9
DISCRIMINATION_LOW = 20.0  # percent, as the discrimination index is given

ITEMS_CSV_HEADER = (
    "item",
    "n",
    "facility",
    "sd",
    "discrimination_index",
    "discriminative_efficiency",
    "effective_weight",
)
SUMMARY_KEYS = (
    "n_attempts",
    "mean",
    "median",
    "sd",
    "skewness",
    "kurtosis",
    "alpha",
    "error_ratio",
    "standard_error",
)

# A variance or covariance this close to zero is zero: marks are 0..1, so real spreads are many
# orders larger, and sums such as 0.1 + 0.2 leave rounding dust that must not count as spread.
_ZERO = 1e-12


@dataclass(frozen=True)
class ItemStatistics:
    """One item's statistics over the attempts that had it on their form."""

    item: str
    n: int  # attempts that had the item
    facility: float | None  # 0..1
    sd: float | None  # 0..1
    discrimination_index: float | None  # percent
    discriminative_efficiency: float | None  # percent
    effective_weight: float | None  # percent
    flags: tuple[str, ...]
    max_mark: float | None = 1.0  # the item's maximum mark (the mean, where forms differ)
    intended_weight: float | None = None  # percent: its maximum mark's share of its forms'


@dataclass(frozen=True)
class TestStatistics:
    """The whole test's statistics over attempts' totals, each a percent of its form's maximum."""

    __test__ = False  # a domain class, not a pytest test class

    n_attempts: int
    mean: float | None  # percent of the maximum
    median: float | None  # percent of the maximum
    sd: float | None  # percent of the maximum
    skewness: float | None
    kurtosis: float | None
    alpha: float | None  # 0..1 (show as percent in UIs)
    error_ratio: float | None  # percent
    standard_error: float | None  # percent


class MarksFileError(ValueError):
    """A marks file that cannot be read, with the line to fix so the user can find it."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")


def _mean(values: Sequence[float]) -> float:
    """Arithmetic mean with an exactly rounded sum, so hand-worked values match to the end."""
    return math.fsum(values) / len(values)


def _covariance(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Sample covariance (N − 1 denominator, as Moodle uses); None below two pairs."""
    n = len(a)
    if n < 2:
        return None
    mean_a, mean_b = _mean(a), _mean(b)
    return math.fsum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True)) / (n - 1)


def _is_zero(value: float) -> bool:
    """Whether a variance or covariance is zero but for rounding dust."""
    return abs(value) <= _ZERO


# One cell of the matrix in marks: (marks earned, the item's maximum mark), None if not on the form.
_Cell = tuple[float, float] | None


@dataclass(frozen=True)
class _ItemWork:
    """One item's marks paired with its attempts' rest-of-test and total, before weighting.

    Only the attempts on which the item carried marks are here: a zero-mark item has none.
    """

    item: str
    n: int  # attempts that had the item on their form
    marks: tuple[float, ...]  # in marks: the fraction times the maximum mark
    maxima: tuple[float, ...]  # the maximum mark on each of those attempts (> 0)
    rests: tuple[float, ...]
    totals: tuple[float, ...]
    max_mark: float | None
    intended_weight: float | None


def _flags(facility: float | None, discrimination: float | None) -> tuple[str, ...]:
    """The review flags an item earns; an undefined statistic earns none."""
    flags: list[str] = []
    if facility is not None:
        if facility < FACILITY_LOW:
            flags.append(FLAG_HARD)
        elif facility > FACILITY_HIGH:
            flags.append(FLAG_EASY)
    if discrimination is not None:
        if discrimination < 0:
            flags.append(FLAG_NEGATIVE)
        elif discrimination < DISCRIMINATION_LOW:
            flags.append(FLAG_WEAK)
    return tuple(flags)


def _item_statistics(work: _ItemWork, effective_weight: float | None) -> ItemStatistics:
    """Facility, SD, discrimination index and efficiency of one item, as Moodle computes them:
    on marks, with facility and SD as fractions of the maximum mark."""
    xs, rests = work.marks, work.rests
    facility = math.fsum(xs) / math.fsum(work.maxima) if xs else None
    variance = _covariance(xs, xs)
    rest_variance = _covariance(rests, rests)
    covariance = _covariance(xs, rests)
    # C_max pairs the two sets sorted the same way: the largest covariance their values allow.
    covariance_max = _covariance(sorted(xs), sorted(rests))
    sd = None if variance is None else math.sqrt(max(variance, 0.0)) / _mean(work.maxima)

    discrimination = None
    if (
        covariance is not None
        and variance is not None
        and rest_variance is not None
        and not _is_zero(variance)
        and not _is_zero(rest_variance)
    ):
        discrimination = 100 * covariance / math.sqrt(variance * rest_variance)
    efficiency = None
    if covariance is not None and covariance_max is not None and not _is_zero(covariance_max):
        efficiency = 100 * covariance / covariance_max

    return ItemStatistics(
        item=work.item,
        n=work.n,
        facility=facility,
        sd=sd,
        discrimination_index=discrimination,
        discriminative_efficiency=efficiency,
        effective_weight=effective_weight,
        flags=_flags(facility, discrimination),
        max_mark=work.max_mark,
        intended_weight=work.intended_weight,
    )


def _effective_weights(works: Sequence[_ItemWork]) -> list[float | None]:
    """EW_i = 100 √C(x_i, X) / Σ_j √C(x_j, X) over items whose covariance with the total is ≥ 0."""
    roots: list[float | None] = []
    for work in works:
        c = _covariance(work.marks, work.totals)
        if c is None or (c < 0 and not _is_zero(c)):
            roots.append(None)  # undefined, or a negative covariance Moodle cannot weigh
        else:
            roots.append(math.sqrt(max(c, 0.0)))
    total = math.fsum(r for r in roots if r is not None)
    if _is_zero(total):
        return [None] * len(works)
    return [None if r is None else 100 * r / total for r in roots]


def _bad_number(value: float) -> bool:
    return isinstance(value, bool) or not math.isfinite(value)


def _maxima(
    items: Sequence[str],
    rows: int,
    max_marks: Sequence[float] | None,
    cell_max_marks: Sequence[Sequence[float | None]] | None,
) -> list[list[float | None]]:
    """The maximum mark of every cell: one per item for every attempt, or one per cell."""
    if max_marks is not None and cell_max_marks is not None:
        raise ValueError("give maximum marks per item or per cell, not both")
    if cell_max_marks is None:
        per_item = [1.0] * len(items) if max_marks is None else [float(m) for m in max_marks]
        if len(per_item) != len(items):
            raise ValueError(f"{len(per_item)} maximum marks for {len(items)} items")
        if any(_bad_number(m) or m < 0 for m in per_item):
            raise ValueError(f"maximum marks {per_item!r}: each must be a number ≥ 0")
        return [list(per_item) for _ in range(rows)]
    if len(cell_max_marks) != rows:
        raise ValueError(f"{len(cell_max_marks)} rows of maximum marks for {rows} attempts")
    matrix: list[list[float | None]] = []
    for p, row in enumerate(cell_max_marks):
        if len(row) != len(items):
            raise ValueError(f"attempt {p}: {len(row)} maximum marks for {len(items)} items")
        for m in row:
            if m is not None and (_bad_number(m) or m < 0):
                raise ValueError(f"attempt {p}: maximum mark {m!r} is not a number ≥ 0")
        matrix.append([None if m is None else float(m) for m in row])
    return matrix


def _cells(
    items: Sequence[str],
    marks: Sequence[Sequence[float | None]],
    max_marks: Sequence[float] | None,
    cell_max_marks: Sequence[Sequence[float | None]] | None,
) -> list[list[_Cell]]:
    """Refuses a matrix that does not fit its items, so nothing is silently misaligned, and
    turns fractions into (marks earned, maximum mark) cells."""
    if len(set(items)) != len(items):
        raise ValueError("item ids must be unique")
    for p, row in enumerate(marks):
        if len(row) != len(items):
            raise ValueError(f"attempt {p}: {len(row)} marks for {len(items)} items")
        for mark in row:
            if mark is not None and not (math.isfinite(mark) and 0.0 <= mark <= 1.0):
                raise ValueError(f"attempt {p}: mark {mark!r} is outside 0..1")
    maxima = _maxima(items, len(marks), max_marks, cell_max_marks)
    cells: list[list[_Cell]] = []
    for p, (row, top) in enumerate(zip(marks, maxima, strict=True)):
        out: list[_Cell] = []
        for mark, m in zip(row, top, strict=True):
            if mark is None:
                out.append(None)
            elif m is None:
                raise ValueError(f"attempt {p}: a mark without a maximum mark")
            else:
                out.append((mark * m, m))
        cells.append(out)
    return cells


def _test_statistics(
    cells: Sequence[Sequence[_Cell]], works: Sequence[_ItemWork]
) -> TestStatistics:
    """Test-level statistics over the totals of the attempts whose form carried marks."""
    present = [[c for c in row if c is not None] for row in cells]
    taken = [row for row in present if math.fsum(m for _, m in row) > 0]  # else it says nothing
    totals = [math.fsum(x for x, _ in row) for row in taken]  # in marks
    percents = [
        100 * total / math.fsum(m for _, m in row) for total, row in zip(totals, taken, strict=True)
    ]
    n = len(percents)

    mean = _mean(percents) if n else None
    median = statistics.median(percents) if n else None
    k2 = _covariance(percents, percents)  # V(T), the sample variance
    sd = None if k2 is None else math.sqrt(max(k2, 0.0))

    skewness = kurtosis = None
    if mean is not None and k2 is not None and not _is_zero(k2):
        # Moodle's k-statistics from the central moments m2, m3, m4.
        m2 = math.fsum((t - mean) ** 2 for t in percents) / n
        m3 = math.fsum((t - mean) ** 3 for t in percents) / n
        m4 = math.fsum((t - mean) ** 4 for t in percents) / n
        if n > 2:
            k3 = n * n * m3 / ((n - 1) * (n - 2))
            skewness = k3 / k2**1.5
        if n > 3:
            k4 = n * n * ((n + 1) * m4 - 3 * (n - 1) * m2 * m2) / ((n - 1) * (n - 2) * (n - 3))
            kurtosis = k4 / (k2 * k2)

    alpha = _alpha(totals, works)
    error_ratio = None if alpha is None else 100 * math.sqrt(max(1 - alpha, 0.0))
    standard_error = None if error_ratio is None or sd is None else error_ratio * sd / 100
    return TestStatistics(
        n_attempts=n,
        mean=mean,
        median=median,
        sd=sd,
        skewness=skewness,
        kurtosis=kurtosis,
        alpha=alpha,
        error_ratio=error_ratio,
        standard_error=standard_error,
    )


def _alpha(totals: Sequence[float], works: Sequence[_ItemWork]) -> float | None:
    """Cronbach's alpha k/(k−1) × (1 − Σ V(x_i) / V(X)) on totals in marks; None on random forms.

    k counts the items that carried marks: an item no attempt had, or a zero-mark one, is not
    part of the test.
    """
    used = [w for w in works if w.marks]
    # Alpha needs every attempt to have sat the same k items, which random forms break.
    if len(used) < 2 or any(len(w.marks) != len(totals) for w in used):
        return None
    total_variance = _covariance(totals, totals)
    item_variances = [_covariance(w.marks, w.marks) for w in used]
    if total_variance is None or _is_zero(total_variance):
        return None
    k = len(used)
    item_variance = math.fsum(v for v in item_variances if v is not None)
    return k / (k - 1) * (1 - item_variance / total_variance)


def _work(
    item: str,
    column: Sequence[_Cell],
    totals: Sequence[float],
    forms: Sequence[float],
    declared: float | None,
) -> _ItemWork:
    """One item's cells with the totals (in marks) and form maxima of the attempts that had it."""
    had = [(c, t, f) for c, t, f in zip(column, totals, forms, strict=True) if c is not None]
    counted = [(c, t) for c, t, _ in had if c[1] > 0]
    # Its share of each form's maximum; a form without marks has no weights to share.
    weights = [100 * m / f for (_, m), _, f in had if f > 0]
    maxima = [m for (_, m), _, _ in had]
    return _ItemWork(
        item=item,
        n=len(had),
        marks=tuple(x for (x, _), _ in counted),
        maxima=tuple(m for (_, m), _ in counted),
        rests=tuple(t - x for (x, _), t in counted),
        totals=tuple(t for _, t in counted),
        max_mark=declared if declared is not None else (_mean(maxima) if maxima else None),
        intended_weight=_mean(weights) if weights else None,
    )


def analyse(
    items: Sequence[str],
    marks: Sequence[Sequence[float | None]],
    *,
    max_marks: Sequence[float] | None = None,
    cell_max_marks: Sequence[Sequence[float | None]] | None = None,
) -> tuple[list[ItemStatistics], TestStatistics]:
    """Item and test statistics of a marks matrix (rows: attempts; None: item not on the form).

    ``max_marks`` gives each item's maximum mark; ``cell_max_marks`` gives one per cell instead,
    for an item that carried different marks on different forms. Without either, every item is
    worth 1.
    """
    cells = _cells(items, marks, max_marks, cell_max_marks)
    if cell_max_marks is None:
        declared: list[float | None] = (
            [1.0] * len(items) if max_marks is None else [float(m) for m in max_marks]
        )
    else:
        declared = [None] * len(items)  # the mean of the item's cells, in _work
    totals = [math.fsum(c[0] for c in row if c is not None) for row in cells]
    forms = [math.fsum(c[1] for c in row if c is not None) for row in cells]
    works = [
        _work(item, [row[i] for row in cells], totals, forms, declared[i])
        for i, item in enumerate(items)
    ]
    weights = _effective_weights(works)
    item_stats = [_item_statistics(w, ew) for w, ew in zip(works, weights, strict=True)]
    return item_stats, _test_statistics(cells, works)


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """The file's CSV records with the line each ends on, skipping blank lines."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    while True:
        try:
            row = next(reader, None)
        except csv.Error as error:
            raise MarksFileError(max(reader.line_num, 1), str(error)) from None
        if row is None:
            return
        cells = [cell.strip() for cell in row]  # spreadsheets add blanks freely
        if any(cells):
            yield reader.line_num, cells


def _item_ids(line: int, header: list[str]) -> list[str]:
    """The item ids from the header line, which must be 'attempt,<item id>,...'."""
    expected = "expected the header 'attempt,<item id>,<item id>,...'"
    if header[0] != "attempt":
        raise MarksFileError(line, f"the first column must be 'attempt'; {expected}")
    items = header[1:]
    if not items:
        raise MarksFileError(line, f"no item columns; {expected}")
    seen: set[str] = set()
    for column, item in enumerate(items, start=2):
        if not item:
            raise MarksFileError(line, f"column {column} has no item id")
        if item in seen:
            raise MarksFileError(line, f"duplicate item id '{item}'")
        seen.add(item)
    return items


def _parse_mark(item: str, cell: str, line: int) -> float | None:
    """One cell as a mark 0..1; an empty cell means the item was not on the attempt's form."""
    if not cell:
        return None
    try:
        mark = float(cell)
    except ValueError:
        mark = math.nan
    if not math.isfinite(mark):
        raise MarksFileError(line, f"item '{item}': '{cell}' is not a number")
    if not 0.0 <= mark <= 1.0:
        raise MarksFileError(line, f"item '{item}': mark {cell} is outside 0..1")
    return mark


def read_marks_csv(text: str) -> tuple[list[str], list[str], list[list[float | None]]]:
    """Items, attempt ids and marks from a marks file; a bad line raises MarksFileError."""
    rows = _rows(text)
    first = next(rows, None)
    if first is None:
        raise MarksFileError(1, "the file is empty; expected the header 'attempt,<item id>,...'")
    items = _item_ids(*first)
    attempts: list[str] = []
    marks: list[list[float | None]] = []
    first_line: dict[str, int] = {}
    for line, cells in rows:
        if len(cells) != len(items) + 1:
            raise MarksFileError(line, f"expected {len(items) + 1} cells, found {len(cells)}")
        attempt = cells[0]
        if not attempt:
            raise MarksFileError(line, "the attempt id is empty")
        if attempt in first_line:
            raise MarksFileError(
                line, f"duplicate attempt id '{attempt}' (first on line {first_line[attempt]})"
            )
        first_line[attempt] = line
        attempts.append(attempt)
        marks.append(
            [_parse_mark(item, cell, line) for item, cell in zip(items, cells[1:], strict=True)]
        )
    return items, attempts, marks


def _fixed(value: float | None, decimals: int) -> str:
    """A number with fixed decimals, or an empty cell for an undefined statistic."""
    return "" if value is None else f"{value:.{decimals}f}"


def items_csv(stats: Sequence[ItemStatistics]) -> str:
    """The item table as CSV: facility and SD 0..1 to 4 decimals, the rest percent to 2."""
    return write_csv(
        header=ITEMS_CSV_HEADER,
        rows=(
            (
                s.item,
                s.n,
                _fixed(s.facility, 4),
                _fixed(s.sd, 4),
                _fixed(s.discrimination_index, 2),
                _fixed(s.discriminative_efficiency, 2),
                _fixed(s.effective_weight, 2),
            )
            for s in stats
        ),
        line_end="\n",
    )


def summary_dict(test: TestStatistics) -> dict[str, float | int | None]:
    """The test statistics as a JSON-ready mapping with fixed keys, for the CLI's --summary file."""
    return {key: getattr(test, key) for key in SUMMARY_KEYS}
