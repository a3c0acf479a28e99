"""Real servers for the tests, started once per session; each test gets fresh topics, databases and buckets.

PostgreSQL is the machine's own (TEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres) when
it answers, else an embedded one. Kafka (Tansu) and S3 (moto) are started on free ports, so a running
`make up` is never disturbed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url

from payments_core.db.connect import make_engine, reachable
from payments_core.db.migrate import upgrade
from payments_core.db.seed import seed
from payments_core.kafka import ensure_topics
from platform_ops.servers import EmbeddedPostgres, free_port, start_moto, start_tansu
from tests.helpers.importer import ImporterClient
from tests.helpers.services import RunningService
from tests.helpers.waiting import unique

# Property-based tests: no per-example deadline (real servers answer in their own time); HYPOTHESIS_PROFILE=deep
# runs many more examples, to look for new findings before a release.
hypothesis_settings.register_profile("default", deadline=None, print_blob=True)
hypothesis_settings.register_profile("deep", deadline=None, print_blob=True, max_examples=3000)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_addoption(parser):
    parser.addoption("--soak", action="store_true", help="also run the soak tests (minutes each)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="a soak test: run with --soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


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
        name = unique("test").replace("-", "_")
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
    return lambda prefix="topic": unique(prefix)


@pytest.fixture
def bucket_name():
    return unique("bucket")


# --- Kafka and the ingestion service ---------------------------------------------------------------------------

@pytest.fixture
def ingestion_settings(kafka_bootstrap, database_url):
    """Settings for an ingestion service of the test's own: fresh topics (3 partitions), group and database."""
    from ingestion_service.settings import IngestionSettings

    settings = IngestionSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        database_url=database_url,
        payments_topic=unique("payments"),
        imports_topic=unique("imports"),
        dlq_topic=unique("dlq"),
        topic_partitions=3,
        ingestion_group_id=unique("ingestion"),
        ingestion_batch_max_wait_ms=50,
        # The Tansu broker takes about half the session timeout to form a group: keep it short in tests.
        ingestion_session_timeout_ms=2000,
        ingestion_http_port=0,
        _env_file=None,
    )
    ensure_topics(kafka_bootstrap, [settings.payments_topic, settings.imports_topic, settings.dlq_topic], 3)
    return settings


@pytest.fixture
def start_service():
    """Start ingestion services (stopped at the end of the test): start_service(settings) -> RunningService."""
    running = []

    def start(settings, **kwargs):
        service = RunningService(settings, **kwargs)
        running.append(service)
        return service

    yield start
    for service in running:
        if service.thread.is_alive():
            service.stop()


# --- the CSV importer ------------------------------------------------------------------------------------------


@pytest.fixture
def importer_settings(kafka_bootstrap, s3_endpoint, database_url, bucket_name, tmp_path):
    """Settings for an importer of the test's own: its own imports topic, bucket, database and spool."""
    from csv_importer.settings import ImporterSettings

    settings = ImporterSettings(
        kafka_bootstrap_servers=kafka_bootstrap, database_url=database_url, s3_endpoint_url=s3_endpoint,
        s3_access_key="test-access", s3_secret_key="test-secret", s3_bucket=bucket_name,
        payments_topic=unique("payments"), imports_topic=unique("imports"), dlq_topic=unique("dlq"),
        importer_secret_key="test-secret-key-for-sessions", importer_spool_dir=str(tmp_path / "spool"),
        _env_file=None,
    )
    ensure_topics(kafka_bootstrap, [settings.payments_topic, settings.imports_topic, settings.dlq_topic], 3)
    return settings


@pytest.fixture
def importer(importer_settings):
    from csv_importer import create_app

    return ImporterClient(create_app(importer_settings))


@pytest.fixture
def importer_ingestion(importer_settings, start_service):
    """An ingestion service reading the importer's topics into the importer's database."""
    from ingestion_service.settings import IngestionSettings

    shared = {k: v for k, v in importer_settings.model_dump().items() if k in IngestionSettings.model_fields}
    return start_service(IngestionSettings(**{
        **shared, "ingestion_group_id": unique("ingestion"), "ingestion_session_timeout_ms": 2000,
        "ingestion_http_port": 0, "ingestion_batch_max_wait_ms": 50}, _env_file=None))


@pytest.fixture
def known(engine):
    """The dashboards' known data (tests/helpers/known_data.py) in the test's database; returns the engine."""
    from tests.helpers.known_data import insert_known

    return insert_known(engine)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS

    assert Path(CHROMIUM).exists(), "Chromium is missing: `make test` installs Debian's chromium package"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
