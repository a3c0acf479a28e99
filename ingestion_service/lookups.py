"""Users and currencies, cached in memory. What a batch refers to and the cache lacks is fetched in one query per
kind, so a batch costs at most two look-up queries and a steady stream costs none. Ids are their canonical text,
as psycopg2 gives a uuid column when no adapter is registered."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Lookups"]


class Lookups:
    def __init__(self) -> None:
        self.user_ids: set[str] = set()
        self.user_by_name: dict[str, str] = {}
        self.currency_by_alpha: dict[str, int] = {}
        self.currency_codes: set[int] = set()

    def fetch_missing(self, cursor, usernames: Iterable[str] = (), user_ids: Iterable[str] = (),
                      currency_alphas: Iterable[str] = (), currency_codes: Iterable[int] = ()) -> None:
        """Load whatever of these the cache lacks (a user or currency added since the last batch is found)."""
        names = {n for n in usernames if n not in self.user_by_name}
        ids = {i for i in user_ids if i not in self.user_ids}
        if names or ids:
            cursor.execute(
                "SELECT user_id, username FROM users WHERE username = ANY(%s) OR user_id = ANY(%s::uuid[])",
                (list(names), list(ids)),
            )
            for user_id, username in cursor.fetchall():
                user_id = str(user_id)  # the text, whether or not the connection makes UUID objects
                self.user_ids.add(user_id)
                self.user_by_name[username] = user_id
        alphas = {a for a in currency_alphas if a not in self.currency_by_alpha}
        codes = {c for c in currency_codes if c not in self.currency_codes}
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
