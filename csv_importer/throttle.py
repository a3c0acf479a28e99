"""Throttling of failed sign-ins, per account and per address: after too many failures in a window, further
attempts are refused until the window has passed, whatever the password. Kept in the process's memory: the app
runs as one process (waitress threads); a restart forgets, which only ever lets a person in sooner."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

__all__ = ["Throttle"]


class Throttle:
    def __init__(self, per_account: int = 5, per_address: int = 20, window_s: float = 900.0,
                 clock=time.monotonic):
        self.limits = {"account": per_account, "address": per_address}
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures, oldest = self._failures[key], self.clock() - self.window_s
        while failures and failures[0] < oldest:
            failures.popleft()
        return failures

    def wait_s(self, account: str, address: str) -> float:
        """Seconds until `account` from `address` may try again; 0 when it may now."""
        with self._lock:
            waits = []
            for kind, value in (("account", account.lower()), ("address", address)):
                failures = self._recent((kind, value))
                if len(failures) >= self.limits[kind]:
                    waits.append(failures[-self.limits[kind]] + self.window_s - self.clock())
            return max(waits, default=0.0)

    def failed(self, account: str, address: str) -> None:
        with self._lock:
            now = self.clock()
            for key in (("account", account.lower()), ("address", address)):
                self._recent(key).append(now)

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._failures.pop(("account", account.lower()), None)
