import uuid

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from dashboards.reader import ensure_reader
from payments_core.db.connect import libpq_dsn


@pytest.fixture
def reader_role(database_url, databases):
    name = f"reader_{uuid.uuid4().hex[:8]}"
    yield name
    dsn = libpq_dsn(database_url)
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{name}"')  # a name made above, not data
    connection.close()
    with databases.engine.connect() as conn:
        conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{name}"')


def as_role(database_url, role):
    return psycopg2.connect(make_url(database_url).set(drivername="postgresql", username=role, password="x")
                            .render_as_string(hide_password=False))


def test_metabase_reads_through_a_role_that_can_select_and_nothing_else(database_url, reader_role):
    assert ensure_reader(database_url, reader_role, "a-reader-password") is True
    assert ensure_reader(database_url, reader_role, "a-reader-password") is False, "a second run creates nothing"

    with as_role(database_url, reader_role) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bi_transactions")
        assert cursor.fetchone() == (0,)
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute("DELETE FROM users")
