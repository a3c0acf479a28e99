"""Accounts of the web app: argon2id password hashes in PostgreSQL, two roles, sign-in that takes the same time
whether or not the account exists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from payments_core.contract import bad_character
from payments_core.db.models import ROLES, Account, WebSession
from payments_core.errors import BadInput

from .archive import BIDI

__all__ = ["ROLES", "AccountProblem", "SignedIn", "add", "authenticate", "disable", "listing",
           "set_password", "sign_out_everywhere"]

# argon2id with the library's defaults (RFC 9106's second recommendation: 64 MiB, 3 passes): memory-hard, and
# maintained. A hash records its own parameters, so raising them later re-hashes at the next sign-in.
_HASHER = PasswordHasher()
# Verified when the account does not exist, so that a wrong username costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("no account has this password")
MIN_PASSWORD = 12


class AccountProblem(BadInput):
    """What was asked of an account cannot be done; the message says why."""


@dataclass(frozen=True)
class SignedIn:
    account_id: int
    username: str
    role: str
    password_changed_at: datetime


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountProblem(f"A password needs at least {MIN_PASSWORD} characters.")


def _possible_username(username: str) -> bool:
    """1 to 150 characters, none of them a control character or one that reorders text on screen (bidi)."""
    return 0 < len(username) <= 150 and bad_character(username) is None and not set(username) & BIDI


def add(engine: Engine, username: str, password: str, role: str) -> None:
    """Create an account; raises AccountProblem if the name is taken, the role unknown or the password short."""
    username = username.strip()
    if not _possible_username(username):
        raise AccountProblem("A username has 1 to 150 characters, none of them a control or bidi character.")
    if role not in ROLES:
        raise AccountProblem(f"The role is one of {', '.join(ROLES)}, not {role!r}.")
    _check_password(password)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Account).values(username=username, password_hash=_HASHER.hash(password), role=role))
    except IntegrityError:
        raise AccountProblem(f"There is already an account {username!r}.") from None


def set_password(engine: Engine, username: str, password: str) -> None:
    """A new password, which also ends the account's open sessions."""
    _check_password(password)
    with engine.begin() as conn:
        done = conn.execute(update(Account).where(Account.username == username).values(
            password_hash=_HASHER.hash(password), password_changed_at=func.now()).returning(Account.account_id))
        account_id = done.scalar()
        _end_sessions(conn, account_id)
    if account_id is None:
        raise AccountProblem(f"There is no account {username!r}.")


def disable(engine: Engine, username: str) -> None:
    """No more sign-ins for the account, and its open sessions end."""
    with engine.begin() as conn:
        account_id = conn.execute(update(Account).where(Account.username == username).values(disabled=True)
                                  .returning(Account.account_id)).scalar()
        _end_sessions(conn, account_id)
    if account_id is None:
        raise AccountProblem(f"There is no account {username!r}.")


def sign_out_everywhere(engine: Engine, account_id: int) -> None:
    """End every open session of the account, this one included."""
    with engine.begin() as conn:
        _end_sessions(conn, account_id)


def _end_sessions(conn, account_id: int | None) -> None:
    if account_id is not None:
        conn.execute(update(WebSession).where(WebSession.account_id == account_id, WebSession.ended_at.is_(None))
                     .values(ended_at=func.now()))


def listing(engine: Engine) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(Account.username, Account.role, Account.disabled, Account.created_at)
                                 .order_by(Account.username)))


def authenticate(engine: Engine, username: str, password: str) -> SignedIn | None:
    """The account if `password` is its own and it is not disabled; None otherwise, in about the same time."""
    row = None
    if _possible_username(username):  # a NUL would fail in PostgreSQL, not as a wrong password
        with engine.connect() as conn:
            row = conn.execute(select(Account).where(Account.username == username)).first()
    try:
        _HASHER.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    if _HASHER.check_needs_rehash(row.password_hash):
        with engine.begin() as conn:
            conn.execute(update(Account).where(Account.account_id == row.account_id)
                         .values(password_hash=_HASHER.hash(password)))
    return SignedIn(row.account_id, row.username, row.role, row.password_changed_at)
