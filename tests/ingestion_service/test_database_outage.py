"""PostgreSQL stopped and started in the middle of a stream: nothing is lost, refused or committed past."""

from sqlalchemy import func, select

from payments_core.db.connect import make_engine
from payments_core.db.models import RejectedEvent, Transaction
from platform_ops.servers import EmbeddedPostgres
from platform_ops.setup import migrate_and_seed
from tests.helpers.events import message, payment
from tests.helpers.kafka import produce, read_topic
from tests.helpers.waiting import wait_until


def test_every_event_lands_when_postgres_stops_and_starts_mid_stream(ingestion_settings, start_service, tmp_path):
    postgres = EmbeddedPostgres(tmp_path / "pg")
    url = postgres.url("payments")
    migrate_and_seed(url)
    settings = ingestion_settings.model_copy(update={"database_url": url})
    engine = make_engine(url)
    bootstrap, topic = settings.kafka_bootstrap_servers, settings.payments_topic

    def count(model=Transaction):
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(model))

    try:
        running = start_service(settings)
        produce(bootstrap, topic, [message(payment()) for _ in range(500)])
        wait_until(lambda: count() == 500, message="the first 500 rows")

        postgres.stop()
        engine.dispose()
        produce(bootstrap, topic, [message(payment()) for _ in range(500)])
        wait_until(lambda: not running.service.metrics.database_is_up, message="the service seeing the outage")
        assert running.service.state.paused
        assert running.thread.is_alive()

        postgres.start()
        wait_until(lambda: count() == 1000, timeout=90, message="all 1000 rows after the restart")
        wait_until(lambda: running.service.metrics.database_is_up, message="the service seeing PostgreSQL back")
        assert count(RejectedEvent) == 0
        marker = payment()
        produce(settings.kafka_bootstrap_servers, settings.dlq_topic, [message(marker)])
        dead = read_topic(bootstrap, settings.dlq_topic, 1, then_wait=2.0)
        assert dead[0].value() == message(marker)[1], "the outage sent nothing to the dead-letter topic"
    finally:
        engine.dispose()
        postgres.stop()
