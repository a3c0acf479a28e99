"""Keyset pages: a page starts after the sort key of the last item shown, carried in an opaque cursor, so a far
page costs what the first does, and an insert meanwhile neither repeats nor skips an item."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from urllib.parse import urlencode

from flask import request

from .problems import Problem

__all__ = ["decode", "encode", "next_link"]


def encode(*key) -> str:
    plain = json.dumps([k.isoformat() if isinstance(k, datetime) else str(k) for k in key], separators=(",", ":"))
    return base64.urlsafe_b64encode(plain.encode()).decode().rstrip("=")


def decode(cursor: str | None, kinds: tuple[type, ...]) -> tuple | None:
    """The key a cursor carries, of `kinds` (datetime, uuid.UUID, int); a 400 naming `cursor` if it is not one
    this API gave."""
    if cursor is None:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        key = []
        for kind, value in zip(kinds, values, strict=True):
            if not isinstance(value, str):
                raise ValueError
            if kind is datetime:
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    raise ValueError
                key.append(moment)
            else:
                key.append(uuid.UUID(value) if kind is uuid.UUID else int(value))
        return tuple(key)
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        raise Problem.bad_parameter("cursor", "is not one this API gave: take it from a `next` link") from None


def next_link(rows: list, limit: int, *key_of) -> str | None:
    """The address of the next page (this one's parameters, the cursor after its last row), when this one is full."""
    if len(rows) < limit:
        return None
    last = rows[-1]
    args = request.args.to_dict()
    args["cursor"] = encode(*(key(last) for key in key_of))
    return f"{request.path}?{urlencode(args)}"
