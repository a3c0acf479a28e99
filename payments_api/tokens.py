"""The API's tokens: made (the text shown once), listed, revoked, and checked on every request.

A token reads `pay_<public id>_<secret>`. The public id finds its row; the secret's SHA-256 is compared in constant
time. The secret is 32 random bytes, so a fast hash is enough (nothing to guess), and the table alone opens nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from payments_core.contract import bad_character
from payments_core.db.models import API_SCOPES, Account, ApiToken
from payments_core.errors import BadInput

__all__ = ["Caller", "NewToken", "TokenProblem", "account_id", "authenticate", "create", "listed", "revoke"]

_SHAPE = re.compile(r"pay_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_NOTHING = hashlib.sha256(b"").digest()
MAX_DAYS = 3650


class TokenProblem(BadInput):
    """A token that cannot be made or revoked as asked, said so that the person can fix it."""


@dataclass(frozen=True)
class NewToken:
    name: str
    token: str  # shown once: only its hash is kept
    scopes: tuple[str, ...]
    expires_at: datetime | None


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: an open token, its scopes, and the account that owns it (None: the operator's)."""

    token_id: int
    name: str
    scopes: frozenset[str]
    username: str | None
    role: str | None  # the owner's role now (None: the operator's token)


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii")).digest()


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise TokenProblem("A token's name is 1 to 100 characters.")
    if found := bad_character(name):
        raise TokenProblem(f"A token's name may not hold the character {found}.")
    return name


def create(engine: Engine, name: str, scopes: list[str] | tuple[str, ...], expires_in_days: int | None = None,
           account_id: int | None = None) -> NewToken:
    name = _checked_name(name)
    scopes = tuple(dict.fromkeys(scopes))
    unknown = [s for s in scopes if s not in API_SCOPES]
    if not scopes or unknown:
        raise TokenProblem(f"A token's scopes are {' and '.join(API_SCOPES)}"
                           + (f", not {', '.join(map(repr, unknown))}." if unknown else "; give at least one."))
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_DAYS:
        raise TokenProblem(f"A token expires in 1 to {MAX_DAYS} days.")
    public_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    expires = func.now() + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        with engine.begin() as conn:
            expires_at = conn.execute(insert(ApiToken).values(
                name=name, public_id=public_id, secret_hash=_hash(secret), scopes=list(scopes),
                account_id=account_id, expires_at=expires).returning(ApiToken.expires_at)).scalar_one()
    except IntegrityError:
        whose = "You already have" if account_id is not None else "The command line already has"
        raise TokenProblem(f"{whose} an open token named {name!r}: revoke it first, or choose another name.") \
            from None
    return NewToken(name, f"pay_{public_id}_{secret}", scopes, expires_at)


def listed(engine: Engine, account_id: int | None = None, everyone: bool = True) -> list:
    """The tokens, newest first: every one (`everyone`), or those of `account_id`."""
    query = (select(ApiToken.name, ApiToken.scopes, ApiToken.created_at, ApiToken.expires_at, ApiToken.revoked_at,
                    ApiToken.last_used_at, Account.username.label("owner"))
             .outerjoin(Account, Account.account_id == ApiToken.account_id)
             .order_by(ApiToken.created_at.desc(), ApiToken.token_id.desc()))
    if not everyone:
        query = query.where(ApiToken.account_id == account_id)
    with engine.connect() as conn:
        return list(conn.execute(query))


def revoke(engine: Engine, name: str, account_id: int | None = None) -> bool:
    """Revoke the open token `name` of `account_id` (None: the command line's); False if there is none."""
    owner = ApiToken.account_id.is_(None) if account_id is None else ApiToken.account_id == account_id
    with engine.begin() as conn:
        return conn.execute(update(ApiToken).where(ApiToken.name == name.strip(), ApiToken.revoked_at.is_(None), owner)
                            .values(revoked_at=func.now())).rowcount > 0


def account_id(engine: Engine, username: str) -> int | None:
    with engine.connect() as conn:
        return conn.scalar(select(Account.account_id).where(Account.username == username))


def authenticate(engine: Engine, presented: str) -> Caller | str:
    """The caller `presented` (the text after `Bearer `) stands for, or why it is refused: a sentence that says
    whether the token was revoked or expired, and nothing else about a token whose secret was wrong."""
    shape = _SHAPE.fullmatch(presented)
    with engine.begin() as conn:
        row = None
        if shape:
            row = conn.execute(
                select(ApiToken.token_id, ApiToken.name, ApiToken.scopes, ApiToken.secret_hash, ApiToken.revoked_at,
                       (ApiToken.expires_at <= func.now()).label("expired"), ApiToken.expires_at,
                       Account.username, Account.role, Account.disabled,
                       (Account.password_changed_at > ApiToken.created_at).label("password_changed"))
                .outerjoin(Account, Account.account_id == ApiToken.account_id)
                .where(ApiToken.public_id == shape[1])).first()
        # Compared in constant time, and compared even when nothing was found, so that time tells nothing.
        matches = hmac.compare_digest(_hash(shape[2]) if shape else _NOTHING, row.secret_hash if row else b"\0" * 32)
        if row is None or not matches:
            return "The token is not one this platform made. Send `Authorization: Bearer <token>`."
        if row.revoked_at is not None:
            return f"The token {row.name!r} was revoked."
        if row.expired:
            return f"The token {row.name!r} expired at {row.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC."
        if row.disabled:
            return f"The token {row.name!r} belongs to a disabled account."
        if row.password_changed:  # as every session ends with a new password, so does every token made before
            return f"The token {row.name!r} was made before its account's password changed."
        # When it was last used, to the minute: one write a minute at most, however busy the token.
        conn.execute(update(ApiToken).where(
            ApiToken.token_id == row.token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < func.now() - timedelta(minutes=1)))
            .values(last_used_at=func.now()))
    return Caller(row.token_id, row.name, frozenset(row.scopes), row.username, row.role)
