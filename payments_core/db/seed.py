"""Seed data: every ISO 4217 currency, and a deterministic set of users that the generator and sample CSVs use.

`seed(engine)` is idempotent: currencies follow the published list (added or renamed ones are updated, none is
deleted, since transactions may refer to it); users are inserted once and never overwritten, so a user
deactivated by hand stays deactivated.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import iso4217
from faker import Faker
from sqlalchemy import Engine, or_
from sqlalchemy.dialects.postgresql import insert

from payments_core.db.models import Currency, User

__all__ = ["SEED", "USER_COUNT", "SeedUser", "currencies", "seed", "seed_users"]

USER_COUNT = 300
SEED = 20250707


@dataclass(frozen=True, slots=True)
class SeedUser:
    user_id: uuid.UUID
    username: str
    full_name: str
    email: str
    created_at: datetime


def seed_users(count: int = USER_COUNT, seed: int = SEED) -> list[SeedUser]:
    """The same `count` users for the same seed (and Faker version, pinned in uv.lock), usernames unique."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    users, taken = [], set()
    for _ in range(count):
        first, last = fake.first_name(), fake.last_name()
        username = _unique(f"{first[0]}{last}".lower(), taken)
        users.append(
            SeedUser(
                user_id=uuid.UUID(fake.uuid4()),
                username=username,
                full_name=f"{first} {last}",
                email=f"{username}@{fake.free_email_domain()}",
                created_at=fake.date_time_between(
                    datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC), tzinfo=UTC
                ),
            )
        )
    return users


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}{n}"
    taken.add(candidate)
    return candidate


def currencies() -> list[dict]:
    """Every currency of the ISO 4217 list one, as published (the iso4217 package, pinned in uv.lock)."""
    return [
        {"numeric_code": c.number, "alpha_code": c.code, "name": c.currency_name, "minor_units": c.exponent}
        for c in iso4217.Currency
    ]


def seed(engine: Engine, users: list[SeedUser] | None = None) -> dict[str, int]:
    """Load currencies and users in one transaction; return how many rows each statement inserted or updated."""
    users = seed_users() if users is None else users
    with engine.begin() as conn:
        stmt = insert(Currency).values(currencies())
        columns = ("alpha_code", "name", "minor_units")
        stmt = stmt.on_conflict_do_update(
            index_elements=[Currency.numeric_code],
            set_={name: stmt.excluded[name] for name in columns},
            # Only rows the list changed, so that a second run writes nothing.
            where=or_(*(stmt.excluded[name].is_distinct_from(Currency.__table__.c[name]) for name in columns)),
        )
        currency_rows = conn.execute(stmt).rowcount
        user_rows = 0
        if users:
            rows = [{**asdict(u), "is_active": True} for u in users]
            user_rows = conn.execute(insert(User).values(rows).on_conflict_do_nothing()).rowcount
    return {"currencies": currency_rows, "users": user_rows}

