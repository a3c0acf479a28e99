"""What every long-running command of the platform does the same way: its log lines, and how it is stopped."""

from __future__ import annotations

import logging
import signal
import threading

__all__ = ["configure_logging", "stop_on_signals"]

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging() -> None:
    """INFO and above to standard error, one line each, with the time and the module that wrote it."""
    logging.basicConfig(level=logging.INFO, format=FORMAT)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def stop_on_signals() -> threading.Event:
    """An event set by Ctrl-C (SIGINT) or SIGTERM (docker stop, `make up` stopping): the command finishes what
    it holds and exits. Call from the main thread."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop
