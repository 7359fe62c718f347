"""Module bodies: Markdown rendered by markdown-it-py and sanitised by nh3.

A reflection prompt is a ``::: reflection`` block. Rendering splits a body into segments so that
the page can place a text box after each prompt; the boxes come from the template, never from
content, and no script in content reaches a browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin

REFLECTION = "reflection"


@dataclass(frozen=True)
class Segment:
    kind: Literal["html", "reflection"]
    html: str
    index: int = 0  # the reflection's number in its module, from 1


@dataclass(frozen=True)
class Outline:
    """What the validator needs to know of a body: headings and reflection prompts, with lines."""

    h1_lines: tuple[int, ...]
    reflection_lines: tuple[int, ...]
    empty_reflection_lines: tuple[int, ...]


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
    return md.use(container_plugin, name=REFLECTION)


def _clean(html: str) -> str:
    cleaned = nh3.clean(html, link_rel="noopener noreferrer")
    # Our own wrapper, added after cleaning: a wide table scrolls inside it on a phone instead
    # of widening the page (WCAG 1.4.10); tabindex lets keyboard users scroll it.
    return cleaned.replace("<table>", '<div class="table-scroll" tabindex="0"><table>').replace(
        "</table>", "</table></div>"
    )


def outline(source: str) -> Outline:
    """Headings and reflection blocks of a body, with 0-based line numbers within it."""
    tokens = _parser().parse(source)
    h1 = tuple(t.map[0] for t in tokens if t.type == "heading_open" and t.tag == "h1" and t.map)
    reflections: list[int] = []
    empty: list[int] = []
    for i, t in enumerate(tokens):
        if t.type == f"container_{REFLECTION}_open" and t.map:
            reflections.append(t.map[0])
            if tokens[i + 1].type == f"container_{REFLECTION}_close":
                empty.append(t.map[0])
    return Outline(h1, tuple(reflections), tuple(empty))


@lru_cache(maxsize=512)
def render(source: str) -> tuple[Segment, ...]:
    """Render a body to sanitised HTML segments, reflections apart."""
    md = _parser()
    tokens = md.parse(source)
    segments: list[Segment] = []
    chunk: list[Token] = []
    depth = 0
    count = 0

    def flush(kind: Literal["html", "reflection"], index: int = 0) -> None:
        html = _clean(md.renderer.render(chunk, md.options, {})).strip()
        if html or kind == "reflection":
            segments.append(Segment(kind, html, index))
        chunk.clear()

    for token in tokens:
        if token.type == f"container_{REFLECTION}_open":
            if depth == 0:
                flush("html")
            depth += 1
            if depth == 1:
                continue
        elif token.type == f"container_{REFLECTION}_close":
            depth -= 1
            if depth == 0:
                count += 1
                flush("reflection", count)
                continue
        chunk.append(token)
    flush("html")
    return tuple(segments)
