"""`payments topics` asks only for what it uses: the broker and the topics' names."""

from __future__ import annotations

import uuid

from click.testing import CliRunner
from confluent_kafka.admin import AdminClient, ConfigResource

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


def retention_days(bootstrap: str, topic: str) -> float:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    (future,) = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)]).values()
    return int(future.result()["retention.ms"].value) / (24 * 3600 * 1000)


def test_each_topic_keeps_messages_as_long_as_the_settings_say_also_once_it_exists(kafka_bootstrap, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = {kind: f"{kind}-{uuid.uuid4().hex[:8]}" for kind in ("payments", "imports", "dlq")}
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "PAYMENTS_TOPIC": names["payments"],
           "IMPORTS_TOPIC": names["imports"], "DLQ_TOPIC": names["dlq"]}

    made = CliRunner().invoke(cli, ["topics"], env=env)
    first = {kind: retention_days(kafka_bootstrap, name) for kind, name in names.items()}
    changed = CliRunner().invoke(cli, ["topics"], env={**env, "TOPIC_RETENTION_DAYS": "3", "DLQ_RETENTION_DAYS": "60"})
    then = {kind: retention_days(kafka_bootstrap, name) for kind, name in names.items()}

    assert made.exit_code == 0 and changed.exit_code == 0, made.output + changed.output
    assert first == {"payments": 7, "imports": 7, "dlq": 30}  # the defaults, explicitly
    assert then == {"payments": 3, "imports": 3, "dlq": 60}  # set again on topics that exist
