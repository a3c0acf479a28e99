"""Uploads waiting for the person to decide whether to import a file they imported before (an hour at most): kept
private to the app's user, and answered only by the account that uploaded them.

Each waiting upload is a question (`<token>.json`); the file itself is kept once per content (`<sha256>.csv`),
however many times it is uploaded again while a question about it waits, and goes with the last such question.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from pathlib import Path

__all__ = ["peek", "put", "take"]

MAX_AGE_S = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")


def _question_path(folder: Path, token: str) -> Path | None:
    if not _TOKEN.fullmatch(token or ""):
        return None  # never a path of the caller's making
    return folder / f"{token}.json"


def _content_path(folder: Path, digest: str) -> Path:
    return folder / f"{digest}.csv"


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
    digest = hashlib.sha256(data).hexdigest()
    content = _content_path(folder, digest)
    try:
        _write_private(content, data)
    except FileExistsError:
        os.utime(content)  # kept as long as the newest question about it
    token = secrets.token_urlsafe(32)
    _write_private(_question_path(folder, token),
                   json.dumps({"name": name, "owner": owner, "content": digest, **question}, default=str).encode())
    return token


def peek(folder: Path, token: str, owner: int) -> dict | None:
    """What the page asks about the upload `token`, for the account that uploaded it only."""
    path = _question_path(folder, token)
    if path is None or not path.exists():
        return None
    question = json.loads(path.read_text())
    return question if question.get("owner") == owner else None


def take(folder: Path, token: str, owner: int) -> tuple[bytes, str] | None:
    """The upload `token` and its name, removed from the spool; for the account that uploaded it only."""
    question = peek(folder, token, owner)
    if question is None:
        return None
    content = _content_path(folder, question["content"])
    if not content.exists():
        return None
    data = content.read_bytes()
    _question_path(folder, token).unlink(missing_ok=True)
    if not any(_content_of(other) == question["content"] for other in folder.glob("*.json")):
        content.unlink(missing_ok=True)
    return data, question["name"]


def _content_of(question: Path) -> str | None:
    try:
        return json.loads(question.read_bytes()).get("content")
    except (OSError, ValueError):
        return None  # gone meanwhile, or still being written: not a question about this content
