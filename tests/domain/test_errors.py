"""Expected failures live in one module, each a DomainError with the status the web shows."""

from __future__ import annotations

import pytest

from elearn.domain import errors


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("AccountError", 400),
        ("NotEligible", 409),
        ("AttemptClosed", 409),
        ("InvalidAnswer", 400),
        ("NotFound", 404),
        ("Conflict", 409),
    ],
)
def test_each_expected_failure_is_a_domain_error_with_its_status(name: str, status: int) -> None:
    kind = getattr(errors, name)
    assert issubclass(kind, errors.DomainError) and kind.__module__ == "elearn.domain.errors"
    assert kind("message").status == status


def test_no_service_defines_an_exception_of_its_own() -> None:
    import importlib
    import pkgutil

    import elearn.services

    names = [m.name for m in pkgutil.iter_modules(elearn.services.__path__)]
    assert "exams" in names and "accounts" in names
    own = [
        f"{name}.{attr}"
        for name in names
        for attr, value in vars(importlib.import_module(f"elearn.services.{name}")).items()
        if isinstance(value, type)
        and issubclass(value, Exception)
        and value.__module__ == f"elearn.services.{name}"
    ]
    assert own == []


def test_an_account_error_names_its_form_field() -> None:
    error = errors.AccountError("taken", "email")
    assert (error.message, error.field, errors.AccountError("bad link").field) == (
        "taken",
        "email",
        None,
    )
