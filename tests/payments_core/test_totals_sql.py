"""The totals' SQL files (payments_core/totals/sql/) are what head installs, no more and no less: installing them
over a database at head changes nothing in the catalog, and they define every function, trigger and view of the
totals there."""

import re

from sqlalchemy import text

from payments_core.db.connect import make_engine
from payments_core.totals import sql_files

# Each definition as PostgreSQL prints it back: functions and views in the public schema, triggers on tables.
DEFINITIONS = """
SELECT 'function ' || p.proname, pg_get_functiondef(p.oid)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
UNION ALL
SELECT 'trigger ' || t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE NOT t.tgisinternal
UNION ALL
SELECT 'view ' || c.relname, pg_get_viewdef(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND n.nspname = 'public'
"""
DEFINED = re.compile(r"CREATE OR REPLACE (FUNCTION|TRIGGER|VIEW) (\w+)")


def catalog(conn) -> dict[str, str]:
    return dict(conn.execute(text(DEFINITIONS)).all())


def test_installing_the_totals_sql_over_head_changes_nothing(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            before = catalog(conn)
            with conn.connection.cursor() as cursor:  # as the migrations run it: no parameters, `%` is SQL's
                for sql in sql_files().values():
                    cursor.execute(sql)
            after = catalog(conn)
            conn.rollback()
    finally:
        engine.dispose()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"the files differ from head in {changed}"


def test_the_files_define_every_function_trigger_and_view_of_the_totals(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            definitions = catalog(conn)
    finally:
        engine.dispose()
    of_the_totals = {key for key, sql in definitions.items()
                     if "payment_totals_changes" in sql or "note_payment_changes" in sql}
    in_files = {f"{kind.lower()} {name}" for sql in sql_files().values() for kind, name in DEFINED.findall(sql)}
    assert in_files == of_the_totals
