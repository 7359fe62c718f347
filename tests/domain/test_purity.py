"""elearn.domain stays pure: importing all of it loads no web, database or form library."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import elearn.domain

FORBIDDEN = (
    "flask",
    "flask_login",
    "flask_wtf",
    "flask_babel",
    "sqlmodel",
    "sqlalchemy",
    "wtforms",
    "werkzeug",
)


def test_domain_imports_no_flask_sqlmodel_or_wtforms() -> None:
    modules = [
        m.name for m in pkgutil.walk_packages(elearn.domain.__path__, prefix="elearn.domain.")
    ]
    assert "elearn.domain.content" in modules
    assert "elearn.domain.itemtypes.ordering" in modules  # item types are pure too
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout
    )
    bad = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN)
    assert bad == []
