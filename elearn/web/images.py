"""Serving the images of items to the candidate in front of them (see decision 0021).

A route that serves an image first finds the item the candidate has in front of them (their own
attempt's question, or a knowledge check of a module they may open) and takes the image by its
position in that item: the URL names no item and no file, so it tells nothing of the item or its
answers, and no other image of a bank can be asked for. The bytes are sniffed again before they
are sent, with the type they are (never one guessed by the browser: ``nosniff``) and a policy
that lets nothing in them run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Response, abort, current_app

from elearn.domain.content import ItemSpec
from elearn.domain.images import IMAGE_NAME, IMAGE_TYPES, MAX_IMAGE_BYTES, MEDIA_FOLDER, sniff


def image_list(item: ItemSpec, lang: str, url: Callable[[int], str]) -> list[tuple[str, str]]:
    """(URL, alt text in ``lang``) of each image of ``item``, for the item partials."""
    out = []
    for index, image in enumerate(item.images):
        alt = image.alt.get(lang) or next(iter(image.alt.values()), "")  # type: ignore[call-overload]
        out.append((url(index), alt))
    return out


def send_image(bank_id: str, item: ItemSpec, index: int) -> Response:
    """Image ``index`` of ``item`` of bank ``bank_id``; 404 for anything else."""
    if not 0 <= index < len(item.images):
        abort(404)
    name = item.images[index].file
    if not IMAGE_NAME.match(name):  # the model already refuses any other name
        abort(404)
    path = Path(current_app.config["QUESTION_BANKS_DIR"]) / bank_id / MEDIA_FOLDER / name
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_IMAGE_BYTES + 1)
    except OSError:
        abort(404)
    ext = name.rsplit(".", 1)[1]
    if len(data) > MAX_IMAGE_BYTES or sniff(data) != ext:
        abort(404)
    response = Response(data, mimetype=IMAGE_TYPES[ext])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = f'inline; filename="image.{ext}"'
    # Caching: the app's rule for signed-in pages (no-store) applies; an exam image stays
    # out of shared and disk caches.
    return response
