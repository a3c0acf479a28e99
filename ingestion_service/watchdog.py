"""Crash-only recovery: when messages wait and nothing has been committed for too long, whatever the cause (a wedge
nobody foresaw, a call that never returns), the process exits so that its supervisor (`make up`, compose's
`restart:`) starts a fresh one. A pause for an outage whose retries go on is left alone: a new process would
only pause again, and its joining would make the other instances give up what they hold.

Nothing is lost by an exit: offsets are committed only after their batch is written, so whatever was not
committed is read again by the next instance.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from .metrics import Metrics

__all__ = ["WEDGED_EXIT_CODE", "Watchdog", "exit_process"]

log = logging.getLogger(__name__)

# EX_TEMPFAIL: a temporary failure; starting again is the cure.
WEDGED_EXIT_CODE = 75


def exit_process(reason: str) -> None:
    """Leave at once: the consume loop may be stuck in a call that never returns, so no clean shutdown is tried."""
    logging.shutdown()
    os._exit(WEDGED_EXIT_CODE)


class Watchdog(threading.Thread):
    """Calls `on_wedged(reason)` once when the service has not committed for `seconds` while messages wait (and,
    if paused, has not retried either)."""

    def __init__(self, metrics: Metrics, seconds: float, on_wedged: Callable[[str], None] = exit_process):
        super().__init__(name="ingestion-watchdog", daemon=True)
        self.metrics, self.seconds, self.on_wedged = metrics, seconds, on_wedged
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(min(1.0, self.seconds / 10)):
            stalled = self.metrics.wedged_for()
            if stalled >= self.seconds:
                reason = (f"nothing committed for {stalled:.0f} s while {self.metrics.waiting()} messages wait "
                          f"(state: {self.metrics.state}); exiting so that a fresh process takes over; the "
                          "uncommitted messages are read again, nothing is lost")
                log.critical("watchdog: %s", reason)
                self.on_wedged(reason)
                return

    def stop(self) -> None:
        self.stopping.set()
