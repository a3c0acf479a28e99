"""The dashboards' totals (migrations 0008 and 0013): kept up with the rows of `transactions` that changed."""

from __future__ import annotations

from sqlalchemy import Connection, text

__all__ = ["refresh_totals"]


def refresh_totals(conn: Connection) -> int:
    """Add to the totals the rows that statements on `transactions` wrote or removed since the last refresh; returns
    how many cells (day, user, currency, status) changed, or 0 when nothing had. A user's sent side and received side
    of a cell count apart (migration 0021), except when the refresh also took rows a writer had held back: then each
    cell counts once. Safe to call from several processes at once: one does the work, the others return 0."""
    return conn.execute(text("SELECT refresh_payment_totals()")).scalar_one()
