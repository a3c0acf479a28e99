"""Watches the platform's topics as the broker has them: a topic missing, or with fewer partitions than
TOPIC_PARTITIONS (a broker that lost its topics, and something that made them again with its own default), is said
once in the log and stays in /health until it is mended. The platform's clients never create a topic themselves.
It also counts the subscribed topics' partitions, which a consumer that holds none does not see.
"""

from __future__ import annotations

import logging
import threading

from confluent_kafka import KafkaException

from payments_core.kafka import admin_client

from .metrics import Metrics

__all__ = ["TopicCheck", "topic_problems"]

log = logging.getLogger(__name__)


def topic_problems(found: dict[str, int | None], partitions: int) -> list[str]:
    """What is wrong with each topic, given its partition count (None: the broker does not have it)."""
    problems = []
    for topic, count in found.items():
        if count is None:
            problems.append(f"topic {topic!r} does not exist; `payments setup` creates it")
        elif count < partitions:
            problems.append(f"topic {topic!r} has {count} partitions, fewer than TOPIC_PARTITIONS={partitions}; "
                            "keys now go to other partitions than before: recreate it with `payments setup`")
    return problems


class TopicCheck(threading.Thread):
    def __init__(self, bootstrap_servers: str, subscribed: list[str], dead_letters: str, partitions: int,
                 metrics: Metrics, every_seconds: float = 10.0):
        super().__init__(name="topic-check", daemon=True)
        self.admin = admin_client(bootstrap_servers)
        self.subscribed, self.topics = subscribed, [*subscribed, dead_letters]
        self.partitions, self.metrics = partitions, metrics
        self.every_seconds = every_seconds
        self.stopping = threading.Event()

    def run(self) -> None:
        while True:
            self.check()
            if self.stopping.wait(self.every_seconds):
                return

    def check(self) -> None:
        try:
            # Every topic, not the three by name: a request by name may create them on some brokers.
            listed = self.admin.list_topics(timeout=5).topics
        except KafkaException:
            return  # the broker is unreachable: the consumer says so
        found = {t: len(listed[t].partitions) if t in listed and listed[t].error is None else None
                 for t in self.topics}
        # What the group has to share out: an instance that holds none of it for long joins again.
        self.metrics.topic_partitions = sum(found[t] or 0 for t in self.subscribed)
        problems = topic_problems(found, self.partitions)
        if problems != self.metrics.topic_problems:
            for problem in problems:
                log.error("%s", problem)
            if not problems:
                log.info("topics as expected again: %s", ", ".join(self.topics))
            self.metrics.topic_problems = problems

    def stop(self) -> None:
        self.stopping.set()
