"""Connections to PostgreSQL: engines, waiting for readiness, and creating the database if it is missing."""

from __future__ import annotations

import re
import time

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from payments_core.errors import ConfigError, ServerStartError

__all__ = ["ensure_database", "libpq_dsn", "make_engine", "reachable", "wait_for_database"]


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for `url`; a plain postgresql:// URL uses psycopg2, the driver the platform installs."""
    parsed = make_url(str(url))
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def libpq_dsn(url: str) -> str:
    """The URL as libpq (psycopg2.connect, pg_dump) takes it: SQLAlchemy's driver suffix (postgresql+psycopg2)
    removed, the password kept."""
    return make_url(str(url)).set(drivername="postgresql").render_as_string(hide_password=False)


def _server_url(url: str) -> str:
    # The maintenance database of the same server, to create the target database from.
    return make_url(str(url)).set(database="postgres").render_as_string(hide_password=False)


# What libpq says when a server answers and refuses the login: nothing to wait for, a setting to fix.
REFUSED_LOGIN = re.compile(r"password authentication failed|no pg_hba\.conf entry|authentication failed|"
                           r"no password supplied|role \".*\" does not exist")


def reachable(url: str, timeout: float = 2.0) -> bool:
    """Whether a PostgreSQL server answers at `url`'s address (the database itself may not exist yet). A server that
    answers and refuses the login (a wrong password, an unknown role) raises ConfigError naming DATABASE_URL: it is
    not "nothing answers", and no other server should be started in its place."""
    engine = make_engine(_server_url(url), connect_args={"connect_timeout": max(1, int(timeout))})
    try:
        with engine.connect():
            return True
    except OperationalError as e:
        said = str(e.orig).strip()
        if REFUSED_LOGIN.search(said):
            where = make_url(str(url)).render_as_string(hide_password=True)
            raise ConfigError(f"PostgreSQL at {where} answers but refuses the login: {said.splitlines()[0]}. "
                              "Check the user and password of DATABASE_URL (in .env).") from None
        return False
    finally:
        engine.dispose()


def wait_for_database(url: str, timeout: float = 30.0) -> None:
    """Return once the server at `url` accepts connections; raise ServerStartError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not reachable(url):
        if time.monotonic() > deadline:
            host = make_url(str(url)).render_as_string(hide_password=True)
            raise ServerStartError(f"PostgreSQL at {host} did not accept connections within {timeout:.0f} s")
        time.sleep(0.2)


def ensure_database(url: str) -> bool:
    """Create the database named in `url` if it does not exist; return True if it was created."""
    name = make_url(str(url)).database
    engine = make_engine(_server_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if exists:
                return False
            quoted = conn.dialect.identifier_preparer.quote(name)
            try:
                conn.execute(text(f"CREATE DATABASE {quoted}"))  # an identifier, quoted by the dialect
            except ProgrammingError as e:
                if "already exists" not in str(e):  # created meanwhile by another process
                    raise
                return False
            return True
    finally:
        engine.dispose()
