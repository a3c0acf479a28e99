"""Waiting for what real servers do in their own time, and names no other test uses."""

from __future__ import annotations

import time
import uuid

import pytest

__all__ = ["unique", "wait_until"]


def unique(prefix: str) -> str:
    """A name no other test uses: topics, groups, buckets and databases of the test's own."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_until(condition, timeout=30.0, interval=0.1, message="condition"):
    """Poll `condition` until it returns something true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"{message} not met within {timeout:.0f} s (last value: {condition()!r})")
