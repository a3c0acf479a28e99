"""The read-only PostgreSQL role Metabase reads through: it can SELECT, and nothing else."""

from __future__ import annotations

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url

from payments_core.db.connect import libpq_dsn

__all__ = ["ensure_reader"]


def ensure_reader(database_url: str, user: str, password: str) -> bool:
    """Create the role (or reset its password) and let it read every table and view, present and future.
    Returns True if the role was created."""
    dsn = libpq_dsn(database_url)
    database = make_url(database_url).database
    role = sql.Identifier(user)
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,))
        created = cursor.fetchone() is None
        # Identifiers and the password are composed by psycopg2.sql (DDL takes no bound parameters).
        verb = "CREATE ROLE {} LOGIN PASSWORD {}" if created else "ALTER ROLE {} LOGIN PASSWORD {}"
        cursor.execute(sql.SQL(verb).format(role, sql.Literal(password)))
        for statement in (
            "GRANT CONNECT ON DATABASE {db} TO {role}",
            "GRANT USAGE ON SCHEMA public TO {role}",
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {role}",
        ):
            cursor.execute(sql.SQL(statement).format(db=sql.Identifier(database), role=role))
    connection.close()
    return created
