"""Users and currencies, cached in memory. What a batch refers to and the cache lacks is fetched in one query per
kind, so a batch costs at most two look-up queries and a steady stream costs none. Ids are their canonical text.

The look-ups have a connection of their own, outside the writers' transactions, shared by the writer threads; a
user or currency added since the last batch is found. A user deleted since it was cached is refused by the
foreign key when a row names it (a `database` refusal), as it would be by a look-up one moment too early."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import psycopg2

from payments_core.db.connect import libpq_dsn

from . import database

__all__ = ["Lookups"]


class Lookups:
    def __init__(self, database_url: str, statement_timeout_s: float = 60.0) -> None:
        self.dsn = libpq_dsn(database_url)
        self.statement_timeout_s = statement_timeout_s
        self.user_ids: set[str] = set()
        self.user_by_name: dict[str, str] = {}
        self.currency_by_alpha: dict[str, int] = {}
        self.currency_codes: set[int] = set()
        self._connection = None
        self._one_at_a_time = threading.Lock()  # the writer threads share the connection and the cache
        # What the look-up is doing, and since when (monotonic): read by /health on another thread.
        self.doing: tuple[str, float] | None = None

    def fetch_missing(self, usernames: Iterable[str] = (), user_ids: Iterable[str] = (),
                      currency_alphas: Iterable[str] = (), currency_codes: Iterable[int] = ()) -> None:
        """Load whatever of these the cache lacks. Raises DatabaseUnavailable when PostgreSQL cannot answer now;
        any other database error as it is (the batch's data is then to blame)."""
        names = {n for n in usernames if n not in self.user_by_name}
        ids = {i for i in user_ids if i not in self.user_ids}
        alphas = {a for a in currency_alphas if a not in self.currency_by_alpha}
        codes = {c for c in currency_codes if c not in self.currency_codes}
        if not (names or ids or alphas or codes):
            return
        with self._one_at_a_time:
            self.doing = ("looking up users and currencies", time.monotonic())
            try:
                self._fetch(names, ids, alphas, codes)
            except psycopg2.Error as e:
                self.close()
                if error := database.unavailable(e, "looking up users and currencies", self.statement_timeout_s):
                    raise error from e
                raise
            finally:
                self.doing = None

    def _fetch(self, names: set[str], ids: set[str], alphas: set[str], codes: set[int]) -> None:
        if self._connection is None or self._connection.closed:
            self._connection = database.connect(self.dsn, self.statement_timeout_s, "ingestion_lookups")
            self._connection.autocommit = True  # reads only: never idle in a transaction
        with self._connection.cursor() as cursor:
            if names or ids:
                cursor.execute(
                    "SELECT user_id, username FROM users WHERE username = ANY(%s) OR user_id = ANY(%s::uuid[])",
                    (list(names), list(ids)),
                )
                for user_id, username in cursor.fetchall():
                    self.user_ids.add(user_id)
                    self.user_by_name[username] = user_id
            if alphas or codes:
                # A code without minor units is no currency a payment is made in: no currency (XXX), testing (XTS),
                # metals (XAU), funds and units of account (XDR). ISO 4217 lists them; they are refused.
                cursor.execute(
                    "SELECT numeric_code, alpha_code FROM currencies "
                    "WHERE (alpha_code = ANY(%s) OR numeric_code = ANY(%s)) AND minor_units IS NOT NULL",
                    (list(alphas), list(codes)),
                )
                for numeric_code, alpha_code in cursor.fetchall():
                    self.currency_codes.add(numeric_code)
                    self.currency_by_alpha[alpha_code] = numeric_code

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except psycopg2.Error:
                pass
            self._connection = None
