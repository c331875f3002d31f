"""What a file is, from its bytes (handoff/attachments/sniffing.py), and the name it is
shown under. Real tiny files, built here."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from handoff.attachments.sniffing import (
    ALLOWED_TYPES,
    GIF,
    JPEG,
    MAX_NAME_CHARS,
    PDF,
    PNG,
    WEBP,
    display_name,
    signature_type,
    sniff,
)


def image_bytes(fmt: str, size: tuple[int, int] = (3, 2)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def huge_png(width: int, height: int) -> bytes:
    """A valid PNG header claiming `width` x `height` pixels (a decompression bomb's)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0"))


@pytest.mark.parametrize(
    ("fmt", "expected"), [("PNG", PNG), ("JPEG", JPEG), ("GIF", GIF), ("WEBP", WEBP)]
)
def test_real_images_are_known_by_their_bytes(fmt: str, expected: str) -> None:
    assert sniff(image_bytes(fmt)) == expected


def test_a_pdf_is_known_by_its_signature() -> None:
    assert sniff(TINY_PDF) == PDF


def test_a_polyglot_that_starts_as_a_pdf_is_a_pdf() -> None:
    # PDF readers accept trailing junk: this one carries a script; it is served as a
    # download with a sandbox, never as a page, so "PDF" is all it may be.
    polyglot = TINY_PDF + b"<html><script>alert(1)</script></html>"
    assert sniff(polyglot) == PDF


def test_the_name_does_not_decide_the_type() -> None:
    # a PNG renamed .pdf is a PNG; an HTML page renamed .png is nothing we take
    assert sniff(image_bytes("PNG")) == PNG
    assert display_name("scan.pdf", PNG) == "scan.pdf"  # the name is for display only
    assert sniff(b"<!doctype html><html><script>alert(1)</script></html>") is None
    assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>") is None


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 30,  # a PNG signature and nothing usable after it
        b"\xff\xd8\xff\xe0 not really a jpeg",
        b"GIF89a",
        b"RIFF\x10\x00\x00\x00WEBPVP8 garbage",
        b"MZ\x90\x00 an executable",
        b"PK\x03\x04 a zip",
        b"",
    ],
)
def test_broken_or_other_files_are_refused(data: bytes) -> None:
    assert sniff(data) is None


def test_an_image_with_absurd_dimensions_is_refused() -> None:
    assert signature_type(huge_png(100_000, 100_000)) == PNG  # it looks like a PNG...
    assert sniff(huge_png(100_000, 100_000)) is None  # ...but no browser should open it


def test_allowed_types_are_the_five_of_the_issue() -> None:
    assert set(ALLOWED_TYPES) == {JPEG, PNG, GIF, WEBP, PDF}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("C:\\Users\\kim\\영수증.jpg", "영수증.jpg"),
        ("請求書\n2026\t12.pdf", "請求書 2026 12.pdf"),
        ("invoice\u202egnp.exe.pdf", "invoicegnp.exe.pdf"),  # no right-to-left override
        ("  .hidden.pdf  ", "hidden.pdf"),
        ("", "attachment.pdf"),
        (None, "attachment.pdf"),
        ("///", "attachment.pdf"),
    ],
)
def test_display_names_are_sanitised(raw: str | None, expected: str) -> None:
    assert display_name(raw, PDF) == expected


def test_a_long_name_is_cut_and_keeps_its_extension() -> None:
    name = display_name("가" * 300 + ".pdf", PDF)
    assert len(name) == MAX_NAME_CHARS and name.endswith(".pdf")
    assert len(display_name("x" * 300, PDF)) == MAX_NAME_CHARS


def test_an_image_pillow_would_only_warn_about_is_refused_without_a_warning(
    recwarn: pytest.WarningsRecorder,
) -> None:
    # 100 M pixels: over Pillow's warning threshold (89 M), under its error (179 M)
    assert sniff(huge_png(10_000, 10_000)) is None
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]
