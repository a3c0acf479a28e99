"""docker-compose.yml, checked without a Docker engine: a real compose parser, and what the platform promises."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from platform_ops.cli import cli

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"


def compose_config(path: Path) -> subprocess.CompletedProcess:
    docker_compose = shutil.which("docker-compose")
    assert docker_compose, "docker-compose is missing: `make test` installs it (Debian package docker-compose)"
    return subprocess.run(
        [docker_compose, "--env-file", str(ROOT / ".env.example"), "-f", str(path), "config", "-q"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_the_compose_file_is_valid_for_a_real_compose_parser():
    result = compose_config(COMPOSE)

    assert result.returncode == 0, result.stderr


def test_the_parser_would_catch_a_broken_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("condition: service_healthy", "condition: when_ready", 1))

    assert compose_config(broken).returncode != 0


def test_every_python_service_runs_a_command_the_package_has(services):
    built = {name: s for name, s in services.items() if s.get("image") == "payments-platform:local"}

    assert built, "the Python services are built from the Dockerfile"
    for name, service in built.items():
        program, command, *_ = service["command"]
        assert program == "payments", name
        assert command in cli.commands, f"{name}: `payments {command}` does not exist"


def test_the_ingestion_service_can_be_scaled(services):
    ingestion = services["ingestion"]

    assert ingestion["command"] == ["payments", "ingest"]
    assert "container_name" not in ingestion and "ports" not in ingestion, "both would stop --scale"
    assert ingestion["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    assert "8081/health" in " ".join(ingestion["healthcheck"]["test"])


def test_the_generator_streams_once_the_schema_and_users_exist(services):
    generator = services["generator"]

    assert generator["command"] == ["payments", "generate"]
    assert generator["depends_on"]["setup"]["condition"] == "service_completed_successfully"


def test_the_importer_is_reachable_from_the_host_once_set_up(services):
    importer = services["importer"]

    assert importer["command"] == ["payments", "importer"]
    assert importer["ports"] == ["127.0.0.1:${IMPORTER_HOST_PORT:-5050}:${IMPORTER_PORT:-5050}"]
    assert importer["environment"]["IMPORTER_HOST"] == "0.0.0.0", "its container listens on every interface"
    assert importer["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    assert "/health" in " ".join(importer["healthcheck"]["test"])


def test_metabase_is_provisioned_once_it_is_healthy(services):
    provision = services["metabase-provision"]

    assert provision["command"] == ["payments", "metabase-provision"]
    assert provision["depends_on"]["metabase"]["condition"] == "service_healthy"
    assert provision["environment"]["METABASE_URL"] == "http://metabase:3000"


def test_every_image_is_pinned_to_a_version(services):
    for name, service in services.items():
        if "image" in service and "build" not in service:
            tag = service["image"].rpartition(":")[2]
            assert ":" in service["image"] and tag not in ("latest", ""), name


def test_start_order_is_by_conditions_and_every_server_has_a_healthcheck(services):
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert rule["condition"] in ("service_healthy", "service_completed_successfully"), (name, dependency)
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], dependency
    assert not re.search(r"\bsleep\s+\d", COMPOSE.read_text())


def test_no_credential_is_written_into_the_file(services):
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|ACCESS_KEY|PASS$", key):
                assert str(value).startswith("${"), f"{name}: {key} must come from .env"
            if key == "DATABASE_URL":
                assert "${POSTGRES_PASSWORD" in value
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


def test_one_service_builds_the_image_and_the_others_use_it(services):
    # Compose v2 builds with buildx bake, a target per service: two builds tagged alike fail on a first build.
    built = [name for name, s in services.items() if "build" in s]
    users = [name for name, s in services.items() if s.get("image") == "payments-platform:local" and "build" not in s]

    assert built == ["setup"]
    assert users and all(services[name]["pull_policy"] == "never" for name in users)


def host_ports(service: dict) -> list[str]:
    return [p if isinstance(p, str) else f"{p.get('host_ip', '')}:{p['published']}:{p['target']}"
            for p in service.get("ports", [])]


def test_no_port_is_published_on_every_interface_and_postgres_not_at_all(services):
    published = {name: host_ports(s) for name, s in services.items() if "ports" in s}

    assert "postgres" not in published and "metabase-db" not in published
    for name, ports in published.items():
        for port in ports:
            assert port.startswith("127.0.0.1:${"), f"{name}: {port} is not on 127.0.0.1 with a variable host port"


def test_kafka_advertises_the_host_port_it_is_published_on(services):
    kafka = services["kafka"]

    (port,) = host_ports(kafka)
    host_port = port.split(":")[1]
    assert f"EXTERNAL://localhost:{host_port}" in kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"]


def internal_listener(kafka: dict) -> str:
    """host:port of the listener the containers reach, as advertised."""
    advertised = dict(item.split("://") for item in kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"].split(","))
    return advertised[kafka["environment"]["KAFKA_INTER_BROKER_LISTENER_NAME"]]


def test_kafkas_health_check_asks_the_containers_listener_and_fails_when_no_broker_answers(services):
    kafka = services["kafka"]
    command = kafka["healthcheck"]["test"][1]

    # Through the host's listener a client is sent to localhost:KAFKA_HOST_PORT after bootstrap, which inside the
    # container is no broker once that port is changed.
    assert f"--bootstrap-server {internal_listener(kafka)}" in command
    # kafka-broker-api-versions.sh exits 0 when it reaches no broker: only the broker it prints counts.
    assert re.search(r"\| *grep -q '\(id: 1 '$", command), command
    assert kafka["environment"]["KAFKA_NODE_ID"] == 1


def test_the_docs_kafka_commands_inside_compose_use_the_containers_listener(services):
    listener = internal_listener(services["kafka"])
    pages = [*ROOT.joinpath("docs").glob("*.md"), ROOT / "README.md", ROOT / "metabase" / "README.md"]
    commands = [line for page in pages for line in page.read_text().splitlines()
                if "docker compose exec kafka" in line]

    assert commands, "the docs show the console producer and consumer"
    for line in commands:
        assert f"--bootstrap-server {listener}" in line, line


# Where each image keeps its data, from its own sources: a volume elsewhere keeps nothing.
DATA_PATHS = {
    # apache/kafka docker/resources/common-scripts/configureDefaults: log.dirs is /tmp/kafka-logs unless
    # KAFKA_LOG_DIRS says otherwise; the compose file sets it to the volume's path.
    "kafka": "/var/lib/kafka/data",
    # postgres docker-library Dockerfile: ENV PGDATA /var/lib/postgresql/data
    "postgres": "/var/lib/postgresql/data",
    "metabase-db": "/var/lib/postgresql/data",
    # minio: the path given to `server` in the command
    "minio": "/data",
    # prometheus/prometheus Dockerfile: VOLUME ["/prometheus"], CMD --storage.tsdb.path=/prometheus (the compose
    # file passes the same path, which the test below also checks)
    "prometheus": "/prometheus",
}


@pytest.mark.parametrize("name, path", DATA_PATHS.items())
def test_every_volume_is_where_its_image_keeps_its_data(services, name, path):
    service = services[name]

    named = [v for v in service["volumes"] if not v.startswith(".")]  # ./prometheus: its configuration, read-only
    assert [v.split(":", 1)[1] for v in named] == [path]
    if name == "kafka":
        assert service["environment"]["KAFKA_LOG_DIRS"] == path
    if name == "minio":
        assert service["command"][1] == path
    if name == "prometheus":
        assert f"--storage.tsdb.path={path}" in service["command"]


def test_servers_restart_check_health_over_tcp_and_metabase_has_time_for_a_first_boot(services):
    for name in ("kafka", "postgres", "minio", "metabase-db", "metabase"):
        assert services[name]["restart"] == "unless-stopped", name
    for name in ("postgres", "metabase-db"):
        assert "pg_isready -h 127.0.0.1" in " ".join(services[name]["healthcheck"]["test"]), name
    metabase = services["metabase"]
    assert int(metabase["healthcheck"]["start_period"].rstrip("s")) >= 300
    assert metabase["environment"]["MB_ENCRYPTION_SECRET_KEY"].startswith("${MB_ENCRYPTION_SECRET_KEY:?")
    assert metabase["environment"]["MB_ANON_TRACKING_ENABLED"] == "false"
    assert all(s.get("init") for s in services.values() if s.get("image") == "payments-platform:local")


# The Compose Specification's JSON schema as Debian's docker-compose package ships it (1.29: the specification of
# 2021, draft 2019-09); `make test` installs the package.
COMPOSE_SPEC = Path("/usr/lib/python3/dist-packages/compose/config/compose_spec.json")


def spec_errors(document: dict) -> list[str]:
    import json

    import jsonschema

    assert COMPOSE_SPEC.exists(), "the Compose Specification's schema comes with Debian's docker-compose package"
    schema = json.loads(COMPOSE_SPEC.read_text())
    errors = jsonschema.Draft7Validator(schema).iter_errors(document)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors]


def test_the_compose_file_follows_the_compose_specifications_schema():
    assert spec_errors(yaml.safe_load(COMPOSE.read_text())) == []


def test_the_schema_would_catch_a_misspelt_key():
    document = yaml.safe_load(COMPOSE.read_text())
    document["services"]["kafka"]["healthcheck"]["start_perod"] = "15s"

    assert any("start_perod" in error for error in spec_errors(document))


def test_the_image_is_built_in_two_stages_and_runs_without_uv_or_the_sources():
    dockerfile = (ROOT / "Dockerfile").read_text()
    build, final = dockerfile.split("\nFROM ", 2)[1:]

    assert "uv sync --frozen --no-dev --no-editable" in build, "the project installed with its data files"
    assert "COPY --from=build /opt/venv /opt/venv" in final
    assert "uv" not in final.replace("/opt/venv", "").split(), "no uv in the final image"
    assert "COPY . ." not in final, "no sources in the final image"


# The settings class each `payments` command of the compose file builds.
COMMAND_SETTINGS = {
    "setup": "platform_ops.settings:PlatformSetupSettings",
    "ingest": "ingestion_service.settings:IngestionSettings",
    "generate": "data_generator.settings:GeneratorSettings",
    "importer": "csv_importer.settings:ImporterSettings",
    "metabase-provision": "dashboards.settings:MetabaseSettings",
}


def test_every_setting_a_service_reads_reaches_its_container(services):
    """A variable set in .env (as .env.example says compose reads it) must reach the container whose service reads
    it: each setting of the class a command builds is in that service's environment."""
    import importlib

    checked = 0
    for name, service in services.items():
        command = service.get("command") or []
        if command[:1] != ["payments"]:
            continue
        module, _, cls = COMMAND_SETTINGS[command[1]].partition(":")
        settings = getattr(importlib.import_module(module), cls)
        missing = sorted({f.upper() for f in settings.model_fields} - set(service.get("environment") or {}))
        assert not missing, f"{name} reads {missing}, which its environment does not set"
        checked += 1
    assert checked == len(COMMAND_SETTINGS)
