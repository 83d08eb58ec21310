"""Gzip around holes: a page's text parts are compressed once when it is cached, and each response
strings them together with its own hole values as stored blocks, as one ordinary gzip stream.

Each text part is raw deflate data ending on a byte boundary without a final block; the holes go
between them uncompressed, or as deflate data of their own where they hold nothing of any
reader's (blog.caching.holes.Fragment). Since nothing is compressed together with a hole, what
a hole holds cannot leak through the compressed length (BREACH).

The gzip trailer's CRC-32 covers the whole page. Each text part keeps its own CRC-32 and the
linear map that carries a CRC-32 past its length (`Part.shift`), so a response reads only its
hole values, not the page's text again: on the 10,000-post archive page (1.9 MB of text around
its sidebar holes) that was most of a cached hit's time.
"""

import re
import struct
import zlib
from typing import NamedTuple

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


class Part(NamedTuple):
    """A text part compressed once, with what the gzip trailer needs of it."""

    deflated: bytes  # raw deflate blocks (deflate_part)
    crc: int  # its CRC-32, from 0
    size: int
    # zlib.crc32(part, c) == carried(shift, c) ^ crc: the images of c's 32 bits.
    shift: tuple[int, ...]


def compress_part(data: bytes) -> Part:
    """`data` as a Part. zlib.crc32(data, c) is crc32(data, 0) XOR a linear map of c that
    depends only on len(data): the map's columns are the CRC-32s of that many zero bytes."""
    zeros = bytes(len(data))
    base = zlib.crc32(zeros)
    shift = tuple(zlib.crc32(zeros, 1 << bit) ^ base for bit in range(32))
    return Part(deflate_part(data), zlib.crc32(data), len(data), shift)


def carried(shift: tuple[int, ...], crc: int) -> int:
    result, bit = 0, 0
    while crc:
        if crc & 1:
            result ^= shift[bit]
        crc >>= 1
        bit += 1
    return result


def stored_blocks(data: bytes) -> bytes:
    """`data` in uncompressed deflate blocks (header byte 0: not last, stored; then LEN, NLEN)."""
    blocks = []
    for start in range(0, len(data), STORED_MAX):
        chunk = data[start : start + STORED_MAX]
        blocks.append(struct.pack("<BHH", 0, len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(blocks)


def gzip_with_holes(
    parts: tuple[Part, ...], values: list[bytes], values_deflated: list[bytes | None]
) -> bytes:
    """The gzip stream of parts[0] + values[0] + parts[1] + …, from the parts' deflate data and
    the values' where given (else they go in stored blocks)."""
    body, crc, size = [GZIP_HEADER], 0, 0
    for index, part in enumerate(parts):
        body.append(part.deflated)
        crc, size = carried(part.shift, crc) ^ part.crc, size + part.size
        if index < len(values):
            value = values[index]
            body.append(values_deflated[index] or stored_blocks(value))
            crc, size = zlib.crc32(value, crc), size + len(value)
    body += [FINAL_BLOCK, struct.pack("<II", crc, size & 0xFFFFFFFF)]
    return b"".join(body)


def accepts_gzip(request: HttpRequest) -> bool:
    return bool(ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))
