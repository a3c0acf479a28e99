"""How fast the event contract reads and writes events, the floor under every service's throughput.

Prints events per second for: exact parsing (`parse`, Decimal straight from the JSON text), pydantic's own
JSON path (`model_validate_json`, faster but rounds amounts through a binary float, so not used), and `to_json`.
Run: .venv/bin/python bench/contract.py [N]
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from payments_core.contract import PaymentEvent, parse, to_json


def events(n: int) -> list[PaymentEvent]:
    rng = random.Random(7)
    return [
        PaymentEvent(
            transaction_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            sender_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            receiver_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            amount=Decimal(rng.randint(1, 1_000_000)) / 100,
            currency_code=rng.choice([840, 978, 826, 392]),
            timestamp=datetime.now(UTC),
            status=rng.choice(["pending", "completed", "failed"]),
        )
        for _ in range(n)
    ]


def rate(label: str, n: int, work) -> float:
    start = time.perf_counter()
    work()
    per_second = n / (time.perf_counter() - start)
    print(f"{label:<44} {per_second:>12,.0f} events/s")
    return per_second


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    sample = events(n)
    raw = [to_json(e) for e in sample]
    print(f"{n:,} payment events, {sum(map(len, raw)) / n:.0f} bytes each on average")
    written = rate("to_json (exact amounts)", n, lambda: [to_json(e) for e in sample])
    exact = rate("parse (exact amounts, used)", n, lambda: [parse(PaymentEvent, r) for r in raw])
    lossy = rate("model_validate_json (rounds via float)", n,
                 lambda: [PaymentEvent.model_validate_json(r) for r in raw])
    print(f"exact parse / pydantic JSON parse: {exact / lossy:.2f}")
    print(f"parse / to_json: {exact / written:.2f}")


if __name__ == "__main__":
    main()
