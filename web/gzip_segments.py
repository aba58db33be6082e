"""A body compressed once, sent with a few per-visitor values set into it.

A public page is the same for every visitor but for a few short values (the CSRF token,
a form's nonce: web/whole_pages.py). Compressing the page per request to set them would
cost more than the rest of the request; compressing it once with the values in it would
send one visitor's token to everyone. So the page is cut at the values: each shared
segment is compressed once by zlib into deflate blocks of its own (a fresh compressor
per segment, ended by a sync flush, so no block refers across a cut), and each response
is the gzip member (RFC 1952) of:

    header · segment₀ · stored(value₁) · segment₁ · … · final empty block · CRC-32 · size

A deflate stream is any sequence of blocks, the last one marked final (RFC 1951 §3.2.3);
a sync-flushed stream ends on a byte boundary, so the next block may come from another
compressor. The values go in *stored* blocks (zlib at level 0: copied, not compressed).
Per request that is a few small copies and a CRC-32 over the page, no compression.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

from web.compression import GZIP_LEVEL

#: RFC 1952 member header: deflate, no flags, no time (the same body gives the same
#: bytes), no extra flags, operating system "unknown".
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
#: A small window and little memory: stored blocks need neither.
_STORED = (0, zlib.DEFLATED, -9, 1)


def _deflated(raw: bytes, level: int) -> bytes:
    """``raw`` as deflate blocks that do not end the stream and end on a byte boundary."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _stored(raw: bytes) -> bytes:
    compressor = zlib.compressobj(*_STORED)
    return compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH)


_FINAL_BLOCK = zlib.compressobj(*_STORED).flush(zlib.Z_FINISH)


class GzipSegments:
    """Raw segments of a body, each compressed once; values go between them."""

    __slots__ = ("_compressed", "_raw", "size")

    def __init__(self, segments: Sequence[bytes], level: int = GZIP_LEVEL) -> None:
        self._raw = tuple(segments)
        self._compressed = tuple(_deflated(segment, level) for segment in self._raw)
        #: Bytes kept: what a bounded cache counts.
        self.size = sum(map(len, self._raw)) + sum(map(len, self._compressed))

    @property
    def slots(self) -> int:
        """How many values go between the segments."""
        return len(self._raw) - 1

    def _check(self, values: Sequence[bytes]) -> None:
        if len(values) != self.slots:
            raise ValueError(f"{self.slots} values expected, {len(values)} given")

    def identity(self, values: Sequence[bytes]) -> bytes:
        """The body itself, with ``values`` set in."""
        self._check(values)
        parts = [self._raw[0]]
        for value, segment in zip(values, self._raw[1:], strict=True):
            parts += (value, segment)
        return b"".join(parts)

    def gzip(self, values: Sequence[bytes]) -> bytes:
        """The body gzipped, with ``values`` set in (stored, not compressed)."""
        self._check(values)
        parts = [_GZIP_HEADER, self._compressed[0]]
        crc = zlib.crc32(self._raw[0])
        size = len(self._raw[0])
        for value, raw, compressed in zip(values, self._raw[1:], self._compressed[1:], strict=True):
            parts += (_stored(value), compressed)
            crc = zlib.crc32(raw, zlib.crc32(value, crc))
            size += len(value) + len(raw)
        parts += (_FINAL_BLOCK, struct.pack("<II", crc, size & 0xFFFFFFFF))
        return b"".join(parts)
