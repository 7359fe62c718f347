"""The house stays as built: each layer imports only the layers below it, and no module imports
itself round a circle. Read from the source with ``ast``, without running any of it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "elearn"

# Each layer and the layers it may import (besides itself). A file at the package's top level is
# its own small layer.
MAY_IMPORT: dict[str, set[str]] = {
    "domain": set(),
    "clock": set(),
    "config": set(),
    "models": {"clock"},
    "content": {"domain"},
    "pdf": {"domain"},
    "db": {"domain"},
    "services": {"domain", "content", "models", "db", "clock", "pdf"},
    "auth": {"db", "models", "clock"},
    "i18n": {"db", "models"},
    "limits": {"domain"},
    "jobs": {"services", "domain", "content", "models", "db", "clock"},
    # A view may hand long work to a job that commits its own parts (the staff import).
    "web": {
        "services",
        "jobs",
        "domain",
        "content",
        "models",
        "db",
        "clock",
        "auth",
        "i18n",
        "limits",
    },
    "cli": {"jobs", "services", "domain", "content", "models", "db", "clock", "pdf"},
    "migrations": {"models", "db"},
    "wsgi": {"__init__"},
    "__init__": {"auth", "cli", "clock", "db", "i18n", "limits", "web", "config", "services"},
}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """The elearn modules a file imports, at any depth, except under ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("elearn")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("elearn"):
            found.add(node.module)
            # ``from elearn.services import audit`` imports the module elearn.services.audit
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def graph() -> dict[str, set[str]]:
    files = [p for p in PACKAGE.rglob("*.py") if "versions" not in p.parts]
    modules = {module_name(p): p for p in files}
    return {
        name: {m for m in imports(path) if m in modules} - {name} for name, path in modules.items()
    }


def test_every_layer_imports_only_the_layers_below_it() -> None:
    edges = graph()
    assert len(edges) > 80 and "elearn.domain.itemtypes.ordering" in edges
    wrong = sorted(
        f"{source} imports {target}"
        for source, targets in edges.items()
        for target in targets
        if layer(target) != layer(source) and layer(target) not in MAY_IMPORT[layer(source)]
    )
    assert wrong == []


def test_no_module_imports_itself_round_a_circle() -> None:
    edges = graph()
    # A package's __init__ may import its own modules (the item types load themselves).
    edges = {s: {t for t in ts if not s or not t.startswith(s + ".")} for s, ts in edges.items()}
    circles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                circles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert circles == []
