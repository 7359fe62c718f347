"""Reading a staff list (``name,email,unit,roles``) from CSV: pure, every bad row reported."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from elearn.domain.text import TextRefused, clean_name, clean_text

COLUMNS = ("name", "email", "unit", "roles")
DEFAULT_ROLES = ("learner",)
NAME_MAX = 200  # User.name
EMAIL_MAX = 254  # User.email
UNIT_NAME_MAX = 200  # OrgUnit.name

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"  # letters (any script), digits, inner hyphens
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+(?:[^\W\d_]{{2,}}|xn--[a-z0-9-]+)")


@dataclass(frozen=True)
class StaffRow:
    line: int  # 1-based line in the file (header is line 1)
    name: str
    email: str  # normalised: stripped, lower case
    unit: str  # normalised path: parts stripped, joined with "/"
    roles: tuple[str, ...]  # sorted, unique; an empty cell means ("learner",)


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


def decode_staff_file(data: bytes) -> str:
    """The text of an uploaded file; ValueError unless it is UTF-8 (a BOM is fine) without NUL
    characters (no text holds them; PostgreSQL refused them with a 500)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"the file is not UTF-8 text (byte {exc.start + 1}): save it as 'CSV UTF-8'"
        ) from None
    if "\x00" in text:
        raise ValueError(
            f"the file is not text: it holds a NUL character (character {text.index(chr(0)) + 1})"
        )
    return text


def normalise_email(email: str) -> str:
    """An e-mail address as accounts store it: trimmed, in lower case."""
    return email.strip().lower()


def valid_email(email: str) -> bool:
    local, _, _domain = email.partition("@")
    return len(email) <= EMAIL_MAX and len(local) <= 64 and _EMAIL.fullmatch(email) is not None


def _delimiter(text: str) -> str:
    """';' where the header line holds more of them than ',' (Excel in nb/da), else ','."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if header.count(";") > header.count(",") else ","


def _blank(record: list[str]) -> bool:
    return not any(cell.strip() for cell in record)


def _header_error(record: list[str]) -> str | None:
    found = [cell.strip().lower() for cell in record]
    if sorted(found) == sorted(COLUMNS):
        return None
    return f"the header must be {','.join(COLUMNS)} (in any order), found '{','.join(record)}'"


def _check_row(
    line: int, cells: dict[str, str], known: Sequence[str]
) -> tuple[StaffRow, list[str]]:
    """The row normalised, and what is wrong with it (the row is good when nothing is)."""
    problems: list[str] = []
    name = ""
    if not cells["name"].strip():
        problems.append("missing name")
    else:
        try:  # a line break or tab in the cell is read as a space, any other control refused
            name = " ".join(clean_text(cells["name"], multiline=True, required=True).split())
        except TextRefused as refused:
            problems.append(f"name {refused}")
        if len(name) > NAME_MAX:
            problems.append(f"name longer than {NAME_MAX} characters")

    email = normalise_email(cells["email"])
    if not email:
        problems.append("missing e-mail address")
    elif not valid_email(email):
        problems.append(f"invalid e-mail address '{cells['email'].strip()}'")

    parts = [part.strip() for part in cells["unit"].split("/")]
    unit = "/".join(parts)
    if not unit:
        problems.append("empty unit path")
    elif not all(parts):
        problems.append(f"empty unit name in '{cells['unit'].strip()}'")
    else:
        try:
            parts = [clean_name(part) for part in parts]
        except TextRefused as refused:
            problems.append(f"unit name {refused}")
        unit = "/".join(parts)
        if any(len(part) > UNIT_NAME_MAX for part in parts):
            problems.append(f"unit name longer than {UNIT_NAME_MAX} characters")

    roles = sorted({r.strip().lower() for r in cells["roles"].split(";") if r.strip()})
    unknown = [r for r in roles if r not in known]
    if unknown:
        quoted = ", ".join(f"'{r}'" for r in unknown)
        plural = "s" if len(unknown) > 1 else ""
        problems.append(f"unknown role{plural} {quoted} (known: {', '.join(sorted(known))})")

    return StaffRow(line, name, email, unit, tuple(roles) or DEFAULT_ROLES), problems


def parse_staff_csv(text: str, known_roles: Sequence[str]) -> tuple[list[StaffRow], list[RowError]]:
    """The good rows and, for every bad one, its line and reason (a bad header stops all)."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[StaffRow] = []
    errors: list[RowError] = []
    columns: list[str] | None = None
    first_line_of: dict[str, int] = {}
    line = 1  # where the next record starts
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if _blank(record):
                continue
            if columns is None:
                problem = _header_error(record)
                if problem:
                    return [], [RowError(start, problem)]
                columns = [cell.strip().lower() for cell in record]
                continue
            if len(record) != len(COLUMNS):
                message = f"expected {len(COLUMNS)} columns, found {len(record)}"
                if len(record) > len(COLUMNS):
                    message += " (put a field that holds the delimiter in double quotes)"
                errors.append(RowError(start, message))
                continue
            row, problems = _check_row(start, dict(zip(columns, record, strict=True)), known_roles)
            if valid_email(row.email):
                earlier = first_line_of.setdefault(row.email, start)
                if earlier != start:
                    problems.append(f"e-mail also on line {earlier}")
            errors.extend(RowError(start, problem) for problem in problems)
            if not problems:
                rows.append(row)
    except csv.Error as exc:
        errors.append(RowError(line, f"unreadable CSV: {exc}"))
    if columns is None and not errors:
        errors.append(RowError(1, f"the file is empty: expected the header {','.join(COLUMNS)}"))
    return rows, errors
