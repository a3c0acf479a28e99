"""An ingestion service running on a thread of the test process."""

from __future__ import annotations

import threading

__all__ = ["RunningService"]


class RunningService:
    """An IngestionService consuming on a thread of the test process."""

    def __init__(self, settings, **kwargs):
        from ingestion_service.service import IngestionService

        self.service = IngestionService(settings, **kwargs)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.service.run, args=(self.stop_event,), daemon=True)
        self.thread.start()

    def stop(self, timeout=30):
        self.stop_event.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the service did not stop"
