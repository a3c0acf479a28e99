"""The payments already met in a file: a hash table in flat arrays, about 20 bytes a slot.

A dict of a million 16-byte keys takes over 100 MB in small objects that the process keeps after the request;
these arrays take a third of that in three allocations that are given back when the import ends.
"""

from __future__ import annotations

from array import array

__all__ = ["SeenPayments"]


class SeenPayments:
    """Maps a 128-bit digest to the line it was first met on and a 32-bit tag (of its status), by open addressing.

    `capacity` is the most keys it will hold (the file's line count); it never grows, and stays at most 2/3 full.
    """

    def __init__(self, capacity: int):
        size = 8
        while size * 2 < capacity * 3:
            size *= 2
        self._mask = size - 1
        self._high = array("Q", [0]) * size  # 0 marks a free slot: stored values always have their lowest bit set
        self._low = array("Q", [0]) * size
        self._line = array("I", [0]) * size
        self._tag = array("I", [0]) * size

    def setdefault(self, digest: bytes, line: int, tag: int) -> tuple[int, int]:
        """(line, tag) stored for `digest`, storing the given ones if it is new."""
        high = int.from_bytes(digest[:8], "little") | 1
        low = int.from_bytes(digest[8:16], "little")
        highs, mask = self._high, self._mask
        slot = low & mask
        while True:
            found = highs[slot]
            if found == 0:
                highs[slot], self._low[slot], self._line[slot], self._tag[slot] = high, low, line, tag
                return line, tag
            if found == high and self._low[slot] == low:
                return self._line[slot], self._tag[slot]
            slot = (slot + 1) & mask
