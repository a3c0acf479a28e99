"""`payments up` (what `make up` runs), as a process, against real servers."""

import http.cookiejar
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid

import pytest
from minio import Minio
from sqlalchemy import func, inspect, select

from payments_core.db.connect import make_engine
from payments_core.db.models import Base, Transaction, User
from payments_core.kafka import admin_client, broker_answers
from platform_ops.servers import free_port, port_open, s3_answers
from tests.helpers.events import message, payment
from tests.helpers.importer import page_token
from tests.helpers.kafka import produce
from tests.helpers.waiting import wait_until

READY = "The platform is up"


class Up:
    """`payments up` running in a folder of its own, its output read line by line."""

    def __init__(self, cwd, env):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "platform_ops.cli", "up", "--state-dir", str(cwd / "state")],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.output.append(line)
            if text in line:
                return
        pytest.fail(f"{text!r} never printed; output:\n{''.join(self.output)}")

    def interrupt(self, timeout=30) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout)


@pytest.fixture
def stack_env(empty_database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "S3_", "DATABASE_"))}
    env.update({
        "DATABASE_URL": empty_database_url,
        "S3_ACCESS_KEY": "test-access",
        "S3_SECRET_KEY": "test-secret",
        "TOPIC_PARTITIONS": "3",
        "INGESTION_HTTP_PORT": str(free_port()),
        "IMPORTER_PORT": str(free_port()),
        "IMPORTER_SECRET_KEY": "stack-test-secret-key",
        "IMPORTER_SPOOL_DIR": str(tmp_path / "spool"),
        "INGESTION_SESSION_TIMEOUT_MS": "2000",
        "IMPORTER_ADMIN_USERNAME": "admin",
        "IMPORTER_ADMIN_PASSWORD": "stack-test-admin-password",
    })
    return env


