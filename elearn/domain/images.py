"""Images in items: which files are images, how they are named, what an item may hold.

An image is a PNG, JPEG, GIF or WebP file of at most 2 MB, recognised by its first bytes (its
"magic"), never by a name or a declared type. SVG is refused: it is XML that can carry script.
A file is named by its content, ``<sha256>.<ext>``, in the bank's ``media/`` folder, so that an
item names the very bytes it shows: a changed image is a new name, hence a new item version
(see docs/decisions/0021-images-in-items.md).
"""

from __future__ import annotations

import hashlib
import re

from elearn.domain import filekinds

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MEDIA_FOLDER = "media"
# ext -> the Content-Type it is served with
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
IMAGE_NAME = re.compile(r"^[0-9a-f]{64}\.(?:png|jpg|gif|webp)$")
# What an import writes where the source gave no alt text; `content check` refuses it until a
# person has described the image (WCAG 1.1.1).
PLACEHOLDER_ALT = "[ALT TEXT MISSING: describe this image]"


def sniff(data: bytes) -> str | None:
    """The extension of an image format elearn takes, from the file's first bytes; else None."""
    kind = filekinds.sniff(data[:16])
    if kind not in filekinds.IMAGES:
        return None
    return "jpg" if kind == "jpeg" else kind


def image_problem(data: bytes) -> str | None:
    """Why ``data`` cannot be an item's image, or None when it can."""
    if len(data) > MAX_IMAGE_BYTES:
        return "the image is larger than 2 MB"
    if sniff(data) is None:
        return "not a PNG, JPEG, GIF or WebP image (SVG and other formats are refused)"
    return None


def image_name(data: bytes) -> str:
    """The file name of an image: the SHA-256 of its bytes and the extension of its format."""
    ext = sniff(data)
    if ext is None:
        raise ValueError("not an image elearn takes")
    return f"{hashlib.sha256(data).hexdigest()}.{ext}"


def stored_problem(name: str, data: bytes) -> str | None:
    """Why the stored file ``name`` does not hold the image its name says, or None."""
    problem = image_problem(data)
    if problem:
        return problem
    if image_name(data) != name:
        return f"the file's content does not match its name (name it {image_name(data)})"
    return None
