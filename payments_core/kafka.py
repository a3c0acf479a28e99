"""Kafka helpers shared by the services: client settings, waiting for the broker, creating topics.

Every message is keyed by its transaction_id, so all versions of one transaction stay in order on one partition.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException, Producer, TopicCollection
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic

from payments_core.errors import ServerStartError
from payments_core.settings import KafkaSettings, TopicSettings

__all__ = [
    "CLIENT_LOG",
    "admin_client",
    "ensure_topics",
    "platform_topics",
    "produce_when_room",
    "retention_of",
    "producer_config",
    "broker_answers",
    "wait_for_broker",
]


def _hosts(bootstrap_servers: str) -> list[tuple[str, int]]:
    hosts = []
    for item in bootstrap_servers.split(","):
        host, _, port = item.strip().rpartition(":")
        hosts.append((host.strip("[]") or "127.0.0.1", int(port)))
    return hosts


class RepeatFilter(logging.Filter):
    """Lets a line through once per `window` seconds: while a broker is down, librdkafka says the same
    "Connect to … failed" about twenty times a second. A different timing ("after 3ms") does not make a line new."""

    _TIMINGS = re.compile(r"\d+ ?ms\b")

    def __init__(self, window: float = 60.0):
        super().__init__()
        self.window = window
        self.last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        key = self._TIMINGS.sub("#", record.getMessage())
        if now - self.last.get(key, -self.window) < self.window:
            return False
        if len(self.last) > 1000:  # forget lines not seen within the window
            self.last = {k: t for k, t in self.last.items() if now - t < self.window}
        self.last[key] = now
        return True


# librdkafka's own messages go through Python's logging, like the rest of a service's log, each line at most
# once a minute.
CLIENT_LOG = logging.getLogger(f"{__name__}.client")  # payments_core.kafka.client
CLIENT_LOG.addFilter(RepeatFilter())


def producer_config(settings: KafkaSettings, **overrides) -> dict:
    """A producer that never loses or reorders an acknowledged message: all replicas, idempotent."""
    return {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "logger": CLIENT_LOG,
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": 5,
        "compression.type": "lz4",
        # Topics are made by `payments setup` with TOPIC_PARTITIONS partitions. A producer that made them itself
        # (after a broker lost them) would give them the broker's default count, and keys would move partitions.
        "allow.auto.create.topics": False,
        **overrides,
    }


def produce_when_room(producer: Producer, topic: str, value: bytes, key: bytes | None,
                      headers: list[tuple[str, bytes]] | None = None) -> None:
    """Queue one message; while the producer's local queue is full, let deliveries drain it, then queue it."""
    while True:
        try:
            producer.produce(topic, value, key, headers=headers)
            return
        except BufferError:
            producer.poll(0.05)


def admin_client(bootstrap_servers: str) -> AdminClient:
    # log_level 3 keeps librdkafka's connection retries out of the terminal; failures still raise.
    return AdminClient({"bootstrap.servers": bootstrap_servers, "log_level": 3})


def broker_answers(bootstrap_servers: str, timeout: float = 2.0) -> bool:
    """Whether a Kafka-protocol broker answers a metadata request at `bootstrap_servers`."""
    reachable = False
    for host, port in _hosts(bootstrap_servers):
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            reachable = True
            break
        except OSError:
            continue
    if not reachable:
        return False
    try:
        admin_client(bootstrap_servers).list_topics(timeout=timeout)
        return True
    except KafkaException:
        return False


def wait_for_broker(bootstrap_servers: str, timeout: float = 30.0) -> None:
    """Return once the broker answers; raise ServerStartError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not broker_answers(bootstrap_servers, timeout=1.0):
        if time.monotonic() > deadline:
            raise ServerStartError(
                f"no Kafka broker answered at {bootstrap_servers} within {timeout:.0f} s; "
                "is KAFKA_BOOTSTRAP_SERVERS right?"
            )
        time.sleep(0.1)


def platform_topics(settings: TopicSettings) -> list[str]:
    return [settings.payments_topic, settings.imports_topic, settings.dlq_topic]


def retention_of(settings: TopicSettings) -> dict[str, int]:
    """How long each of the platform's topics keeps a message, in milliseconds."""
    day = 24 * 3600 * 1000
    return {settings.payments_topic: settings.topic_retention_days * day,
            settings.imports_topic: settings.topic_retention_days * day,
            settings.dlq_topic: settings.dlq_retention_days * day}


def ensure_topics(bootstrap_servers: str, topics: Iterable[str], partitions: int,
                  retention_ms: dict[str, int] | None = None) -> dict[str, int]:
    """Create each topic that is missing with `partitions` partitions; return every topic's partition count.

    An existing topic keeps its partitions (changing them would move keys). With `retention_ms`, each topic named
    there keeps its messages that long, set on creation and set again on an existing topic, explicitly: never the
    broker's default, whatever it is.
    """
    topics = list(topics)
    retention_ms = retention_ms or {}
    admin = admin_client(bootstrap_servers)
    futures = admin.create_topics([
        NewTopic(t, num_partitions=partitions, replication_factor=1,
                 config={"retention.ms": str(retention_ms[t])} if t in retention_ms else {}) for t in topics])
    existing = []
    for topic, future in futures.items():
        try:
            future.result()
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise ServerStartError(f"could not create topic {topic!r}: {e.args[0].str()}") from e
            existing.append(topic)
    changes = [ConfigResource(ConfigResource.Type.TOPIC, t, incremental_configs=[
        ConfigEntry("retention.ms", str(retention_ms[t]), incremental_operation=AlterConfigOpType.SET)])
        for t in existing if t in retention_ms]
    for resource, future in (admin.incremental_alter_configs(changes).items() if changes else []):
        try:
            future.result()
        except KafkaException as e:
            raise ServerStartError(f"could not set the retention of topic {resource.name!r}: "
                                   f"{e.args[0].str()}") from e
    described = admin.describe_topics(TopicCollection(topics))
    return {topic: len(future.result().partitions) for topic, future in described.items()}