def servers_of_its_own(env) -> tuple[int, int]:
    """Point the stack at free ports, so that it starts a broker and an S3 endpoint of its own: their ports."""
    kafka_port, s3_port = free_port(), free_port()
    env["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{kafka_port}"
    env["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{s3_port}"
    return kafka_port, s3_port


def check_the_importer_answers(env):
    """The importer asks who you are, and the first account that `up` made signs in to the upload page."""
    base = f"http://127.0.0.1:{env['IMPORTER_PORT']}"
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with browser.open(base + "/", timeout=5) as page:
        login = page.read().decode()
    assert page.url.startswith(base + "/login")
    form = urllib.parse.urlencode({"csrf_token": page_token(login), "username": env["IMPORTER_ADMIN_USERNAME"],
                                   "password": env["IMPORTER_ADMIN_PASSWORD"], "next": "/"}).encode()
    with browser.open(base + "/login", data=form, timeout=5) as page:
        assert "Import payments from a CSV file" in page.read().decode()


def check_platform(env):
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    topics = admin_client(bootstrap).list_topics(timeout=5).topics
    for name in ("payments-events", "import-payments-events", "payments-events-dlq"):
        assert len(topics[name].partitions) == 3
    engine = make_engine(env["DATABASE_URL"])
    try:
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(User)) == 300
    finally:
        engine.dispose()
    s3 = Minio(env["S3_ENDPOINT_URL"].removeprefix("http://"), access_key="test-access",
               secret_key="test-secret", secure=False)
    assert s3.bucket_exists("files-imported")


def check_a_payment_lands(env):
    """A payment sent to payments-events becomes a row: the ingestion service the stack started is at work."""
    event = payment()
    produce(env["KAFKA_BOOTSTRAP_SERVERS"], "payments-events", [message(event)])
    engine = make_engine(env["DATABASE_URL"])
    try:
        def landed():
            with engine.connect() as conn:
                return conn.scalar(select(func.count()).select_from(Transaction)
                                   .where(Transaction.transaction_id == uuid.UUID(event["transaction_id"])))
        wait_until(landed, timeout=60, message="the payment in PostgreSQL")
    finally:
        engine.dispose()


def run_until_ready_then_ctrl_c(cwd, env) -> tuple[int, str]:
    """Run `payments up`, check the platform once it says it is up, press Ctrl-C; its exit status and output."""
    up = Up(cwd, env)
    try:
        up.wait_for(READY)
        check_platform(env)
        check_a_payment_lands(env)
        check_the_importer_answers(env)
    finally:
        status = up.interrupt()
    return status, "".join(up.output)


def test_up_starts_every_server_it_needs_and_stops_them_on_ctrl_c(stack_env, tmp_path):
    kafka_port, s3_port = servers_of_its_own(stack_env)

    status, output = run_until_ready_then_ctrl_c(tmp_path, stack_env)

    assert status == 0
    assert "account 'admin' created (role importer" in output
    assert not port_open("127.0.0.1", kafka_port)
    assert not port_open("127.0.0.1", s3_port)
    assert not port_open("127.0.0.1", int(stack_env["INGESTION_HTTP_PORT"])), "the ingestion service stopped"
    assert not port_open("127.0.0.1", int(stack_env["IMPORTER_PORT"])), "the importer stopped"


def test_up_uses_servers_that_already_answer_and_leaves_them_running(stack_env, tmp_path, kafka_bootstrap,
                                                                     s3_endpoint):
    stack_env["KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap
    stack_env["S3_ENDPOINT_URL"] = s3_endpoint

    status, output = run_until_ready_then_ctrl_c(tmp_path, stack_env)

    assert status == 0
    assert f"Kafka: using the broker at {kafka_bootstrap}" in output
    assert broker_answers(kafka_bootstrap)
    assert s3_answers(s3_endpoint)


def test_up_refuses_to_start_without_a_required_setting(stack_env, tmp_path):
    del stack_env["S3_SECRET_KEY"]

    result = subprocess.run([sys.executable, "-m", "platform_ops.cli", "up"], cwd=tmp_path, env=stack_env,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 2
    assert "S3_SECRET_KEY is not set" in result.stderr


def test_a_service_killed_under_up_is_restarted_and_the_rest_keeps_running(stack_env, tmp_path):
    kafka_port, s3_port = servers_of_its_own(stack_env)
    up = Up(tmp_path, stack_env)
    try:
        up.wait_for(READY)
        output = "".join(up.output)
        pid = int(output.split("ingestion_service started (pid ", 1)[1].split(")", 1)[0])
        importer_pid = int(output.split("csv_importer started (pid ", 1)[1].split(")", 1)[0])

        os.kill(pid, signal.SIGKILL)

        up.wait_for("ingestion_service exited with signal SIGKILL; restarting it in 1 s")
        up.wait_for("ingestion_service restarted (pid ")
        assert up.process.poll() is None, "up goes on"
        check_a_payment_lands(stack_env)
        check_the_importer_answers(stack_env)
        os.kill(importer_pid, 0)  # the importer was never stopped: the same process answers
        assert port_open("127.0.0.1", kafka_port) and port_open("127.0.0.1", s3_port)
    finally:
        status = up.interrupt()
    assert status == 0


def test_up_stops_everything_saying_why_when_a_server_it_started_dies(stack_env, tmp_path):
    kafka_port, s3_port = servers_of_its_own(stack_env)
    up = Up(tmp_path, stack_env)
    try:
        up.wait_for(READY)
        s3_pid = next(int(line.split()[0]) for line in subprocess.run(
            ["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout.splitlines()
            if "moto.server" in line and str(s3_port) in line)

        os.kill(s3_pid, signal.SIGKILL)

        up.wait_for(f"the s3 server at http://127.0.0.1:{s3_port} exited with signal SIGKILL")
        status = up.process.wait(60)
    finally:
        if up.process.poll() is None:
            up.interrupt()
    assert status == 1
    assert not port_open("127.0.0.1", kafka_port), "the broker it started is stopped too"
    assert not port_open("127.0.0.1", int(stack_env["INGESTION_HTTP_PORT"]))
