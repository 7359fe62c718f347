"""Module bodies render to sanitised HTML, with reflection prompts split out."""

from __future__ import annotations

from elearn.content.markdown import outline, render


def test_reflections_become_their_own_numbered_segments() -> None:
    segments = render(
        "Intro\n\n::: reflection\nWhat was **new**?\n:::\n\nMore\n\n::: reflection\nAnd?\n:::\n"
    )
    assert [(s.kind, s.index) for s in segments] == [
        ("html", 0),
        ("reflection", 1),
        ("html", 0),
        ("reflection", 2),
    ]
    assert segments[1].html == "<p>What was <strong>new</strong>?</p>"
    assert segments[2].html == "<p>More</p>"


def test_script_and_raw_html_never_reach_the_page() -> None:
    html = "".join(
        s.html
        for s in render(
            "<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n<img src=x onerror=alert(1)>\n\n"
            "::: reflection\n<b onclick='x()'>hi</b>\n:::\n"
        )
    )
    assert "<script" not in html
    assert 'href="javascript' not in html
    assert "<img" not in html and "<b " not in html  # raw tags are escaped into text
    assert "&lt;script&gt;" in html  # shown as text, not run


def test_links_get_noopener_and_tables_render() -> None:
    html = render("[DFØ](https://dfo.no)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")[0].html
    assert 'rel="noopener noreferrer"' in html
    assert "<table>" in html and "<td>1</td>" in html
    assert html.count('<div class="table-scroll" tabindex="0"><table>') == 1


def test_outline_finds_h1_and_reflections_with_lines() -> None:
    shape = outline("# Title\n\ntext\n\n::: reflection\nQ\n:::\n\n::: reflection\n:::\n")
    assert shape.h1_lines == (0,)
    assert shape.reflection_lines == (4, 8)
    assert shape.empty_reflection_lines == (8,)
