"""How many requests a token may make: a bucket per token that holds a minute's share and fills at the rate.

Only tokens that authenticated have a bucket, so requests without one (or with a wrong one) cannot grow this; a
restart forgets, which only ever lets a caller in sooner."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

__all__ = ["RateLimit"]


class RateLimit:
    def __init__(self, per_minute: int, burst: int | None = None, capacity: int = 100_000, clock=time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(10, per_minute // 6))
        self.capacity, self.clock = capacity, clock
        self._buckets: OrderedDict[int, tuple[float, float]] = OrderedDict()  # token -> (level, when)
        self._lock = threading.Lock()

    def take(self, token_id: int) -> float:
        """0 when `token_id` may make a request now (it is counted), else the seconds until it may."""
        now = self.clock()
        with self._lock:
            level, when = self._buckets.pop(token_id, (self.burst, now))
            level = min(self.burst, level + (now - when) * self.rate)
            if level >= 1:
                self._buckets[token_id] = (level - 1, now)
                wait = 0.0
            else:
                self._buckets[token_id] = (level, now)
                wait = (1 - level) / self.rate
            while len(self._buckets) > self.capacity:
                self._buckets.popitem(last=False)
            return wait
