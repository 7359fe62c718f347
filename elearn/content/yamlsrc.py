"""YAML that remembers where each value stood, so that a problem can name its line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from elearn.domain.problems import Loc, LocatedMessage, Problem
from elearn.domain.text import refused_characters

M = TypeVar("M", bound=BaseModel)


@dataclass
class Located:
    """A parsed document and the line (1-based) of every key and list entry in it."""

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    offset: int = 0  # lines before the document in its file (front matter)

    def line(self, loc: Loc) -> int:
        """The line of the deepest part of ``loc`` that the document has."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]] + self.offset
        return 1 + self.offset


class YamlSyntaxError(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"{line}: {message}")


def parse_yaml(text: str, offset: int = 0) -> Located:
    """Parse one YAML document, keeping lines; a duplicate key is a syntax error."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 if mark else 1) + offset
        message = f"YAML: {exc.problem or exc.context}"
        if (
            exc.context
            and exc.context_mark
            and mark is not None
            and exc.context_mark.line != mark.line
        ):
            # An unclosed bracket is noticed lines later: say where it began.
            message += f" ({exc.context} at line {exc.context_mark.line + 1 + offset})"
        raise YamlSyntaxError(line, message) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1 + offset, f"YAML: {exc}") from None
    located = Located(None, offset=offset)
    if node is None:
        return located
    constructor = yaml.SafeLoader("")
    try:
        located.data = _build(node, (), located.lines, constructor, offset)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise YamlSyntaxError(
            (mark.line + 1 if mark else 1) + offset, f"YAML: {exc.problem}"
        ) from None
    finally:
        constructor.dispose()
    return located


def _build(node: yaml.Node, loc: Loc, lines: dict[Loc, int], ctor: Any, offset: int) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _build(key_node, loc, {}, ctor, offset)
            if not isinstance(key, str | int | bool):
                raise YamlSyntaxError(
                    key_node.start_mark.line + 1 + offset, "YAML: a key must be text"
                )
            if key in result:
                raise YamlSyntaxError(
                    key_node.start_mark.line + 1 + offset, f"YAML: duplicate key '{key}'"
                )
            lines[(*loc, key)] = key_node.start_mark.line + 1
            result[key] = _build(value_node, (*loc, key), lines, ctor, offset)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, child in enumerate(node.value):
            lines[(*loc, i)] = child.start_mark.line + 1
            items.append(_build(child, (*loc, i), lines, ctor, offset))
        return items
    value = ctor.construct_object(node, deep=True)
    if isinstance(value, str):  # an escape such as "\u202e" that the file's text did not show
        refused = refused_characters(value)
        if refused:
            line, why = refused[0]
            raise YamlSyntaxError(node.start_mark.line + line + offset, str(why))
    return value


def describe(loc: Loc) -> str:
    """``items[3].text.en`` for a human."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate(model: type[M], doc: Located, path: str) -> tuple[M | None, list[Problem]]:
    """Validate a document against a model; every pydantic error becomes a located problem."""
    if not isinstance(doc.data, dict):
        return None, [Problem(path, doc.line(()), "expected a mapping of keys to values")]
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if p != "[key]")
            if err["type"] == "extra_forbidden":
                message = f"unknown key '{loc[-1]}'"
            elif err["type"] == "missing":
                where = describe(loc[:-1])
                message = f"missing key '{loc[-1]}'" + (f" in {where}" if where else "")
            else:
                message = f"{describe(loc)}: {err['msg']}" if loc else err["msg"]
            problems.append(Problem(path, doc.line(loc), message))
        return None, problems


def locate(
    doc: Located, path: str, messages: list[LocatedMessage], prefix: Loc = ()
) -> list[Problem]:
    """Turn messages located by key path into problems located by line."""
    return [Problem(path, doc.line((*prefix, *m.loc)), m.message) for m in messages]
