"""The payments already met in a file: a hash table in flat arrays, 24 bytes a slot.

A dict of a million 16-byte keys takes over 100 MB in small objects that the process keeps after the request;
these arrays take a third of that in four allocations that are given back when the import ends.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

__all__ = ["seen_payments"]


def seen_payments(capacity: int) -> Callable[[int, int, int], tuple[int, int]]:
    """A table from a 128-bit number (a digest) to the line it was first met on and a 32-bit tag (of its status),
    by open addressing; returns its `setdefault(number, line, tag) -> (line, tag)`: what is stored for `number`, storing
    the given ones if it is new. `capacity` is the most keys it will hold (the file's line count); it never
    grows, and stays at most 2/3 full (not a power of two: rounding up to one could double its memory). A
    closure over the arrays: a method's attribute look-ups cost a third of its time, a million times per file."""
    size = capacity * 3 // 2 + 1
    highs = array("Q", [0]) * size  # 0 marks a free slot: stored values always have their lowest bit set
    lows = array("Q", [0]) * size
    lines = array("I", [0]) * size
    tags = array("I", [0]) * size

    def setdefault(number: int, line: int, tag: int) -> tuple[int, int]:
        high, low = (number >> 64) | 1, number & 0xFFFF_FFFF_FFFF_FFFF
        slot = low % size
        while True:
            found = highs[slot]
            if found == 0:
                highs[slot], lows[slot], lines[slot], tags[slot] = high, low, line, tag
                return line, tag
            if found == high and lows[slot] == low:
                return lines[slot], tags[slot]
            slot = slot + 1 if slot + 1 < size else 0

    return setdefault
