"""An ingestion service running on a thread of the test process, or as a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

__all__ = ["Ingest", "RunningService"]


class RunningService:
    """An IngestionService consuming on a thread of the test process."""

    def __init__(self, settings, **kwargs):
        from ingestion_service.service import IngestionService

        # A watchdog in the test process records what it would have exited for, instead of ending the tests.
        self.wedged: list[str] = []
        kwargs.setdefault("on_wedged", self.wedged.append)
        self.service = IngestionService(settings, **kwargs)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.service.run, args=(self.stop_event,), daemon=True)
        self.thread.start()

    def stop(self, timeout=30):
        self.stop_event.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the service did not stop"


class Ingest:
    """`payments ingest` in a process of its own, configured from the test's settings."""

    def __init__(self, settings, tmp_path, name="ingest", http_port=0):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "DATABASE_", "INGESTION_"))}
        for field, value in settings.model_dump().items():
            env[field.upper()] = str(value)
        env["INGESTION_HTTP_PORT"] = str(http_port)
        self.log_path = tmp_path / f"{name}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "platform_ops.cli", "ingest"], env=env,
                                            cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text()

    def signal(self, sig) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout=60) -> int:
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
