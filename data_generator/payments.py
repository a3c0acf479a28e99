"""Realistic synthetic payments, the same sequence for the same seed.

Senders and receivers are drawn from the users (never one person on both sides), amounts from a skewed
(lognormal) distribution in which a small share exceeds the suspicious threshold, currencies by weight. Half of
the payments start `pending` and are published again a little later, with the same transaction_id, as
`completed` or `failed`, so the upsert path is exercised all the time; a share of those (`stuck_ratio`) is never
settled, to show the payments pending beyond the service level.

Events are written as the contract's JSON straight from text this module makes (ids, amounts with two decimals,
ISO timestamps): going through the pydantic model would cost more than the publishing itself. A test validates
every generated event against `PaymentEvent`, so the two cannot drift apart.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from payments_core.wire import payment_json

__all__ = ["CURRENCIES", "Generated", "PaymentStream", "User"]

# ISO 4217 numeric codes and how often each is used.
CURRENCIES = {840: 50, 978: 25, 826: 12, 124: 5, 756: 4, 392: 4}  # USD EUR GBP CAD CHF JPY
ZERO_DECIMALS = {392}  # JPY has no minor unit
MEDIAN_AMOUNT, SPREAD = 300.0, 1.5  # lognormal: about 1.4% of amounts are above 8000
MAX_AMOUNT = 9_999_999_999.99
PENDING_SHARE, FAILED_SHARE = 0.5, 0.1  # of new payments; of pending ones that settle, the share that fails
SETTLE_AFTER = (5, 50)  # a pending payment is settled this many events later
_LOG_MEDIAN = math.log(MEDIAN_AMOUNT)


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    username: str


class Generated(NamedTuple):
    """One message to publish: its key and value, and what it is (for counting)."""

    key: bytes | None
    value: bytes
    kind: str  # "new", "stuck" (pending, never settled), "settled" or "invalid"


class PaymentStream:
    """An endless, deterministic stream of payment events (timestamps aside: they are the time of sending)."""

    def __init__(self, users: Sequence[User], seed: int = 0, invalid_ratio: float = 0.0, stuck_ratio: float = 0.0,
                 clock: Callable[[], float] = time.time):
        if len(users) < 2:
            raise ValueError("at least two users are needed; run `payments seed`")
        self.users = list(users)
        self.rng = random.Random(seed)
        self.invalid_ratio = invalid_ratio
        self.stuck_ratio = stuck_ratio  # of the payments that start pending, the share never settled
        self.clock = clock
        self.index = 0
        self.pending: list[tuple[int, int, str, tuple]] = []  # (due index, tie-break, id, fields) as a heap
        # One entry per unit of weight: rng.choice on it is several times faster than rng.choices with weights.
        self._currency_table = [code for code, weight in CURRENCIES.items() for _ in range(weight)]
        self._stamp_ms, self._stamp_text = -1, ""

    def __iter__(self):
        return self

    def __next__(self) -> Generated:
        self.index += 1
        # The invalid ratio is a share of all messages; a settlement that falls due meanwhile waits a turn.
        if self.invalid_ratio and self.rng.random() < self.invalid_ratio:
            return self._invalid()
        if self.pending and self.pending[0][0] <= self.index:
            _, _, transaction_id, fields = heapq.heappop(self.pending)
            status = "failed" if self.rng.random() < FAILED_SHARE else "completed"
            return self._event(transaction_id, *fields, status, kind="settled")
        transaction_id = self._uuid()
        sender, receiver = self._two_users()
        currency = self.rng.choice(self._currency_table)
        fields = (sender.user_id, receiver.user_id, self._amount(currency), currency)
        if self.rng.random() < PENDING_SHARE:
            if self.stuck_ratio and self.rng.random() < self.stuck_ratio:
                return self._event(transaction_id, *fields, "pending", kind="stuck")
            due = self.index + self.rng.randint(*SETTLE_AFTER)
            heapq.heappush(self.pending, (due, self.index, transaction_id, fields))
            return self._event(transaction_id, *fields, "pending", kind="new")
        status = "failed" if self.rng.random() < FAILED_SHARE / 2 else "completed"
        return self._event(transaction_id, *fields, status, kind="new")

    # --- pieces ------------------------------------------------------------------------------------------------

    def _event(self, transaction_id: str, sender: str, receiver: str, amount: str, currency: int, status: str,
               kind: str) -> Generated:
        value = payment_json(transaction_id, sender, receiver, amount, currency, self._timestamp(), status)
        return Generated(transaction_id.encode(), value.encode(), kind)

    def _two_users(self) -> tuple[User, User]:
        # Two different users, uniformly: the second index skips the first (twice as fast as rng.sample).
        first = self.rng.randrange(len(self.users))
        second = self.rng.randrange(len(self.users) - 1)
        return self.users[first], self.users[second + (second >= first)]

    def _uuid(self) -> str:
        # A version-4 UUID from the seeded generator, written directly (str(uuid.UUID(...)) is slower).
        h = f"{self.rng.getrandbits(128):032x}"
        variant = "89ab"[int(h[16], 16) & 3]
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"

    def _amount(self, currency: int) -> str:
        """A lognormal amount as exact text: whole units for a currency without minor units, else cents."""
        value = min(math.exp(self.rng.gauss(_LOG_MEDIAN, SPREAD)), MAX_AMOUNT)
        if currency in ZERO_DECIMALS:
            return str(max(1, round(value)))
        cents = max(1, round(value * 100))
        return f"{cents // 100}.{cents % 100:02d}"

    def _timestamp(self) -> str:
        now_ms = int(self.clock() * 1000)
        if now_ms != self._stamp_ms:  # one isoformat per millisecond, not per event
            self._stamp_ms = now_ms
            self._stamp_text = datetime.fromtimestamp(now_ms / 1000, UTC).isoformat(timespec="milliseconds")
        return self._stamp_text

    def _invalid(self) -> Generated:
        """A deliberately broken event, to show validation and the dead-letter path."""
        sender, receiver = self._two_users()
        transaction_id = self._uuid()
        good = {"transaction_id": transaction_id, "sender_id": sender.user_id, "receiver_id": receiver.user_id,
                "amount": 120.5, "currency_code": 840, "timestamp": self._timestamp(), "status": "completed"}
        breakage = self.rng.choice(_BREAKAGE_NAMES)
        if breakage == "not JSON":
            return Generated(transaction_id.encode(), b"{this is not json", "invalid")
        broken = {**good, **_BREAKAGES[breakage]}
        if breakage == "same sender and receiver":
            broken["receiver_id"] = sender.user_id
        if breakage == "missing amount":
            del broken["amount"]
        return Generated(transaction_id.encode(), json.dumps(broken).encode(), "invalid")



# Each kind of broken event the generator can inject, with the fields it changes.
_BREAKAGES: dict[str, dict] = {
    "negative amount": {"amount": -42.0},
    "three decimals": {"amount": 10.005},
    "unknown currency": {"currency_code": 1},
    "unknown status": {"status": "refunded"},
    "bad timestamp": {"timestamp": "yesterday"},
    "unknown user": {"sender_id": "00000000-0000-4000-8000-000000000000"},
    "misspelt field": {"amout": 10},
    "same sender and receiver": {},
    "missing amount": {},
    "not JSON": {},
}
_BREAKAGE_NAMES = list(_BREAKAGES)
