from decimal import Decimal
from pathlib import Path

import pytest

from csv_importer.settings import ImporterSettings
from payments_core.errors import ConfigError
from payments_core.settings import load
from platform_ops.settings import StackSettings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """An environment with only the required values, and no .env file in reach."""
    monkeypatch.chdir(tmp_path)
    for name in ImporterSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("S3_ACCESS_KEY", "local-access")
    monkeypatch.setenv("S3_SECRET_KEY", "local-secret")
    monkeypatch.setenv("IMPORTER_SECRET_KEY", "local-importer-secret")
    return monkeypatch


def test_defaults_are_those_of_the_local_stack(environment):
    settings = load(ImporterSettings)

    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert str(settings.database_url) == "postgresql://postgres@127.0.0.1:5432/payments"
    assert settings.s3_endpoint_url == "http://127.0.0.1:9000"
    assert settings.s3_bucket == "files-imported"
    assert (settings.payments_topic, settings.imports_topic, settings.dlq_topic) == (
        "payments-events", "import-payments-events", "payments-events-dlq")
    assert settings.suspicious_amount_threshold == Decimal(8000)
    assert settings.importer_port == 5050


def test_the_environment_overrides_a_default(environment):
    environment.setenv("SUSPICIOUS_AMOUNT_THRESHOLD", "5000.50")

    assert load(ImporterSettings).suspicious_amount_threshold == Decimal("5000.50")


@pytest.mark.parametrize("name", ["S3_ACCESS_KEY", "S3_SECRET_KEY", "IMPORTER_SECRET_KEY"])
def test_a_missing_required_value_fails_naming_it(environment, name):
    environment.delenv(name)

    with pytest.raises(ConfigError, match=f"{name} is not set"):
        load(ImporterSettings)


@pytest.mark.parametrize("name, value", [("IMPORTER_PORT", "http"), ("IMPORTER_PORT", "70000"),
                                         ("DATABASE_URL", "mysql://x@y/z"), ("DATABASE_URL", "not a url"),
                                         ("DATABASE_URL", "postgresql://host:5432"), ("S3_BUCKET", "Bad_Bucket"),
                                         ("SUSPICIOUS_AMOUNT_THRESHOLD", "NaN"), ("PAYMENTS_TOPIC", "no spaces")])
def test_a_malformed_value_fails_naming_it(environment, name, value):
    environment.setenv(name, value)

    with pytest.raises(ConfigError, match=name):
        load(ImporterSettings)


def test_a_unix_socket_database_url_is_accepted(environment):
    environment.setenv("DATABASE_URL", "postgresql://postgres@/payments?host=/run/postgresql")

    assert load(ImporterSettings).database_url.endswith("?host=/run/postgresql")


def test_a_secret_is_never_echoed_in_the_error(environment):
    environment.setenv("S3_SECRET_KEY", "")
    environment.setenv("DATABASE_URL", "postgresql://user:hunter2@db:bad-port/x")

    with pytest.raises(ConfigError) as caught:
        load(ImporterSettings)

    assert "hunter2" not in str(caught.value)
    assert "S3_SECRET_KEY" in str(caught.value)


def test_a_dotenv_file_is_read_and_the_environment_wins(environment, tmp_path):
    (tmp_path / ".env").write_text("IMPORTER_PORT=6000\nS3_BUCKET=from-dotenv\n")
    environment.setenv("S3_BUCKET", "from-environment")

    settings = load(ImporterSettings)

    assert (settings.importer_port, settings.s3_bucket) == (6000, "from-environment")


def test_env_example_documents_every_setting_of_every_service():
    from dashboards.settings import MetabaseSettings
    from data_generator.settings import GeneratorSettings
    from ingestion_service.settings import IngestionSettings

    documented = {line.split("=", 1)[0].strip() for line in ENV_EXAMPLE.read_text().splitlines()
                  if "=" in line and not line.lstrip().startswith("#")}

    for settings in (ImporterSettings, StackSettings, IngestionSettings, GeneratorSettings, MetabaseSettings):
        assert {name.upper() for name in settings.model_fields} <= documented, settings.__name__


def test_the_threshold_is_declared_once_and_every_service_reads_it(environment):
    from data_generator.settings import GeneratorSettings
    from ingestion_service.settings import IngestionSettings

    environment.setenv("SUSPICIOUS_AMOUNT_THRESHOLD", "123.45")

    assert {load(s).suspicious_amount_threshold for s in (ImporterSettings, IngestionSettings, GeneratorSettings)} == {
        Decimal("123.45")}


def test_the_local_stack_needs_the_importer_secret_only_to_start_the_importer(environment):
    from platform_ops.stack import SERVICES, Stack

    environment.delenv("IMPORTER_SECRET_KEY")

    settings = load(StackSettings)
    stack = Stack(settings=settings, state_dir=Path("."), database_url=settings.database_url)

    assert [s.package for s in SERVICES if stack.wanted(s)] == ["ingestion_service", "data_generator"]
    assert "CSV importer" not in stack.summary()
    environment.setenv("IMPORTER_SECRET_KEY", "local-importer-secret")
    environment.setenv("IMPORTER_ADMIN_USERNAME", "admin")
    settings = load(StackSettings)
    summary = Stack(settings=settings, state_dir=Path("."), database_url=settings.database_url).summary()
    assert "http://127.0.0.1:5050/  (sign in as admin, password IMPORTER_ADMIN_PASSWORD in .env)" in summary


@pytest.mark.parametrize("password", ["p@ss", "a:b", "a/b", "a#b", "a?b", "100%"])
def test_a_compose_database_password_that_would_break_the_url_is_named_at_setup(environment, password):
    from platform_ops.settings import PlatformSetupSettings

    environment.setenv("POSTGRES_PASSWORD", password)

    with pytest.raises(ConfigError, match="POSTGRES_PASSWORD is not valid: .*letters, digits") as caught:
        load(PlatformSetupSettings)
    assert password not in str(caught.value), "a secret is never echoed"


def test_a_compose_database_password_of_url_safe_characters_is_taken(environment):
    from platform_ops.settings import PlatformSetupSettings

    environment.setenv("POSTGRES_PASSWORD", "Local-db_pass.1~")

    assert load(PlatformSetupSettings).postgres_password.get_secret_value() == "Local-db_pass.1~"
