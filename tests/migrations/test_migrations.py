"""The migrations on a real PostgreSQL: they round-trip, and they build exactly what the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from payments_core.db.connect import make_engine
from payments_core.db.migrate import downgrade, upgrade
from payments_core.db.models import Base


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
                     "bi_rejections_by_import", "user_payments", "pending_beyond_sla"}
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
