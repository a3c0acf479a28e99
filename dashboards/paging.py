"""Keyset pages of lists a person pages through, newest first: a page starts before the (time, id) of the last row
shown, so a far page costs what the first does and a new row does not shift the pages."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import abort, request

from payments_core.fields import parse_timestamp

__all__ = ["older_link", "position"]


def position(shown: str) -> tuple[datetime, uuid.UUID] | None:
    """`before` and `before_id` of the query string, checked: None for the first page, a 400 saying they should be
    the time and id of `shown` (never a database error)."""
    raw_time, raw_id = request.args.get("before", "").strip(), request.args.get("before_id", "").strip()
    if not raw_time and not raw_id:
        return None
    try:
        # Read as the event contract reads a time, in UTC: an offset PostgreSQL would refuse (+16:00, or one with
        # seconds) is a 400 here, not a database error.
        return parse_timestamp(raw_time), uuid.UUID(raw_id)
    except ValueError:
        abort(400, description=f"before and before_id should be {shown}.")


def older_link(rows: list, per_page: int, moment: str, ident: str) -> dict | None:
    """The query of the next page, when this one is full: the `moment` and `ident` attributes of its last row."""
    if len(rows) < per_page:
        return None
    last = rows[-1]
    return {"before": getattr(last, moment).isoformat(), "before_id": str(getattr(last, ident))}
