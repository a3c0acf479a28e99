"""The local stack behind `make up`: real servers on this machine, the schema, the seed data and the services.

A server that already answers at its configured address (an external Kafka, the machine's PostgreSQL) is used as
it is; a local address that nobody answers on gets a server started there. A service that exits is restarted
with back-off, after saying which and why; the rest keeps running. On Ctrl-C or SIGTERM, or when a server this
process started dies, everything this process started is stopped, in reverse order, and nothing else.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from payments_core.db.connect import reachable
from payments_core.errors import ServerStartError
from payments_core.kafka import broker_answers
from payments_core.process import stop_on_signals

from .servers import (
    ChildProcess,
    EmbeddedPostgres,
    is_local,
    s3_answers,
    start_moto,
    start_process,
    start_tansu,
)
from .settings import StackSettings
from .setup import create_bucket, create_topics, ensure_admin, migrate_and_seed

__all__ = ["SERVICES", "Service", "Stack", "Supervised", "run"]

# A service that exits is started again after 1 s, then 2, 4 … up to a minute; a run of a minute resets it.
FIRST_RESTART_S, LAST_RESTART_S, STEADY_S = 1.0, 60.0, 60.0

@dataclass(frozen=True)
class Service:
    """A service the stack starts once its package exists: `payments <command>`, ready when `health` answers."""

    package: str
    command: list[str]
    health: Callable[[StackSettings], str] | None = None  # a URL that answers 200 once the service is ready


SERVICES = [
    Service("ingestion_service", ["ingest"], lambda s: f"http://127.0.0.1:{s.ingestion_http_port}/health"),
    Service("csv_importer", ["importer"], lambda s: f"http://127.0.0.1:{s.importer_port}/health"),
    Service("data_generator", ["generate"]),
]


def answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Supervised:
    """A service the stack keeps running: how to start it, the process now, and when to start it again."""

    service: Service
    start: Callable[[], ChildProcess]
    child: ChildProcess | None = None
    started_at: float = 0.0
    delay: float = FIRST_RESTART_S
    restart_at: float | None = None  # set while it is down

    def launch(self) -> None:
        self.child = self.start()
        self.started_at = time.monotonic()
        self.restart_at = None


@dataclass
class Stack:
    """What the stack started (to stop it) and where everything is (to tell the services and the person)."""

    settings: StackSettings
    state_dir: Path
    children: list[ChildProcess] = field(default_factory=list)  # the servers this process started
    services: list[Supervised] = field(default_factory=list)
    postgres: EmbeddedPostgres | None = None
    database_url: str = ""
    notes: list[str] = field(default_factory=list)

    def log(self, message: str) -> None:
        print(f"[up] {message}", flush=True)

    def start_kafka(self) -> None:
        bootstrap = self.settings.kafka_bootstrap_servers
        if broker_answers(bootstrap):
            self.log(f"Kafka: using the broker at {bootstrap}")
        else:
            host, _, port = bootstrap.split(",")[0].rpartition(":")
            if not is_local(host):
                raise ServerStartError(f"no Kafka broker answers at KAFKA_BOOTSTRAP_SERVERS={bootstrap}")
            self.log(f"Kafka: starting the Tansu broker on {bootstrap} (storage in memory)")
            self.children.append(start_tansu(host, int(port), self.state_dir / "logs"))
        counts = create_topics(bootstrap, self.settings)
        self.log("topics: " + ", ".join(f"{t} ({n} partitions)" for t, n in counts.items()))

    def start_postgres(self) -> None:
        url = self.settings.database_url
        if reachable(url):
            self.log(f"PostgreSQL: using {_safe(url)}")
            self.database_url = url
        else:
            self.log(f"PostgreSQL: nothing answers at {_safe(url)}; starting an embedded server")
            self.postgres = EmbeddedPostgres(self.state_dir / "pgdata")
            self.database_url = self.postgres.url(make_url(url).database or "payments")
        counts = migrate_and_seed(self.database_url, self.settings.pending_sla_minutes)
        self.log(f"schema migrated to head; seed: {counts['currencies']} currencies and {counts['users']} users added")
        password = self.settings.importer_admin_password
        self.log(ensure_admin(self.database_url, self.settings.importer_admin_username,
                              password.get_secret_value() if password else None))

    def start_s3(self) -> None:
        endpoint = self.settings.s3_endpoint_url.rstrip("/")
        if s3_answers(endpoint):
            self.log(f"S3: using the endpoint at {endpoint}")
        else:
            parts = urlsplit(endpoint)
            if not is_local(parts.hostname or ""):
                raise ServerStartError(f"no S3 endpoint answers at S3_ENDPOINT_URL={endpoint}")
            self.log(f"S3: starting an S3 endpoint (moto) on {endpoint} (data in memory)")
            self.children.append(start_moto(parts.hostname, parts.port or 80, self.state_dir / "logs"))
        created = create_bucket(self.settings)
        self.log(f"bucket {self.settings.s3_bucket} {'created' if created else 'exists'}")

    def service_environment(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.database_url}

    def wanted(self, service: Service) -> bool:
        """Every service, but the importer only with its secret (IMPORTER_SECRET_KEY, in .env.example)."""
        return service.package != "csv_importer" or self.settings.importer_secret_key is not None

    def start_services(self) -> None:
        for service in SERVICES:
            if not self.wanted(service):
                self.log(f"not starting {service.package}: IMPORTER_SECRET_KEY is not set (see .env.example)")
                continue
            url = service.health(self.settings) if service.health else None
            self.log(f"starting {service.package}" + (f", waiting for {url}" if url else ""))
            supervised = Supervised(service, lambda s=service, u=url: self._start_service(s, u))
            supervised.launch()
            self.services.append(supervised)
            self.log(f"{service.package} started (pid {supervised.child.process.pid})")

    def _start_service(self, service: Service, url: str | None) -> ChildProcess:
        argv = [sys.executable, "-m", "platform_ops.cli", *service.command]
        return start_process(service.package, argv, url or service.package, self.state_dir / "logs",
                             ready=(lambda: answers_200(url)) if url else (lambda: True),
                             env=self.service_environment())

    def dead_server(self, ask_database: bool = True) -> str | None:
        """Why the stack cannot go on: a server it started has exited, or embedded PostgreSQL stopped answering
        (asked only with `ask_database`: that takes a connection)."""
        for child in self.children:
            if not child.alive():
                return (f"the {child.name} server at {child.address} exited with "
                        f"{_exit_status(child.process.returncode)}; its log ends:\n{child.log_tail()}")
        if ask_database and self.postgres is not None and not reachable(self.database_url):
            return "embedded PostgreSQL stopped answering"
        return None

    def supervise(self) -> None:
        """Restart each service that has exited, with back-off, saying which one and why."""
        now = time.monotonic()
        for supervised in self.services:
            child = supervised.child
            if supervised.restart_at is None and child is not None and not child.alive():
                if now - supervised.started_at > STEADY_S:
                    supervised.delay = FIRST_RESTART_S
                supervised.restart_at = now + supervised.delay
                self.log(f"{child.name} exited with {_exit_status(child.process.returncode)}; restarting it in "
                         f"{supervised.delay:.0f} s; its log ends:\n{child.log_tail()}")
                supervised.delay = min(supervised.delay * 2, LAST_RESTART_S)
            elif supervised.restart_at is not None and now >= supervised.restart_at:
                try:
                    supervised.launch()
                    self.log(f"{supervised.service.package} restarted (pid {supervised.child.process.pid})")
                except ServerStartError as e:
                    supervised.restart_at = now + supervised.delay
                    self.log(f"{supervised.service.package} did not start again ({e}); next try in "
                             f"{supervised.delay:.0f} s")
                    supervised.delay = min(supervised.delay * 2, LAST_RESTART_S)

    def summary(self) -> str:
        s = self.settings
        lines = [
            "",
            "The platform is up. Connection settings:",
            f"  KAFKA_BOOTSTRAP_SERVERS={s.kafka_bootstrap_servers}",
            f"  DATABASE_URL={_safe(self.database_url)}",
            f"  S3_ENDPOINT_URL={s.s3_endpoint_url}  S3_BUCKET={s.s3_bucket}",
            f"  topics: {s.payments_topic}, {s.imports_topic}, {s.dlq_topic}",
        ]
        lines.append(f"  ingestion service: http://127.0.0.1:{s.ingestion_http_port}/health and /metrics")
        if s.importer_secret_key is not None:
            lines.append(f"  CSV importer: http://127.0.0.1:{s.importer_port}/"
                         + (f"  (sign in as {s.importer_admin_username}, password IMPORTER_ADMIN_PASSWORD in .env)"
                            if s.importer_admin_username else ""))
            lines.append(f"  dashboard:    http://127.0.0.1:{s.importer_port}/dashboard")
        lines += [f"  logs: {self.state_dir / 'logs'}", "Press Ctrl-C to stop everything started here.", ""]
        return "\n".join(lines)

    def stop(self) -> None:
        for supervised in reversed(self.services):
            if supervised.child is not None:
                self.log(f"stopping {supervised.child.name}")
                supervised.child.stop()
        for child in reversed(self.children):
            self.log(f"stopping {child.name}")
            child.stop()
        if self.postgres is not None:
            self.log("stopping embedded PostgreSQL")
            self.postgres.stop()


def _safe(url: str) -> str:
    """The URL to show a person: as given when it holds no password, else with the password masked."""
    return make_url(url).render_as_string(hide_password=True) if make_url(url).password else url


def _exit_status(code: int | None) -> str:
    if code is not None and code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"status {code}"


def run(settings: StackSettings, state_dir: Path) -> int:
    """Bring the stack up and keep it up until Ctrl-C or SIGTERM (exit 0) or until a server it started dies
    (exit 1); a service that exits is restarted."""
    stop_requested = stop_on_signals()
    stack = Stack(settings=settings, state_dir=state_dir)
    try:
        stack.start_kafka()
        stack.start_postgres()
        stack.start_s3()
        stack.start_services()
        print(stack.summary(), flush=True)
        checks = 0
        while not stop_requested.wait(0.5):
            checks += 1
            if why := stack.dead_server(ask_database=checks % 10 == 0):  # PostgreSQL every 5 s
                stack.log(f"{why}\nstopping everything: the services cannot work without it")
                return 1
            stack.supervise()
        stack.log("stopping")
        return 0
    finally:
        stack.stop()
