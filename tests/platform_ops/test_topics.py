"""`payments topics` asks only for what it uses: the broker and the topics' names."""

from __future__ import annotations

import uuid

from click.testing import CliRunner
from confluent_kafka.admin import AdminClient

from platform_ops.cli import cli


def test_topics_are_made_without_s3_or_database_settings(kafka_bootstrap, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env to read settings from
    for name in ("S3_ACCESS_KEY", "S3_SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    names = {kind: f"{kind}-{uuid.uuid4().hex[:8]}" for kind in ("payments", "imports", "dlq")}
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "PAYMENTS_TOPIC": names["payments"],
           "IMPORTS_TOPIC": names["imports"], "DLQ_TOPIC": names["dlq"], "TOPIC_PARTITIONS": "2"}

    answer = CliRunner().invoke(cli, ["topics"], env=env)

    assert answer.exit_code == 0, answer.output
    existing = AdminClient({"bootstrap.servers": kafka_bootstrap}).list_topics(timeout=10).topics
    assert set(names.values()) <= set(existing)
