"""Keeps the dashboards' totals in step with `transactions`: every few seconds, on a thread and a connection of its
own, it recomputes the days that changed (`refresh_payment_totals()`, migration 0008).

A failure is logged and tried again at the next tick: the totals lag, the ingestion goes on.
"""

from __future__ import annotations

import logging
import threading

import psycopg2
from sqlalchemy.engine import make_url

__all__ = ["TotalsRefresher"]

log = logging.getLogger(__name__)


class TotalsRefresher(threading.Thread):
    def __init__(self, database_url: str, every_seconds: float):
        super().__init__(name="totals-refresher", daemon=True)
        self.dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.every_seconds = every_seconds
        self.stopping = threading.Event()
        self.refreshed_days = 0  # since the start, for the logs and the tests

    def run(self) -> None:
        connection = None
        while not self.stopping.wait(self.every_seconds):
            try:
                if connection is None or connection.closed:
                    connection = psycopg2.connect(self.dsn, connect_timeout=5, application_name="totals_refresher",
                                                  options="-c statement_timeout=300000")
                with connection, connection.cursor() as cursor:
                    cursor.execute("SELECT refresh_payment_totals()")
                    self.refreshed_days += cursor.fetchone()[0]
            except psycopg2.Error as e:
                log.warning("the dashboards' totals were not refreshed (tried again in %.0f s): %s",
                            self.every_seconds, str(e).strip().splitlines()[0])
                if connection is not None:
                    connection.close()
                    connection = None
        if connection is not None:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
