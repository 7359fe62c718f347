"""Item analysis of exam attempts, computed as Moodle's quiz statistics report defines it.

The formulas follow docs.moodle.org/dev/Quiz_statistics_calculations and Moodle's own code
(question/classes/statistics/questions/calculator.php, mod/quiz/report/statistics/classes/
calculator.php); docs/item-statistics.md gives each one with how to read it. Marks are fractions
0..1 of the item's maximum, one row per attempt, None where the item was not on the attempt's
form. Anything undefined (too few attempts, no spread) comes back as None, never as an error.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _ItemWork:
    """One item's marks paired with its attempts' rest-of-test and total, before weighting."""

    item: str
    marks: tuple[float, ...]
    rests: tuple[float, ...]
    totals: tuple[float, ...]


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
    """Facility, SD, discrimination index and efficiency of one item, as Moodle computes them."""
    xs, rests = work.marks, work.rests
    n = len(xs)
    facility = _mean(xs) if n else None
    variance = _covariance(xs, xs)
    rest_variance = _covariance(rests, rests)
    covariance = _covariance(xs, rests)
    # C_max pairs the two sets sorted the same way: the largest covariance their values allow.
    covariance_max = _covariance(sorted(xs), sorted(rests))
    sd = None if variance is None else math.sqrt(max(variance, 0.0))

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
        n=n,
        facility=facility,
        sd=sd,
        discrimination_index=discrimination,
        discriminative_efficiency=efficiency,
        effective_weight=effective_weight,
        flags=_flags(facility, discrimination),
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


def _validate(items: Sequence[str], marks: Sequence[Sequence[float | None]]) -> None:
    """Refuses a matrix that does not fit its items, so nothing is silently misaligned."""
    if len(set(items)) != len(items):
        raise ValueError("item ids must be unique")
    for p, row in enumerate(marks):
        if len(row) != len(items):
            raise ValueError(f"attempt {p}: {len(row)} marks for {len(items)} items")
        for mark in row:
            if mark is not None and not (math.isfinite(mark) and 0.0 <= mark <= 1.0):
                raise ValueError(f"attempt {p}: mark {mark!r} is outside 0..1")


def _test_statistics(
    marks: Sequence[Sequence[float | None]], works: Sequence[_ItemWork]
) -> TestStatistics:
    """Test-level statistics over the totals of the attempts that had at least one item."""
    present = [[m for m in row if m is not None] for row in marks]
    taken = [row for row in present if row]  # an attempt with no items says nothing
    percents = [100 * math.fsum(row) / len(row) for row in taken]
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

    alpha = _alpha([math.fsum(row) for row in taken], works)
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
    """Cronbach's alpha k/(k−1) × (1 − Σ V(x_i) / V(X)) on raw totals; None on random forms."""
    used = [w for w in works if w.marks]  # an item no attempt had is not part of the test
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


def analyse(
    items: Sequence[str], marks: Sequence[Sequence[float | None]]
) -> tuple[list[ItemStatistics], TestStatistics]:
    """Item and test statistics of a marks matrix (rows: attempts; None: item not on the form)."""
    _validate(items, marks)
    totals = [math.fsum(m for m in row if m is not None) for row in marks]
    works = []
    for i, item in enumerate(items):
        pairs = [(row[i], total) for row, total in zip(marks, totals, strict=True)]
        had = [(x, total) for x, total in pairs if x is not None]
        works.append(
            _ItemWork(
                item=item,
                marks=tuple(x for x, _ in had),
                rests=tuple(total - x for x, total in had),
                totals=tuple(total for _, total in had),
            )
        )
    weights = _effective_weights(works)
    item_stats = [_item_statistics(w, ew) for w, ew in zip(works, weights, strict=True)]
    return item_stats, _test_statistics(marks, works)


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
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ITEMS_CSV_HEADER)
    for s in stats:
        writer.writerow(
            (
                s.item,
                s.n,
                _fixed(s.facility, 4),
                _fixed(s.sd, 4),
                _fixed(s.discrimination_index, 2),
                _fixed(s.discriminative_efficiency, 2),
                _fixed(s.effective_weight, 2),
            )
        )
    return buffer.getvalue()


def summary_dict(test: TestStatistics) -> dict[str, float | int | None]:
    """The test statistics as a JSON-ready mapping with fixed keys, for the CLI's --summary file."""
    return {key: getattr(test, key) for key in SUMMARY_KEYS}
