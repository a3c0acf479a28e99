"""The data generator's maximum sustained publish rate, every event confirmed by its delivery report.

Starts a Tansu broker on a free port and publishes N events (default 1,000,000) at full speed with the same
producer settings as `payments generate`; also times building the events alone, to show where the time goes.
Run: .venv/bin/python bench/generator.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

from data_generator.payments import PaymentStream, User
from data_generator.publisher import publish
from payments_core.db.seed import seed_users
from payments_core.kafka import ensure_topics, producer_config
from payments_core.settings import KafkaSettings
from platform_ops.servers import free_port, start_tansu

TARGET = 100_000


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    users = [User(str(u.user_id), u.username) for u in seed_users()]
    broker = start_tansu("127.0.0.1", free_port(), Path(tempfile.mkdtemp()) / "logs")
    try:
        ensure_topics(broker.address, ["bench-payments"], 6)
        stream = PaymentStream(users, seed=1)
        start = time.perf_counter()
        for _ in range(200_000):
            next(stream)
        build = 200_000 / (time.perf_counter() - start)

        config = producer_config(KafkaSettings(kafka_bootstrap_servers=broker.address),
                                 **{"linger.ms": 20, "batch.num.messages": 10_000,
                                    "queue.buffering.max.messages": 1_000_000})
        start = time.perf_counter()
        report = publish(PaymentStream(users, seed=2), config, "bench-payments", rate=0, count=n,
                         stop=threading.Event(), show_progress=False)
        seconds = time.perf_counter() - start
    finally:
        broker.stop()
    assert report.all_delivered, report.line()
    rate = report.delivered / seconds
    print(f"building events alone: {build:,.0f} events/s")
    print(f"published and confirmed: {report.delivered:,} events in {seconds:.1f} s = {rate:,.0f} events/s "
          f"({rate / TARGET:.2f} of the {TARGET:,} events/s target)")


if __name__ == "__main__":
    main()
