"""Import single-choice questions from the Aiken format.

::

    What is the capital of Norway?
    A) Bergen
    B) Oslo
    C. Trondheim
    ANSWER: B

A question is its text (one or more lines), two or more options lettered ``A)`` or ``A.``, then
``ANSWER:`` and the right letter. Blank lines separate questions. Aiken has no names, topics or
feedback: ids are ``<prefix>-001``, … and every item gets the caller's default topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from elearn.content.importing import (
    IdAllocator,
    ImportResult,
    ImportSyntaxError,
    lines_of,
    source_note,
)

FORMAT_NAME = "Aiken"

# Moodle's qformat_aiken reads a line as an option when it matches /^[A-Z][).][ \t]?/: the
# space after the label is optional ("A)Incorrect" is the option "Incorrect"), and the text is
# the rest of the line, trimmed.
_OPTION = re.compile(r"^([A-Z])[.)][ \t]?(.*)$")
_ANSWER = re.compile(r"^ANSWER\s*:(.*)$")


@dataclass
class _Question:
    line: int
    stem: list[str]
    options: list[tuple[str, str]] = field(default_factory=list)  # (letter, text)
    answer: str | None = None


def parse_aiken(
    text: str, *, lang: str, default_topic: str, prefix: str = "aiken", source_name: str = ""
) -> ImportResult:
    """Aiken text -> single-choice items; raises :class:`ImportSyntaxError` naming the line."""
    questions = _read(lines_of(text.removeprefix("\ufeff")))
    ids = IdAllocator(prefix)
    items: list[dict[str, Any]] = []
    for number, q in enumerate(questions, start=1):
        option_ids = {letter: chr(ord("a") + i) for i, (letter, _) in enumerate(q.options)}
        assert q.answer is not None  # _read refuses a question without one
        items.append(
            {
                "id": ids.take("", number),
                "topic": default_topic,
                "type": "single_choice",
                "key": option_ids[q.answer],
                "source": source_note(FORMAT_NAME, source_name, q.line),
                "text": {
                    lang: {
                        "stem": "\n".join(q.stem),
                        "options": {option_ids[letter]: body for letter, body in q.options},
                    }
                },
            }
        )
    return ImportResult(items=items, skipped=[])


def _read(lines: list[str]) -> list[_Question]:
    """Every question of the file, each checked whole; the first problem raises."""
    done: list[_Question] = []
    current: _Question | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if current is None:
            if line:
                current = _Question(number, [line])
            continue
        if not line:
            if current.options:  # a blank line ends a question whose options have begun
                _finish(current)
                done.append(current)
                current = None
            continue  # blank lines between the question text and its options are fine
        answer = _ANSWER.match(line)
        option = _OPTION.match(line)
        if answer:
            current.answer = _answer_letter(current, answer.group(1), number)
            done.append(current)
            current = None
        elif option:
            _add_option(current, option.group(1), (option.group(2) or "").strip(), number)
        elif current.options:
            raise ImportSyntaxError(
                number,
                "expected another option ('A) ...') or 'ANSWER: <letter>'"
                f" (the question on line {current.line} has no ANSWER line)",
            )
        else:
            current.stem.append(line)
    if current is not None:
        _finish(current)
    return done


def _add_option(question: _Question, letter: str, body: str, number: int) -> None:
    if not body:
        raise ImportSyntaxError(number, f"option {letter} has no text")
    if any(letter == seen for seen, _ in question.options):
        raise ImportSyntaxError(number, f"option {letter} is given twice")
    question.options.append((letter, body))


def _answer_letter(question: _Question, given: str, number: int) -> str:
    if len(question.options) < 2:
        raise ImportSyntaxError(
            question.line, f"the question needs at least 2 options, found {len(question.options)}"
        )
    letter = given.strip().upper()
    letters = [seen for seen, _ in question.options]
    if letter not in letters:
        shown = repr(given.strip()) if given.strip() else "no letter"
        raise ImportSyntaxError(
            number, f"ANSWER names {shown}, which is not an option ({', '.join(letters)})"
        )
    return letter


def _finish(question: _Question) -> None:
    """A question that ended (blank line or end of file) without its ANSWER line."""
    if len(question.options) < 2:
        raise ImportSyntaxError(
            question.line, f"the question needs at least 2 options, found {len(question.options)}"
        )
    raise ImportSyntaxError(question.line, "the question has no ANSWER line")
