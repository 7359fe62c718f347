"""What a request may carry before a view reads it: a form that parses, ids that fit a key.

Werkzeug reads a form body it cannot parse (truncated multipart, bytes that are not UTF-8) as an
empty form, and a body of any other type as no form at all; a view that saves "what was posted"
then saved nothing over an answer. Such requests are refused here, before any view runs: 400 for
a form that cannot be read, 415 for a body that is no form. No view here reads JSON or raw bodies.
"""

from __future__ import annotations

from typing import IO, Any
from urllib.parse import parse_qsl

from flask import Flask, Request, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter, Map

from elearn.domain.numbers import LARGEST_ID

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What Werkzeug puts for bytes of a multipart value that are not UTF-8 (it decodes with
# "replace"): the value was not what was typed, so the form is refused rather than guessed at.
REPLACEMENT = "\ufffd"


class StrictFormDataParser(FormDataParser):
    """Form parsing that raises 400 on a body it cannot read instead of giving an empty form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.silent = False

    def parse(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, mimetype, content_length, options)
        except ValueError:  # UnicodeDecodeError, a missing boundary, a truncated part
            raise BadRequest("The form could not be read.") from None

    def _parse_urlencoded(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> Any:
        # Strict UTF-8 for the body and for its %-escapes (Werkzeug keeps "%FF" as text).
        items = parse_qsl(stream.read().decode("utf-8"), keep_blank_values=True, errors="strict")
        return stream, self.cls(items), self.cls()

    def _parse_multipart(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> Any:
        parsed = super()._parse_multipart(stream, mimetype, content_length, options)
        _stream, form, files = parsed
        if any(name is None for name in [*form.keys(), *files.keys()]):
            raise ValueError("a part without a name")  # its header was cut by a line break
        if any(REPLACEMENT in value for value in form.values()):
            raise ValueError("a value that is not UTF-8")
        return parsed


class FormRequest(Request):
    """The app's request: its form is read strictly (see :class:`StrictFormDataParser`)."""

    form_data_parser_class = StrictFormDataParser


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: digits 0-9 up to the largest key, else the route is no match
    (404), never an integer the database refuses (2^63 and up overflowed SQLite: a 500)."""

    regex = r"[0-9]+"

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, **_: Any) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=LARGEST_ID)


def _has_body() -> bool:
    return (
        bool(request.content_length)
        or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    )


def refuse_unreadable_input() -> None:
    """Before any view (and before the CSRF check reads the form): refuse NUL characters, which
    no field, path or query means (PostgreSQL refuses them in text), and a body of a
    state-changing request that is not a readable form."""
    if "\x00" in request.path or any(
        "\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)
    ):
        raise BadRequest("NUL in the address.")
    if request.method not in CHANGES:
        return
    if request.mimetype in FORM_TYPES:
        fields = request.form.items(multi=True)  # parses now: a broken body is a 400 here
        if any("\x00" in key or "\x00" in value for key, value in fields):
            raise BadRequest("NUL in the form.")
    elif request.mimetype or _has_body():
        # A declared body of another type is no form even when empty (an empty JSON body read
        # as "nothing posted" emptied an answer); a request without body or type posts nothing.
        raise UnsupportedMediaType("Send a form.")


def init_app(app: Flask) -> None:
    """Before any route is added (routes take their converters when added) and before CSRF."""
    app.request_class = FormRequest
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_unreadable_input)
