"""Real servers for the tests, started once per session; each test gets fresh topics, databases and buckets.

PostgreSQL is the machine's own (TEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres) when
it answers, else an embedded one. Kafka (Tansu) and S3 (moto) are started on free ports, so a running
`make up` is never disturbed.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from payments_core.db.connect import make_engine, reachable
from payments_core.db.migrate import upgrade
from payments_core.db.seed import seed
from payments_core.servers import EmbeddedPostgres, free_port, start_moto, start_tansu


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def servers_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def kafka_bootstrap(servers_dir):
    """A Tansu broker for the whole session: 'host:port'."""
    broker = start_tansu("127.0.0.1", free_port(), servers_dir / "logs")
    yield broker.address
    broker.stop()


@pytest.fixture(scope="session")
def s3_endpoint(servers_dir):
    """An S3 endpoint (moto server) for the whole session: 'http://host:port'."""
    server = start_moto("127.0.0.1", free_port(), servers_dir / "logs")
    yield server.address
    server.stop()


@pytest.fixture(scope="session")
def postgres_server(servers_dir):
    """A URL of the server's maintenance database."""
    url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    if reachable(url):
        yield url
        return
    embedded = EmbeddedPostgres(servers_dir / "pgdata")
    yield embedded.url("postgres")
    embedded.stop()


class Databases:
    """Creates and drops whole databases on the test server."""

    def __init__(self, server_url: str):
        self.server_url = server_url
        self.engine = make_engine(server_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def url(self, name: str) -> str:
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        name = _unique("test").replace("-", "_")
        # Names are generated here, never taken from data; the template name too.
        ddl = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        with self.engine.connect() as conn:
            conn.execute(text(ddl))
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def databases(postgres_server):
    dbs = Databases(postgres_server)
    yield dbs
    for name in dbs.created:
        dbs.drop(name)
    dbs.engine.dispose()


@pytest.fixture(scope="session")
def template_database(databases):
    """A database migrated to head and seeded, that each test's database is copied from."""
    name = databases.create()
    url = databases.url(name)
    upgrade(url)
    engine = make_engine(url)
    seed(engine)
    engine.dispose()
    return name


@pytest.fixture
def database_url(databases, template_database):
    """A fresh database of the test's own, migrated and seeded."""
    name = databases.create(template=template_database)
    yield databases.url(name)
    databases.drop(name)


@pytest.fixture
def empty_database_url(databases):
    """A fresh, empty database of the test's own."""
    name = databases.create()
    yield databases.url(name)
    databases.drop(name)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def new_topic_name():
    """A factory of topic names no other test uses."""
    return lambda prefix="topic": _unique(prefix)


@pytest.fixture
def bucket_name():
    return _unique("bucket")
