"""Walks and patches the box tree of an MP4 file (ISO/IEC 14496-12 4.2), for
tests that make hostile variants of a real file."""

from __future__ import annotations

import struct
from typing import Iterator

# Boxes whose payload is only child boxes (14496-12 8.x).
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta"}


def walk(data: bytes, start: int = 0, end: int | None = None,
         path: tuple[bytes, ...] = ()) -> Iterator[tuple[tuple[bytes, ...], int, int, int]]:
    """(path of box types, offset, header size, box size) of every box, depth first."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1:  # 64-bit largesize follows the type
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
            header = 16
        elif size == 0:  # to the end of the enclosing space
            size = end - pos
        if size < header:
            return
        yield path + (kind,), pos, header, size
        if kind in CONTAINERS:
            yield from walk(data, pos + header, pos + size, path + (kind,))
        pos += size


def find(data: bytes, *suffix: bytes, nth: int = 0) -> tuple[int, int, int]:
    """(offset, header size, box size) of the nth box whose path ends with `suffix`."""
    hits = [(pos, header, size) for path, pos, header, size in walk(data)
            if path[-len(suffix):] == suffix]
    if len(hits) <= nth:
        raise KeyError(f"no box {b'/'.join(suffix)!r} #{nth}")
    return hits[nth]


def patch_u32(data: bytes, box: bytes, field_offset: int, value: int) -> bytes:
    """`data` with the 32-bit big-endian field at `field_offset` bytes after the
    first `box`'s header set to `value` (negative offsets reach the header:
    -8 is the box's own size field)."""
    out = bytearray(data)
    pos, header, _ = find(out, box)
    struct.pack_into(">I", out, pos + header + field_offset, value)
    return bytes(out)


def read_u32(data: bytes, box: bytes, field_offset: int) -> int:
    pos, header, _ = find(data, box)
    return struct.unpack_from(">I", data, pos + header + field_offset)[0]
