"""Sending an import's refused rows again, once their cause is fixed (a user or a currency added): each row still
refused goes back to the imports topic as it was first sent, with a header naming its refusal.

A row stored since counts as stored, not refused (store.still_refused), and is not sent again: a second replay
sends nothing, and the import's counts stay right (its progress counts the new message's offset once)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, func

from payments_core.db.models import RejectedEvent

from .publish import Published, publish_rows
from .store import latest_refusals, still_refused

__all__ = ["REPLAYED_FROM", "Replayed", "replay_refused"]

REPLAYED_FROM = "payments.replayed-from"



@dataclass(frozen=True)
class Replayed:
    published: Published
    cut: int  # rows whose refusal kept only the first bytes: not sent


def replay_refused(engine: Engine, producer_config: dict, topic: str, import_id: uuid.UUID) -> Replayed:
    # The latest refusal of each line still refused, with the bytes as they were sent (a payload kept cut, larger
    # than any row, is left out).
    r = RejectedEvent
    with engine.connect() as conn:
        rows = list(conn.execute(latest_refusals(r.rejected_event_id, r.message_key, r.payload,
                                                 (r.payload_size == func.length(r.payload)).label("whole"))
                                 .where(still_refused(import_id))))
    whole = [r for r in rows if r.whole]
    published = publish_rows(producer_config, topic, (
        (bytes(r.message_key) if r.message_key is not None else None, bytes(r.payload),
         [(REPLAYED_FROM, f"rejected_events/{r.rejected_event_id}".encode())]) for r in whole))
    return Replayed(published, len(rows) - len(whole))
