"""Reading one uploaded file from a multipart/form-data body, with the size cap enforced
while the bytes arrive: a body over the cap is refused as soon as it passes it, without
the gateway ever holding more than the cap (the rest is discarded by aiohttp unread)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

# A multipart body is the file plus its envelope (boundaries, the part's headers): a body
# declaring more than the cap plus this much cannot hold a file within the cap.
ENVELOPE_BYTES = 64 * 1024
_CHUNK_BYTES = 64 * 1024
FILE_FIELD = "file"


class UploadRefused(Exception):
    """An upload the gateway will not take: the HTTP status, a code, why, and what a
    client needs to say so in its own words (`details`, beside code and message in the
    JSON error: the size limit, the types allowed)."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details or {}


@dataclass(frozen=True)
class Upload:
    filename: str  # as the client sent it: for display only, after sniffing.display_name
    data: bytes


def _unquoted(filename: str) -> str:
    """Browsers send a part's file name as UTF-8; some clients (aiohttp's, for one)
    percent-encode it instead. An all-ASCII name whose escapes decode as UTF-8 is read
    as such; anything else is left as sent (display_name cleans it)."""
    if not filename.isascii() or "%" not in filename:
        return filename
    try:
        return unquote(filename, errors="strict")
    except UnicodeDecodeError:
        return filename


def _too_large(max_bytes: int) -> UploadRefused:
    return UploadRefused(
        413, "too_large", f"the file is larger than {max_bytes} bytes", {"max_bytes": max_bytes}
    )


async def read_upload(request: web.Request, max_bytes: int) -> Upload:
    """The one file of the request's multipart/form-data body (a part named `file`), or
    UploadRefused: 400 for anything but exactly that one part, 413 over `max_bytes`."""
    if request.content_type != "multipart/form-data":
        raise UploadRefused(
            400,
            "bad_request",
            "send the file as multipart/form-data with one part named 'file'",
        )
    declared = request.content_length
    if declared is not None and declared > max_bytes + ENVELOPE_BYTES:
        raise _too_large(max_bytes)  # refused before a byte of it is read
    try:
        reader = await request.multipart()
        part = await reader.next()
        if not isinstance(part, BodyPartReader) or part.name != FILE_FIELD or part.filename is None:
            raise UploadRefused(
                400, "bad_request", "send one part named 'file' that carries a file name"
            )
        filename = _unquoted(part.filename)
        data = bytearray()
        while chunk := await part.read_chunk(_CHUNK_BYTES):
            data.extend(chunk)
            if len(data) > max_bytes:
                raise _too_large(max_bytes)
        if await reader.next() is not None:
            raise UploadRefused(400, "bad_request", "send one file per upload, nothing else")
    except UploadRefused:
        raise
    except (ValueError, TypeError, AssertionError, RuntimeError, LookupError) as exc:
        # aiohttp's multipart parser says "malformed" in these (a missing boundary, a
        # broken header, an unknown charset): the client's mistake, told as such.
        raise UploadRefused(400, "bad_multipart", "the multipart body is malformed") from exc
    except (HttpProcessingError, ConnectionError) as exc:
        # The body broke off (a wrong chunk size, the client went away).
        raise UploadRefused(400, "bad_multipart", "the body ended before the file did") from exc
    if not data:
        raise UploadRefused(400, "empty_file", "the file is empty")
    return Upload(filename, bytes(data))
