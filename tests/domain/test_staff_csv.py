"""Reading the staff CSV: delimiters, BOM, quoting, and every bad row with its line."""

from __future__ import annotations

import pytest

from elearn.domain.staff import RowError, StaffRow, decode_staff_file, parse_staff_csv

ROLES = ("learner", "manager", "certifier", "admin")
KNOWN = "(known: admin, certifier, learner, manager)"
HEADER = "name,email,unit,roles\n"


def parse(text: str) -> tuple[list[StaffRow], list[RowError]]:
    return parse_staff_csv(text, ROLES)


def errors_of(body: str) -> list[tuple[int, str]]:
    _rows, errors = parse(HEADER + body)
    return [(e.line, e.message) for e in errors]


EXPECTED = [
    StaffRow(2, "Hansen, Per", "per.hansen@example.org", "Eksempel kommune/Innkjøp", ("learner",)),
    StaffRow(3, "Åse Ødegård", "ase@example.org", "Eksempel kommune", ("learner", "manager")),
]


def test_comma_file_with_quoted_name() -> None:
    text = (
        "name,email,unit,roles\n"
        '"Hansen, Per",Per.Hansen@Example.org,Eksempel kommune/Innkjøp,\n'
        "Åse Ødegård,ase@example.org,Eksempel kommune,manager;learner\n"
    )
    assert parse(text) == (EXPECTED, [])


def test_semicolon_file_from_excel_with_bom_and_crlf() -> None:
    text = (
        "\ufeffname;email;unit;roles\r\n"
        '"Hansen, Per";per.hansen@example.org;Eksempel kommune/Innkjøp;learner\r\n'
        'Åse Ødegård;ase@example.org;Eksempel kommune;"manager;learner"\r\n'
    )
    assert parse(text) == (EXPECTED, [])


def test_decode_accepts_utf8_with_and_without_bom_and_refuses_latin1() -> None:
    text = HEADER + "Åse,ase@example.org,A,\n"
    assert decode_staff_file(text.encode("utf-8")) == text
    assert decode_staff_file(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    with pytest.raises(ValueError, match="not UTF-8"):
        decode_staff_file(text.encode("cp1252"))


def test_header_in_any_order_and_case_with_spaces() -> None:
    rows, errors = parse(
        " Roles , UNIT,Email ,name\nadmin,A / B ,x@example.org,  Ola   Nordmann \n"
    )
    assert errors == []
    assert rows == [StaffRow(2, "Ola Nordmann", "x@example.org", "A/B", ("admin",))]


@pytest.mark.parametrize(
    "header",
    ["name,email,unit\n", "name,email,unit,roles,extra\n", "navn,epost,enhet,roller\n", "a\n"],
)
def test_wrong_header_is_one_error_on_line_1(header: str) -> None:
    rows, errors = parse(header + "Per,per@example.org,A,\nbad,row\n")
    assert rows == []
    assert len(errors) == 1 and errors[0].line == 1
    assert errors[0].message.startswith("the header must be name,email,unit,roles")


def test_empty_file() -> None:
    for text in ("", "\ufeff", "\n\r\n  \n"):
        rows, errors = parse(text)
        assert rows == [] and [e.line for e in errors] == [1]
        assert "empty" in errors[0].message


def test_blank_lines_are_skipped_and_lines_still_counted() -> None:
    rows, errors = parse(HEADER + "\n\nPer,per@example.org,A,\n,,,\n  \nOla,ola@example.org,B,\n")
    assert errors == []
    assert [(r.line, r.email) for r in rows] == [(4, "per@example.org"), (7, "ola@example.org")]


def test_quoted_newline_counts_its_lines() -> None:
    rows, errors = parse(HEADER + '"Per\nHansen",per@example.org,A,\nbad\n')
    assert [(r.line, r.name) for r in rows] == [(2, "Per Hansen")]
    assert errors == [RowError(4, "expected 4 columns, found 1")]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (",per@example.org,A,", "missing name"),
        ("Per,,A,", "missing e-mail address"),
        ("Per,x,A,", "invalid e-mail address 'x'"),
        ("Per,per@example,A,", "invalid e-mail address 'per@example'"),
        ("Per,per@@example.org,A,", "invalid e-mail address 'per@@example.org'"),
        ("Per,per hansen@example.org,A,", "invalid e-mail address 'per hansen@example.org'"),
        ("Per,per.@example.org,A,", "invalid e-mail address 'per.@example.org'"),
        ("Per,per@example.org,,", "empty unit path"),
        ("Per,per@example.org, / ,", "empty unit name in '/'"),
        ("Per,per@example.org,A//B,", "empty unit name in 'A//B'"),
        ("Per,per@example.org,A/,", "empty unit name in 'A/'"),
        ("Per,per@example.org,A,boss", f"unknown role 'boss' {KNOWN}"),
        ("Per,per@example.org,A,learner;Boss;king", f"unknown roles 'boss', 'king' {KNOWN}"),
        ("Per,per@example.org,A", "expected 4 columns, found 3"),
        (
            "Hansen, Per,per@example.org,A,",
            "expected 4 columns, found 5 (put a field that holds the delimiter in double quotes)",
        ),
        ("P" * 201 + ",per@example.org,A,", "name longer than 200 characters"),
        ("Per,per@example.org," + "A" * 201 + ",", "unit name longer than 200 characters"),
    ],
)
def test_each_bad_row_kind_with_its_line(line: str, message: str) -> None:
    rows, errors = parse(
        HEADER + "Ola,ola@example.org,A,\n\n" + line + "\nKari,kari@example.org,A,\n"
    )
    assert errors == [RowError(4, message)]
    assert [r.email for r in rows] == ["ola@example.org", "kari@example.org"]


