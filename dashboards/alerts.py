"""The built-in dashboard's live alert: what appeared since the page opened, pushed as Server-Sent Events.

A page opens one stream, `GET /dashboard/alerts?since=<when the page was drawn>`. Every `every` seconds the
stream counts, since then, the suspicious payments that arrived and the payments that went past the pending
service level, and sends an `alert` event when a count changed. A stream ends after `lasting` seconds and the
browser opens the next one by itself (EventSource), with the same `since`: the counts go on from the page's
opening, and no stream holds one of the app's few serving threads for long. At most `streams` run at once, and at
most `per_holder` for one account (half of them: one person's many tabs cannot take every slot); one more is told
to come back later (`retry`), never refused with an error that would stop the browser retrying.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from payments_core.fields import parse_timestamp

__all__ = ["AlertStreams", "since_from"]

# A payment arrives suspicious: its insert time after `since` (the partial index of migration 0014).
# A payment goes past the service level at transaction_date + SLA: still pending, and that moment after `since`.
COUNTS = text("""
WITH sla AS (SELECT make_interval(mins => minutes) AS allowed FROM service_levels WHERE name = 'pending')
SELECT (SELECT count(*) FROM transactions WHERE is_suspicious AND created_at > :since) AS suspicious,
       (SELECT count(*) FROM transactions, sla
        WHERE status = 'pending' AND transaction_date >= CAST(:since AS timestamptz) - sla.allowed
          AND transaction_date < now() - sla.allowed) AS beyond_sla
""")


def since_from(raw: str) -> datetime:
    """A moment as the page wrote it, read as the event contract reads a time (RFC 3339, in UTC: an offset
    PostgreSQL would refuse, as +16:00 or one with seconds, never reaches it). Raises ValueError."""
    return parse_timestamp(raw)


class AlertStreams:
    def __init__(self, engine: Engine, streams: int, every: float = 2.0, lasting: float = 30.0,
                 per_holder: int | None = None):
        self.engine, self.every, self.lasting = engine, every, lasting
        self.slots = threading.BoundedSemaphore(streams)
        self.per_holder = per_holder or max(1, streams // 2)
        self._held: dict[object, int] = {}  # streams open per holder; a holder with none has no entry
        self._lock = threading.Lock()

    def _take(self, holder: object) -> bool:
        with self._lock:
            if self._held.get(holder, 0) >= self.per_holder or not self.slots.acquire(blocking=False):
                return False
            self._held[holder] = self._held.get(holder, 0) + 1
            return True

    def _give_back(self, holder: object) -> None:
        with self._lock:
            left = self._held.pop(holder) - 1
            if left:
                self._held[holder] = left
            self.slots.release()

    def counts(self, since: datetime) -> dict[str, int]:
        with self.engine.connect() as conn:
            row = conn.execute(COUNTS, {"since": since}).one()
        return {"suspicious": row.suspicious, "beyond_sla": row.beyond_sla}

    def open(self, since: datetime, holder: object = None) -> Iterator[str]:
        """The events of one stream for `holder` (who asks: an account), as text; a comment line between them shows
        the browser (and the server) that the connection is alive. The slot is taken when the stream starts, so a
        stream never started holds none."""
        if not self._take(holder):
            yield f"retry: {int(self.lasting * 1000)}\n\n"
            return
        try:
            yield f"retry: {int(self.every * 1000)}\n\n"
            until, last = time.monotonic() + self.lasting, None
            while True:
                try:
                    now = self.counts(since)
                except OperationalError:  # PostgreSQL away: say so, keep the stream, count again at the next tick
                    now = last
                    yield ": the database does not answer\n\n"
                else:
                    yield f"event: alert\ndata: {json.dumps(now)}\n\n" if now != last else ": nothing new\n\n"
                last = now
                if time.monotonic() + self.every > until:
                    return
                time.sleep(self.every)
        finally:
            self._give_back(holder)
