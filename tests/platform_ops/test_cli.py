from click.testing import CliRunner
from minio import Minio
from sqlalchemy import func, select

from payments_core.db.connect import make_engine
from payments_core.db.models import Currency
from payments_core.kafka import admin_client
from platform_ops.cli import cli


def test_setup_prepares_everything_and_a_second_run_changes_nothing(
    kafka_bootstrap, s3_endpoint, empty_database_url, new_topic_name, bucket_name, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)
    topics = [new_topic_name("payments"), new_topic_name("imports"), new_topic_name("dlq")]
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "PAYMENTS_TOPIC": topics[0], "IMPORTS_TOPIC": topics[1], "DLQ_TOPIC": topics[2],
        "TOPIC_PARTITIONS": "2",
        "DATABASE_URL": empty_database_url,
        "S3_ENDPOINT_URL": s3_endpoint, "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b", "S3_BUCKET": bucket_name,
    }

    first = CliRunner().invoke(cli, ["setup", "--timeout", "10"], env=env)
    second = CliRunner().invoke(cli, ["setup", "--timeout", "10"], env=env)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert f"bucket {bucket_name} created" in first.output
    assert "seed added 0 currencies, 0 users" in second.output
    assert f"bucket {bucket_name} exists" in second.output
    listed = admin_client(kafka_bootstrap).list_topics(timeout=5).topics
    assert all(len(listed[t].partitions) == 2 for t in topics)
    assert Minio(s3_endpoint.removeprefix("http://"), "a", "b", secure=False).bucket_exists(bucket_name)
    engine = make_engine(empty_database_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Currency)) > 150
    engine.dispose()


def test_setup_names_the_server_that_never_answered(empty_database_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    env = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "DATABASE_URL": empty_database_url,
           "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b"}

    result = CliRunner().invoke(cli, ["setup", "--timeout", "1"], env=env)

    assert result.exit_code != 0
    assert "KAFKA_BOOTSTRAP_SERVERS" in str(result.exception)
