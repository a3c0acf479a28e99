"""The dashboards' totals (migration 0008): recomputed from `transactions` for the days that changed."""

from __future__ import annotations

from sqlalchemy import Connection, text

__all__ = ["refresh_totals"]


def refresh_totals(conn: Connection) -> int:
    """Recompute the totals of the days that statements on `transactions` changed since the last refresh; returns
    how many days. Safe to call from several processes at once: one does the work, the others return 0."""
    return conn.execute(text("SELECT refresh_payment_totals()")).scalar_one()
