"""What a file is, decided from its bytes (never from its name or the type the client
declared), and the name it is shown under.

The signatures are the formats' own magic numbers; an image is then opened by Pillow (a
header that only looks right, or an image whose pixel count would take a browser's
memory, is refused). A PDF is only checked for its signature: it is served as a download
(`Content-Disposition: attachment`, a CSP sandbox), never rendered by the gateway's pages.
"""

from __future__ import annotations

import io
import unicodedata
import warnings

from PIL import Image

PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
PDF = "application/pdf"
ALLOWED_TYPES = (JPEG, PNG, GIF, WEBP, PDF)
IMAGE_TYPES = frozenset({JPEG, PNG, GIF, WEBP})
# Pillow's name for each image format.
_PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", GIF: "GIF", WEBP: "WEBP"}
# More pixels than this is no photo of a receipt but a decompression bomb (a few KB of
# PNG that would take gigabytes in the agent's browser).
MAX_IMAGE_PIXELS = 40_000_000
# A name longer than this is cut (for display only).
MAX_NAME_CHARS = 120
_EXTENSIONS = {JPEG: ".jpg", PNG: ".png", GIF: ".gif", WEBP: ".webp", PDF: ".pdf"}


def signature_type(head: bytes) -> str | None:
    """The allowed type whose magic number `head` starts with, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def sniff(data: bytes) -> str | None:
    """The file's type (one of ALLOWED_TYPES), or None when it is none of them or an
    image Pillow cannot read as that format. CPU-bound for large images: call it in a
    thread (asyncio.to_thread)."""
    kind = signature_type(data[:16])
    if kind is None or kind not in IMAGE_TYPES:
        return kind
    try:
        # Pillow warns (a line outside the JSON log) of a large image before our own cap,
        # which is lower, refuses it: here that warning is an error too.
        with (
            warnings.catch_warnings(action="error", category=Image.DecompressionBombWarning),
            Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[kind]]) as image,
        ):
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                return None
            image.verify()
    except Exception:  # Pillow raises many kinds for a broken file: "not an image we take"
        return None
    return kind


def display_name(raw: str | None, content_type: str) -> str:
    """The name a file is shown under: its last path component, without control or
    format characters (no newlines in logs, no right-to-left overrides), spaces
    collapsed, at most MAX_NAME_CHARS; a file with no usable name gets a plain one."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or unicodedata.category(ch)[0] != "C"
    )
    name = " ".join(kept.split()).strip(". ")
    if not name:
        return "attachment" + _EXTENSIONS[content_type]
    if len(name) > MAX_NAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 8:
            name = stem[: MAX_NAME_CHARS - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_NAME_CHARS]
    return name
