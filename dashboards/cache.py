"""A short cache of answers, keyed by question and filters: fifty people on the same dashboard cost one query per
question every few seconds, and a burst of requests for a question not yet cached waits for one query, not fifty."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["AnswerCache"]


class _Pending:
    def __init__(self):
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class AnswerCache:
    def __init__(self, seconds: float, max_entries: int = 2048):
        self.seconds = seconds
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._pending: dict[Hashable, _Pending] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value for `key` if it is younger than `seconds`; otherwise `compute()`, once for all the
        callers asking at the same time. An error reaches every waiting caller and is not cached."""
        if self.seconds <= 0:
            return compute()
        with self._lock:
            entry = self._entries.get(key)
            if entry and time.monotonic() - entry[0] < self.seconds:
                return entry[1]
            pending = self._pending.get(key)
            owner = pending is None
            if owner:
                pending = self._pending[key] = _Pending()
        if not owner:
            pending.done.wait()
            if pending.error:
                raise pending.error
            return pending.value
        try:
            pending.value = compute()
        except BaseException as e:
            pending.error = e
            raise
        finally:
            with self._lock:
                del self._pending[key]
                if pending.error is None:
                    self._entries[key] = (time.monotonic(), pending.value)
                    self._entries.move_to_end(key)
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
            pending.done.set()
        return pending.value
