"""Sessions of the web app, kept in PostgreSQL so that they can be ended: the signed cookie carries a random
token, and `web_sessions` its SHA-256. A session is open while its row says so, its account is enabled, and its
account's password has not changed since it began. (Every session of an account ends with
`accounts.sign_out_everywhere`, `set_password` and `disable`.)"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import Engine, func, insert, literal, select, update

from payments_core.db.models import Account, WebSession

from .accounts import SignedIn

__all__ = ["begin", "current", "end"]


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def begin(engine: Engine, account: SignedIn) -> str | None:
    """A new session of the account just authenticated; returns the token for the cookie (never stored as it is),
    or None when the account changed its password or was disabled since (a session of the old password must not
    outlive the change)."""
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        begun = conn.execute(insert(WebSession).from_select(
            ["token_hash", "account_id"],
            select(literal(_hash(token)), Account.account_id).where(
                Account.account_id == account.account_id, Account.disabled.is_(False),
                Account.password_changed_at == account.password_changed_at)))
    return token if begun.rowcount else None


def current(engine: Engine, token: str, minutes: int) -> SignedIn | None:
    """The account whose open session `token` is; None if it was ended, never was, began more than `minutes` ago,
    or its account may no longer sign in."""
    with engine.connect() as conn:
        row = conn.execute(
            select(Account.account_id, Account.username, Account.role, Account.password_changed_at)
            .join(WebSession, WebSession.account_id == Account.account_id)
            .where(WebSession.token_hash == _hash(token), WebSession.ended_at.is_(None),
                   WebSession.created_at > func.now() - timedelta(minutes=minutes),
                   Account.disabled.is_(False), Account.password_changed_at <= WebSession.created_at)
        ).first()
    return SignedIn(*row) if row else None


def end(engine: Engine, token: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(WebSession).where(WebSession.token_hash == _hash(token), WebSession.ended_at.is_(None))
                     .values(ended_at=func.now()))
