"""Who commits: a request once, in the web layer; a job through unit_of_work; no service, no command.

These read the source, so they need no app: a service that commits would end a request's
transaction half-way, and a command that commits by hand would skip the rollback on error.
"""

from __future__ import annotations

import ast
from pathlib import Path

import elearn

PACKAGE = Path(elearn.__file__).parent
TRANSACTION_CALLS = {"commit", "rollback", "begin", "begin_nested"}
SESSION_MAKERS = {
    "elearn.db.open_session",
    "elearn.db.get_session",
    "sqlmodel.Session",
    "sqlalchemy.orm.Session",
}


def modules(folder: str) -> dict[str, ast.Module]:
    """Every module of ``elearn/<folder>`` by file stem, parsed."""
    files = sorted((PACKAGE / folder).glob("*.py"))
    return {f.stem: ast.parse(f.read_text(encoding="utf-8"), str(f)) for f in files}


def called(tree: ast.AST) -> set[str]:
    """The names of the functions and methods the module calls (``x.commit()`` -> "commit")."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
            elif isinstance(node.func, ast.Name):
                names.add(node.func.id)
    return names


def imported(tree: ast.AST) -> set[str]:
    """Everything the module imports, as dotted names ("elearn.db.open_session")."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def test_no_service_commits() -> None:
    services = sorted((PACKAGE / "services").glob("*.py"))
    assert {"xapi.py", "certificates.py", "exams.py"} <= {f.name for f in services}
    committing = [f.name for f in services if "commit(" in f.read_text(encoding="utf-8")]
    assert committing == []


def test_commands_reach_the_database_only_through_jobs() -> None:
    commands = modules("cli")
    assert {"db", "content", "demo", "users", "staff", "xapi", "bank"} <= commands.keys()
    by_hand = {
        name: sorted(called(tree) & TRANSACTION_CALLS) + sorted(imported(tree) & SESSION_MAKERS)
        for name, tree in commands.items()
    }
    assert {name: found for name, found in by_hand.items() if found} == {}
    # The commands that write do so through a job or its unit of work.
    through_jobs = {
        name
        for name, tree in commands.items()
        if any(i.startswith("elearn.jobs") for i in imported(tree))
    }
    assert {"content", "demo", "exams", "staff", "users", "xapi"} <= through_jobs


def test_jobs_commit_only_in_unit_of_work() -> None:
    jobs = modules("jobs")
    assert {"__init__", "xapi", "content", "exams", "demo", "staff"} <= jobs.keys()
    committing = sorted(name for name, tree in jobs.items() if "commit" in called(tree))
    assert committing == ["__init__"]
    helper = next(
        node
        for node in ast.walk(jobs["__init__"])
        if isinstance(node, ast.FunctionDef) and node.name == "unit_of_work"
    )
    assert {"commit", "rollback", "open_session"} <= called(helper)
    others = {name: tree for name, tree in jobs.items() if name != "__init__"}
    assert all("unit_of_work" in called(tree) for tree in others.values()), sorted(others)
