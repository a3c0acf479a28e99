"""The dashboards' totals, in one place: per day, week and month and for all time, overall and per user, kept up
with the rows of `transactions` that changed, so that a dashboard reads a few hundred rows at ten million payments.

- `models.py`: their tables, and the log of changes (two halves) the totals are kept up with;
- `sql/`: the SQL the database runs for them, as head installs it: the trigger function that appends every
  statement's changes to the log (`note_payment_changes.sql`), its triggers (`triggers.sql`), the log's view
  (`payment_totals_changes.sql`) and the refresh that adds the log to the totals (`refresh_payment_totals.sql`);
- `refresher.py`: `refresh_totals`, and the thread that calls it every few seconds (run by the ingestion service);
- `questions/`: the SQL that the dashboards' questions (metabase/questions/) share to read the totals.

To change how the totals are kept, edit the files of sql/ and write a migration that installs them, its SQL copied
in (migrations stand alone): tests/payments_core/test_totals_sql.py holds the files equal to what head installs.
"""

from __future__ import annotations

from pathlib import Path

from .refresher import TotalsRefresher, refresh_totals

__all__ = ["QUESTION_FRAGMENTS", "SQL", "TotalsRefresher", "refresh_totals", "sql_files"]

SQL = Path(__file__).with_name("sql")
QUESTION_FRAGMENTS = Path(__file__).with_name("questions")


def sql_files() -> dict[str, str]:
    """Each file of sql/ by name, as the database should have it."""
    return {path.name: path.read_text() for path in sorted(SQL.glob("*.sql"))}