def test_every_problem_of_a_row_is_reported() -> None:
    assert errors_of(",x,,boss\n") == [
        (2, "missing name"),
        (2, "invalid e-mail address 'x'"),
        (2, "empty unit path"),
        (2, f"unknown role 'boss' {KNOWN}"),
    ]


def test_duplicate_email_is_an_error_on_the_later_line() -> None:
    body = (
        "Per,per@example.org,A,\n"  # line 2
        "Ola,ola@example.org,A,\n"
        " Per 2 , PER@Example.org ,B,\n"  # line 4: same address, other case
        "Per 3,per@example.org,B,boss\n"  # line 5: bad role and a duplicate
    )
    rows, errors = parse(HEADER + body)
    assert [r.line for r in rows] == [2, 3]
    assert errors == [
        RowError(4, "e-mail also on line 2"),
        RowError(5, f"unknown role 'boss' {KNOWN}"),
        RowError(5, "e-mail also on line 2"),
    ]


def test_first_of_two_rows_with_the_same_address_can_itself_be_bad() -> None:
    assert errors_of("Per,per@example.org,,\nPer,per@example.org,A,\n") == [
        (2, "empty unit path"),
        (3, "e-mail also on line 2"),
    ]


@pytest.mark.parametrize(
    ("cell", "roles"),
    [
        ("", ("learner",)),
        ("  ", ("learner",)),
        (";", ("learner",)),
        ("manager", ("manager",)),
        (" Manager ; LEARNER ;manager;", ("learner", "manager")),
        ("admin;certifier;manager;learner", ("admin", "certifier", "learner", "manager")),
    ],
)
def test_roles_are_normalised(cell: str, roles: tuple[str, ...]) -> None:
    rows, errors = parse(f'{HEADER}Per,per@example.org,A,"{cell}"\n')
    assert errors == [] and rows[0].roles == roles


def test_email_and_unit_are_normalised() -> None:
    rows, errors = parse(
        HEADER + "Per,  Per.Hansen+kurs@Kommune.NO ,  Eksempel kommune /  Innkjøp ,\n"
    )
    assert errors == []
    assert rows[0].email == "per.hansen+kurs@kommune.no"
    assert rows[0].unit == "Eksempel kommune/Innkjøp"


def test_international_domain_is_an_address() -> None:
    rows, errors = parse(HEADER + "Per,per@bærum.kommune.no,A,\nOla,ola@xn--brum-roa.no,A,\n")
    assert errors == [] and len(rows) == 2


def test_names_and_units_are_stored_composed() -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Åse Ødegård")
    unit = unicodedata.normalize("NFD", "Kommune/Innkjøp")
    rows, errors = parse(HEADER + f"{nfd},ase@example.org,{unit},\n")
    assert errors == [] and nfd != "Åse Ødegård"
    assert (rows[0].name, rows[0].unit) == ("Åse Ødegård", "Kommune/Innkjøp")


def test_names_and_units_with_control_bidi_or_nothing_visible_are_refused() -> None:
    body = (
        "Ann\x00Admin,a@example.org,A,\n"
        "Ann\u202eAdmin,b@example.org,A,\n"
        '"   ",c@example.org,A,\n'
        "\u200b\u3164,d@example.org,A,\n"
        "Dan,e@example.org,A/B\u2066x,\n"
        '"Eva\r\nEvensen",f@example.org,A,\n'  # a line break inside quotes: read as a space
    )
    rows, errors = parse(HEADER + body)
    assert [(e.line, e.message) for e in errors] == [
        (2, "name contains a control character, which is not allowed (U+0000)"),
        (3, "name contains a character that reverses the direction of text, which is not "
            "allowed (U+202E)"),
        (4, "missing name"),
        (5, "name needs visible text, not only spaces or invisible characters"),
        (6, "unit name contains a character that reverses the direction of text, which is not "
            "allowed (U+2066)"),
    ]  # fmt: skip
    assert [(r.line, r.name) for r in rows] == [(7, "Eva Evensen")]
