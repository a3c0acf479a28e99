"""Keeps the dashboards' totals in step with `transactions`: every few seconds, on a thread and a connection of its
own, it adds the rows that changed to them (`refresh_totals`), then counts the payments pending beyond the service
level (`payments_pending_beyond_sla`, migration 0014). The ingestion service runs it.

A failure is logged and tried again at the next tick: the totals lag, the ingestion goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from payments_core.db.connect import make_engine
from payments_core.db.service_levels import pending_beyond_sla

__all__ = ["TotalsRefresher", "refresh_totals"]

log = logging.getLogger(__name__)


def refresh_totals(conn: Connection) -> int:
    """Add to the totals the rows that statements on `transactions` wrote or removed since the last refresh; returns
    how many cells (day, user, currency, status) changed, or 0 when nothing had. A user's sent side and received side
    of a cell count apart, except when the refresh also took rows a writer had held back: then each cell counts once.
    Safe to call from several processes at once: one does the work, the others return 0."""
    return conn.execute(text("SELECT refresh_payment_totals()")).scalar_one()


class TotalsRefresher(threading.Thread):
    def __init__(self, database_url: str, every_seconds: float,
                 on_pending_beyond_sla: Callable[[int], None] = lambda count: None):
        super().__init__(name="totals-refresher", daemon=True)
        # One connection, checked before use: after a restart of PostgreSQL the next tick connects again.
        self.engine = make_engine(database_url, pool_size=1, max_overflow=0, connect_args={
            "connect_timeout": 5, "application_name": "totals_refresher",
            "options": "-c statement_timeout=300000"})
        self.every_seconds = every_seconds
        self.on_pending_beyond_sla = on_pending_beyond_sla
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.every_seconds):
            try:
                with self.engine.begin() as conn:
                    refresh_totals(conn)
                with self.engine.connect() as conn:
                    self.on_pending_beyond_sla(sum(pending_beyond_sla(conn).values()))
            except DBAPIError as e:
                log.warning("the dashboards' totals were not refreshed (tried again in %.0f s): %s",
                            self.every_seconds, str(e.orig or e).strip().splitlines()[0])
        self.engine.dispose()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
