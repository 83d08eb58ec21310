"""Gzip around holes: a page's text parts are compressed once when it is cached, and each response
strings them together with its own hole values as stored blocks, as one ordinary gzip stream.

Each text part is raw deflate data ending on a byte boundary without a final block; the holes go
between them uncompressed, or as deflate data of their own where they hold nothing of any
reader's (blog.caching.holes.Fragment). Since nothing is compressed together with a hole, what
a hole holds cannot leak through the compressed length (BREACH).
"""

import re
import struct
import zlib

from django.http import HttpRequest

GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no time
FINAL_BLOCK = zlib.compressobj(wbits=-15).flush(zlib.Z_FINISH)  # an empty last block
STORED_MAX = 0xFFFF
ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def deflate_part(data: bytes) -> bytes:
    """`data` as raw deflate blocks that another part's blocks may follow."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def inflate_part(data: bytes) -> bytes:
    return zlib.decompressobj(wbits=-15).decompress(data)


def stored_blocks(data: bytes) -> bytes:
    """`data` in uncompressed deflate blocks (header byte 0: not last, stored; then LEN, NLEN)."""
    blocks = []
    for start in range(0, len(data), STORED_MAX):
        chunk = data[start : start + STORED_MAX]
        blocks.append(struct.pack("<BHH", 0, len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(blocks)


def gzip_with_holes(
    texts: tuple[bytes, ...],
    deflated: tuple[bytes, ...],
    values: list[bytes],
    values_deflated: list[bytes | None],
) -> bytes:
    """The gzip stream of texts[0] + values[0] + texts[1] + …, from the texts' deflate data and
    the values' where given (else they go in stored blocks)."""
    body, crc, size = [GZIP_HEADER], 0, 0
    for index, text in enumerate(texts):
        body.append(deflated[index])
        crc, size = zlib.crc32(text, crc), size + len(text)
        if index < len(values):
            value = values[index]
            body.append(values_deflated[index] or stored_blocks(value))
            crc, size = zlib.crc32(value, crc), size + len(value)
    body += [FINAL_BLOCK, struct.pack("<II", crc, size & 0xFFFFFFFF)]
    return b"".join(body)


def accepts_gzip(request: HttpRequest) -> bool:
    return bool(ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))
