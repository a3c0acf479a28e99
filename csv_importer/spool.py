"""Uploads waiting for the person to decide whether to import a file they imported before (an hour at most)."""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path

__all__ = ["peek", "put", "take"]

MAX_AGE_S = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")


def _paths(folder: Path, token: str) -> tuple[Path, Path] | None:
    if not _TOKEN.fullmatch(token or ""):
        return None  # never a path of the caller's making
    return folder / f"{token}.csv", folder / f"{token}.json"


def put(folder: Path, data: bytes, name: str, question: dict) -> str:
    """Keep `data` until the person answers; `question` (plain JSON) is what the page asks them."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        if old.stat().st_mtime < time.time() - MAX_AGE_S:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(32)
    body, meta = _paths(folder, token)
    body.write_bytes(data)
    meta.write_text(json.dumps({"name": name, **question}, default=str))
    return token


def peek(folder: Path, token: str) -> dict | None:
    paths = _paths(folder, token)
    if paths is None or not paths[1].exists():
        return None
    return json.loads(paths[1].read_text())


def take(folder: Path, token: str) -> tuple[bytes, str] | None:
    paths = _paths(folder, token)
    if paths is None or not paths[0].exists():
        return None
    body, meta = paths
    data, name = body.read_bytes(), json.loads(meta.read_text())["name"]
    body.unlink(missing_ok=True)
    meta.unlink(missing_ok=True)
    return data, name
