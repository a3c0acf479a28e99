"""What every long-running command of the platform does the same way: its log lines, and how it is stopped."""

from __future__ import annotations

import gc
import json
import logging
import signal
import threading
from datetime import UTC, datetime

__all__ = ["IDS", "JsonLines", "collect_garbage_for_a_stream", "configure_logging", "stop_on_signals"]

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# What a line may concern, given as `extra=` by the code that logs it: where a message was read, the payment, the
# import and its line, the reasons' codes, the account.
IDS = ("topic", "partition", "offset", "transaction_id", "import_id", "line", "reasons", "account", "file_name")


class JsonLines(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and the ids the line concerns."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for key in IDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(log_format: str = "text") -> None:
    """INFO and above to standard error, one line each: text with the time and the module that wrote it, or, with
    LOG_FORMAT=json, a JSON object carrying the ids the line concerns."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def stop_on_signals() -> threading.Event:
    """An event set by Ctrl-C (SIGINT) or SIGTERM (docker stop, `make up` stopping): the command finishes what
    it holds and exits. Call from the main thread."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop


def collect_garbage_for_a_stream() -> None:
    """For a process that makes a dozen objects per message, each living one batch: what exists once it has
    started (modules, models, clients) is set aside from the cycle collector for good, and the collector runs after
    50,000 new objects rather than 700. With Python's defaults, its passes over every live object cost the ingestion
    service 15 to 35% of its events per second (bench/ingestion.py, alternating runs). Reference counting frees
    the service's objects as soon as a batch is done; the rare cycle (an exception and its traceback) is still
    collected, later."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
