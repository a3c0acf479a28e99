"""The service's connections to PostgreSQL (each writer's, and the look-ups'): how one is opened, and which errors say
that the database cannot work now, so that the batch is retried later, rather than that something in the batch is
to blame."""

from __future__ import annotations

import psycopg2
from psycopg2 import errors as pg_errors

from payments_core.errors import DatabaseUnavailable

__all__ = ["connect", "first_line", "unavailable"]

# uuid columns read back as the text the service holds ids in, on its connections whatever adapter is registered
# globally: ids returned by the upsert, stored versions, users and import progress are compared with events' own.
UUID_AS_TEXT = psycopg2.extensions.new_type((2950,), "UUID_AS_TEXT", lambda value, cursor: value)

# SQLSTATE classes that say something of the database, not of the data: the connection (08), a deadlock or
# serialization failure (40), resources (53), an operator or a statement timeout (57), the system (58), the schema
# or the rights (42, 3D, 3F, 28), a lock or state (55). The batch is retried later, never blamed on a message.
SYSTEMIC_SQLSTATE_CLASSES = {"08", "28", "3D", "3F", "40", "42", "53", "55", "57", "58"}


def connect(dsn: str, statement_timeout_s: float, name: str):
    """A connection whose statements fail after the timeout instead of stalling the service (a network cut, a
    lock), and which notices a peer gone within about 25 s; `name` is its application_name in pg_stat_activity.
    Raises DatabaseUnavailable."""
    try:
        connection = psycopg2.connect(
            dsn, connect_timeout=5, application_name=name, keepalives=1, keepalives_idle=10,
            keepalives_interval=5, keepalives_count=3,
            options=f"-c statement_timeout={int(statement_timeout_s * 1000)}",
        )
    except psycopg2.OperationalError as e:
        raise DatabaseUnavailable(f"PostgreSQL is unreachable: {first_line(e)}") from e
    psycopg2.extensions.register_type(UUID_AS_TEXT, connection)
    return connection


def unavailable(error: psycopg2.Error, doing: str, statement_timeout_s: float) -> DatabaseUnavailable | None:
    """The DatabaseUnavailable that `error`, raised while `doing`, amounts to; None when the data may be to blame."""
    if isinstance(error, pg_errors.QueryCanceled):  # an OperationalError, but the connection is fine
        return DatabaseUnavailable(
            f"PostgreSQL cancelled the batch while {doing}, after the statement timeout of {statement_timeout_s:g} s: "
            "is a lock held on the table, or the server overloaded?")
    if isinstance(error, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        return DatabaseUnavailable(f"PostgreSQL went away during a batch: {first_line(error)}")
    if (error.pgcode or "")[:2] in SYSTEMIC_SQLSTATE_CLASSES:
        return DatabaseUnavailable(f"PostgreSQL cannot take the batch now: {first_line(error)}")
    return None


def first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
