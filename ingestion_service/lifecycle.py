"""A payment's lifecycle: `pending`, then `completed` or `failed`, and a final status is final.

A version is applied only if it moves the payment forward (pending to a final status), or keeps its status with a
later `transaction_date` (the later data wins). An equal version changes nothing: it is the same message again,
unless its content differs (`differing`), which makes it a conflict: two versions that cannot both be true.
Anything else is stale: an older version, or a final status contradicting another (a conflict). The upsert's
`WHERE` (sink.py) is the same rule in SQL, so it holds across instances; `verdict` applies it within a batch.
"""

from __future__ import annotations

from datetime import datetime

__all__ = ["APPLY", "CONFLICT", "CONTENT", "EQUAL", "OLDER", "differing", "verdict"]

APPLY, EQUAL, OLDER, CONFLICT = "apply", "equal", "older", "conflict"


def verdict(stored_status: str, stored_date: datetime, incoming_status: str, incoming_date: datetime) -> str:
    """What becomes of an incoming version given the stored one."""
    if incoming_status == stored_status:
        if incoming_date > stored_date:
            return APPLY
        return EQUAL if incoming_date == stored_date else OLDER
    if stored_status == "pending":
        return APPLY  # pending → completed or failed
    if incoming_status == "pending":
        return OLDER  # a final status never goes back
    return CONFLICT  # completed against failed


# What a payment is, besides its status and time; the rest of a row (its source, import and line) says where a
# version came from, not what it says.
CONTENT = ("sender_id", "receiver_id", "amount", "currency_code")


def differing(stored: tuple, incoming: tuple) -> list[str]:
    """The CONTENT fields in which two versions (tuples in CONTENT order) differ."""
    return [name for name, a, b in zip(CONTENT, stored, incoming, strict=True) if a != b]
