"""prometheus/: the configuration and alert rules, checked by Debian's promtool, unit-tested by it, and each alert
shown firing against the real services, scraped by a real Prometheus."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import psycopg2
import pytest
import yaml

from payments_core.db.connect import libpq_dsn
from platform_ops.servers import free_port
from tests.helpers.events import message, payment
from tests.helpers.kafka import produce
from tests.helpers.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "prometheus" / "alerts.yml"
ALERTS = {"PaymentsServiceDown", "IngestionAbsent", "IngestionStalled", "DeadLettersPerMinute",
          "PaymentsPendingBeyondSla", "ImportsFailing"}
# IngestionAbsent needs no ingestion target at all, which the test of the real services has: promtool's unit test
# shows it.
FIRING_FOR_REAL = ALERTS - {"IngestionAbsent"}


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: `make test` installs Debian's prometheus package"
    return found


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool("promtool"), *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_the_configuration_and_the_rules_are_valid():
    config = promtool("check", "config", "prometheus/prometheus.yml")
    rules = promtool("check", "rules", "prometheus/alerts.yml")

    assert config.returncode == 0, config.stdout + config.stderr
    assert rules.returncode == 0 and "6 rules found" in rules.stdout, rules.stdout + rules.stderr
    assert {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]} == ALERTS


def test_the_rules_unit_tests_pass():
    tested = promtool("test", "rules", "prometheus/alerts_test.yml")

    assert tested.returncode == 0, tested.stdout + tested.stderr
    tests = yaml.safe_load((ROOT / "prometheus" / "alerts_test.yml").read_text())["tests"]
    tested_alerts = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    assert tested_alerts == ALERTS  # every alert has its test


def test_a_broken_rule_is_caught(tmp_path):
    broken = tmp_path / "alerts.yml"
    broken.write_text(RULES.read_text().replace("> 120", "> "))

    assert promtool("check", "rules", str(broken)).returncode != 0


def quick_rules() -> str:
    """The rules as they are, with no waiting before an alert fires and a stall of 2 s instead of 120: the same
    expressions, on the series the real services expose."""
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["for"] = "0s"
            rule["expr"] = rule["expr"].replace("payments_ingest_stalled_seconds) > 120",
                                                "payments_ingest_stalled_seconds) > 2")
    return yaml.safe_dump(rules)


@pytest.fixture
def failing_storage_importer(importer_settings):
    """The web app as production serves it, with an S3 endpoint where nothing answers."""
    import threading

    from csv_importer import create_app, serving

    dead_s3 = f"http://127.0.0.1:{free_port()}"
    app = create_app(importer_settings.model_copy(update={"s3_endpoint_url": dead_s3, "s3_timeout_seconds": 2}))
    server = serving.server(app, "127.0.0.1", 0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    yield app, f"127.0.0.1:{server.effective_port}"
    server.close()


def test_each_alert_fires_against_the_real_services(importer_settings, importer_ingestion, known,
                                                    failing_storage_importer, tmp_path):
    from ingestion_service.metrics import serve
    from tests.helpers.importer import ImporterClient

    s = importer_settings
    metrics_server = serve(importer_ingestion.service.metrics, 0, "127.0.0.1")
    app, importer_address = failing_storage_importer
    (tmp_path / "alerts.yml").write_text(quick_rules())
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["alerts.yml"],
        "scrape_configs": [
            {"job_name": "ingestion", "static_configs": [{"targets": [f"127.0.0.1:{metrics_server.server_port}"]}]},
            # The web app, and a second instance of it that is not running.
            {"job_name": "importer", "static_configs": [{"targets": [importer_address, f"127.0.0.1:{free_port()}"]}]},
        ],
    }))
    port = free_port()
    log = open(tmp_path / "prometheus.log", "wb")
    prometheus = subprocess.Popen([tool("prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={tmp_path / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    lock = psycopg2.connect(libpq_dsn(s.database_url))
    try:
        # Refusals: one, which makes the series (a counter first seen above 0 shows no increase), then 60 more.
        produce(s.kafka_bootstrap_servers, s.payments_topic, [message(payment(amount=-1))])
        wait_until(lambda: _query(port, "payments_ingest_messages_rejected_total"), timeout=60,
                   message="the first refusal scraped")
        produce(s.kafka_bootstrap_servers, s.payments_topic, [message(payment(amount=-1)) for _ in range(60)])
        # A failed upload: S3 does not answer. Once Prometheus has seen the counter at 0: a counter first seen
        # above 0 shows no increase.
        wait_until(lambda: _query(port, 'payments_importer_uploads_total{outcome="storage_unavailable"}'),
                   timeout=60, message="the web app's counters scraped")
        assert ImporterClient(app).upload(_csv(), "a.csv").status_code == 503
        # A stall: a valid payment waits behind a lock on the table.
        wait_until(lambda: _firing(port, "DeadLettersPerMinute"), timeout=60, message="the refusals alerting")
        lock.cursor().execute("LOCK TABLE transactions IN ACCESS EXCLUSIVE MODE")  # held until closed
        produce(s.kafka_bootstrap_servers, s.payments_topic, [message(payment())])
        # Pending beyond the service level: the known data's pending payment of July 2025, once the totals refresh.
        deadline, firing = time.monotonic() + 90, set()
        while time.monotonic() < deadline and not firing >= FIRING_FOR_REAL:
            time.sleep(1)
            firing = _firing(port)
    finally:
        lock.close()
        log.close()
        prometheus.terminate()
        prometheus.wait(30)
        metrics_server.shutdown()

    assert firing >= FIRING_FOR_REAL, f"not firing: {sorted(FIRING_FOR_REAL - firing)}"
    assert "IngestionAbsent" not in firing


def _csv() -> bytes:
    from tests.helpers.events import ALICE, BOB

    return ("username_sender,username_receiver,amount,currency,transaction_date,status\n"
            f"{ALICE.username},{BOB.username},10.00,EUR,2025-07-07 01:42:05 UTC,completed\n").encode()


def _query(port: int, expression: str) -> list:
    from urllib.parse import quote

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query?query={quote(expression)}",
                                    timeout=5) as answer:
            return json.load(answer)["data"]["result"]
    except OSError:
        return []


def _firing(port: int, name: str | None = None):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/alerts", timeout=5) as answer:
            alerts = json.load(answer)["data"]["alerts"]
    except OSError:
        return set() if name is None else False
    names = {a["labels"]["alertname"] for a in alerts if a["state"] == "firing"}
    return names if name is None else name in names
