"""What kind of file some bytes are, from their first bytes (their "magic"), never from a name
or a declared type: the one test the file store, the case bank's attachments and items' images
share. An SVG or an HTML page renamed ``.pdf`` is none of these kinds."""

from __future__ import annotations

# kind -> (media type, file suffix)
KINDS: dict[str, tuple[str, str]] = {
    "pdf": ("application/pdf", ".pdf"),
    "png": ("image/png", ".png"),
    "jpeg": ("image/jpeg", ".jpg"),
    "gif": ("image/gif", ".gif"),
    "webp": ("image/webp", ".webp"),
}
IMAGES = ("png", "jpeg", "gif", "webp")


def sniff(head: bytes) -> str | None:
    """The kind of a file from its first bytes (12 are enough), or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def media_type(kind: str) -> str:
    return KINDS[kind][0]
