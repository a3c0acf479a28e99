"""Uploads waiting for the person to decide whether to import a file they imported before (an hour at most): kept
private to the app's user, and answered only by the account that uploaded them."""

from __future__ import annotations

import json
import os
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


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` readable by this process's user alone (0600), whatever the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)


def put(folder: Path, data: bytes, name: str, question: dict, owner: int) -> str:
    """Keep `data` until the account `owner` answers; `question` (plain JSON) is what the page asks them. The
    folder is the app's user's alone (0700), each file too (0600): uploads hold people's payments."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # one made earlier, or by mkdir under a umask, is made private too
    for old in folder.glob("*"):
        if old.stat().st_mtime < time.time() - MAX_AGE_S:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(32)
    body, meta = _paths(folder, token)
    _write_private(body, data)
    _write_private(meta, json.dumps({"name": name, "owner": owner, **question}, default=str).encode())
    return token


def peek(folder: Path, token: str, owner: int) -> dict | None:
    """What the page asks about the upload `token`, for the account that uploaded it only."""
    paths = _paths(folder, token)
    if paths is None or not paths[1].exists():
        return None
    question = json.loads(paths[1].read_text())
    return question if question.get("owner") == owner else None


def take(folder: Path, token: str, owner: int) -> tuple[bytes, str] | None:
    """The upload `token` and its name, removed from the spool; for the account that uploaded it only."""
    if peek(folder, token, owner) is None:
        return None
    body, meta = _paths(folder, token)
    if not body.exists():
        return None
    data, name = body.read_bytes(), json.loads(meta.read_text())["name"]
    body.unlink(missing_ok=True)
    meta.unlink(missing_ok=True)
    return data, name
