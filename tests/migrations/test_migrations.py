"""The migrations on a real PostgreSQL: they round-trip, and they build exactly what the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from payments_core.db.connect import make_engine
from payments_core.db.migrate import downgrade, upgrade
from payments_core.db.models import Base
from platform_ops.setup import migrate_and_seed


def tables(url) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trips(empty_database_url):
    upgrade(empty_database_url)
    assert tables(empty_database_url) == set(Base.metadata.tables)

    downgrade(empty_database_url, "base")
    assert tables(empty_database_url) == set()

    upgrade(empty_database_url)
    assert tables(empty_database_url) == set(Base.metadata.tables)


def test_the_bi_views_come_and_go_with_the_migrations(empty_database_url):
    engine = make_engine(empty_database_url)
    try:
        upgrade(empty_database_url)
        views = set(inspect(engine).get_view_names())
        downgrade(empty_database_url, "0003")
        after_downgrade = set(inspect(engine).get_view_names())
    finally:
        engine.dispose()

    assert views == {"bi_transactions", "bi_daily_volume", "bi_user_activity", "bi_rejection_reasons",
                     "bi_rejections_by_import", "user_payments", "pending_beyond_sla", "payment_totals_changes"}
    assert after_downgrade == set()


def test_autogenerate_finds_no_difference_between_models_and_migrations(empty_database_url):
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_the_database_compiles_no_query_just_in_time(empty_database_url):
    """JIT compilation cost the dashboards' questions more than their work (migration 0018); a new connection of
    any role has it off."""
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
    finally:
        engine.dispose()


def test_changes_not_yet_refreshed_survive_the_log_split_in_two_and_back(empty_database_url):
    """Migration 0019 moves the log into two halves, and its downgrade moves it back: a change written before
    either and refreshed after is counted once."""
    totals = text("SELECT day, currency_code, status, transactions, volume, suspicious FROM daily_totals "
                  "ORDER BY day, currency_code, status")
    direct = text("""
        SELECT (transaction_date AT TIME ZONE 'UTC')::date, currency_code, status, count(*), sum(amount),
               count(*) FILTER (WHERE is_suspicious)
        FROM transactions GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")
    add = text("""
        INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, currency_code, transaction_date,
                                  status, is_suspicious, source)
        SELECT gen_random_uuid(), u.ids[1], u.ids[2], n * 1000, 978, timestamptz '2025-06-01' + n * interval '7 h',
               (ARRAY['pending', 'completed'])[1 + n % 2], n * 1000 > 8000, 'generator'
        FROM generate_series(1, :n) AS n CROSS JOIN (SELECT array_agg(user_id ORDER BY user_id) AS ids FROM users) u""")
    engine = make_engine(empty_database_url)
    try:
        migrate_and_seed(empty_database_url)  # the users
        downgrade(empty_database_url, "0018")
        with engine.begin() as conn:
            conn.execute(add, {"n": 20})
            conn.execute(text("UPDATE transactions SET status = 'completed' WHERE amount < 5000"))
        upgrade(empty_database_url)
        with engine.begin() as conn:
            conn.execute(text("SELECT refresh_payment_totals()"))
            after_upgrade = (conn.execute(totals).all(), conn.execute(direct).all())
            conn.execute(add, {"n": 7})
            conn.execute(text("DELETE FROM transactions WHERE amount = 3000"))
        downgrade(empty_database_url, "0018")
        with engine.begin() as conn:
            conn.execute(text("SELECT refresh_payment_totals()"))
            after_downgrade = (conn.execute(totals).all(), conn.execute(direct).all())
    finally:
        engine.dispose()

    assert after_upgrade[0] == after_upgrade[1]
    assert after_downgrade[0] == after_downgrade[1]
    assert len(after_downgrade[0]) > 5
