"""The sink's statements are built from one column list: it must be the `transactions` table's."""

from sqlalchemy import text

from ingestion_service.records import TRANSACTION_COLUMNS

WRITTEN_BY_THE_DATABASE = {"created_at", "modified_at"}  # defaults and the modified_at trigger


def test_the_column_list_is_the_transactions_tables(engine):
    with engine.connect() as conn:
        columns = [name for (name,) in conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'transactions' "
            "ORDER BY ordinal_position"))]

    assert [c for c in columns if c not in WRITTEN_BY_THE_DATABASE] == list(TRANSACTION_COLUMNS)
