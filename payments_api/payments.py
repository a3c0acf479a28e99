"""Payments as the API shows them: a filtered list a page at a time, and one payment with its history.

A list filtered on a user is read from the indexes on sender and on receiver, each in date order, and merged: the
first page of a user's month costs the same at ten million payments as at ten thousand. The list of pending or of
suspicious payments is read from their partial indexes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, select, tuple_, union_all
from sqlalchemy.orm import aliased

from payments_core.db.models import Currency, Import, RejectedEvent, SupersededEvent, Transaction, User

from .models import PaymentsQuery

__all__ = ["currency_code", "day_start", "days_between", "detail", "page", "payment_of"]

T = Transaction.__table__
SENDER, RECEIVER = aliased(User), aliased(User)
PREFIX = "/api/v1"


def day_start(day) -> datetime:
    return datetime.combine(day, time(), UTC)


def days_between(column, first, last) -> list:
    """`column` (a time) within the days `first` to `last` (UTC, both included; None: open). The last day of the
    calendar (9999-12-31) has no day after it: it leaves the range open."""
    where = []
    if first is not None:
        where.append(column >= day_start(first))
    if last is not None and last < date.max:
        where.append(column < day_start(last + timedelta(days=1)))
    return where


def currency_code(conn: Connection, alpha: str) -> int | None:
    return conn.scalar(select(Currency.numeric_code).where(Currency.alpha_code == alpha.upper()))


def payment_of(row) -> dict:
    imported = None
    if row.import_id is not None:
        imported = {"import_id": row.import_id, "line": row.import_line,
                    "href": f"{PREFIX}/imports/{row.import_id}"}
    return {"transaction_id": row.transaction_id, "sender": row.sender, "receiver": row.receiver,
            "amount": f"{row.amount:f}", "currency": row.currency, "transaction_date": row.transaction_date,
            "status": row.status, "suspicious": row.is_suspicious, "source": row.source, "imported_from": imported,
            "href": f"{PREFIX}/payments/{row.transaction_id}"}


def _named(inner):
    """The payments of `inner` (rows of `transactions`) with their users' names and currency's code."""
    t = inner.subquery("t")
    return (select(t, SENDER.username.label("sender"), RECEIVER.username.label("receiver"),
                   Currency.alpha_code.label("currency"))
            .join(SENDER, SENDER.user_id == t.c.sender_id).join(RECEIVER, RECEIVER.user_id == t.c.receiver_id)
            .join(Currency, Currency.numeric_code == t.c.currency_code), t)


def page(conn: Connection, query: PaymentsQuery, currency: int | None, after: tuple | None,
         oldest_first: bool = False, extra=()) -> list:
    """A page of payments matching `query`, newest first (or `oldest_first`), after the (date, id) `after`."""
    where = [*extra, *days_between(T.c.transaction_date, query.from_, query.to)]
    for column, value in ((T.c.status, query.status), (T.c.is_suspicious, query.suspicious),
                          (T.c.source, query.source), (T.c.currency_code, currency)):
        if value is not None:
            where.append(column == value)
    key = tuple_(T.c.transaction_date, T.c.transaction_id)
    if after is not None:
        # The date's bound as well as the pair's: the index on (user, date) is searched by the date.
        where += ([T.c.transaction_date >= after[0], key > tuple_(*after)] if oldest_first
                  else [T.c.transaction_date <= after[0], key < tuple_(*after)])
    order = ((T.c.transaction_date, T.c.transaction_id) if oldest_first
             else (T.c.transaction_date.desc(), T.c.transaction_id.desc()))

    def part(*also):
        return select(T).where(*where, *also).order_by(*order).limit(query.limit)

    if query.user is not None:
        user = select(User.user_id).where(User.username == query.user).scalar_subquery()
        inner = union_all(part(T.c.sender_id == user), part(T.c.receiver_id == user))
    else:
        inner = part()
    named, t = _named(inner)
    outer = (t.c.transaction_date, t.c.transaction_id) if oldest_first else (t.c.transaction_date.desc(),
                                                                                 t.c.transaction_id.desc())
    return list(conn.execute(named.order_by(*outer).limit(query.limit)))


def detail(conn: Connection, transaction_id: uuid.UUID) -> dict | None:
    named, t = _named(select(T).where(T.c.transaction_id == transaction_id))
    row = conn.execute(named).first()
    if row is None:
        return None
    found = payment_of(row)
    found.update(first_stored_at=row.created_at, last_changed_at=row.modified_at, written_from=None)
    if row.topic is not None:
        found["written_from"] = {"topic": row.topic, "partition": row.partition, "offset": row.offset}
    s = SupersededEvent
    found["set_aside"] = [dict(r._mapping) for r in conn.execute(
        select(s.reason, s.incoming_status, s.incoming_date, s.stored_status, s.stored_date, s.differing_fields,
               s.topic, s.partition, s.offset, s.import_id, s.import_line, s.recorded_at)
        .where(s.transaction_id == transaction_id).order_by(s.recorded_at, s.superseded_event_id))]
    r = RejectedEvent
    found["refused"] = [dict(x._mapping) for x in conn.execute(
        select(r.rejected_event_id, r.topic, r.partition, r.offset, r.reasons, r.rejected_at)
        .where(r.transaction_id == transaction_id).order_by(r.rejected_event_id))]
    if row.import_id is not None:
        found["imported_from"]["file_name"] = conn.scalar(select(Import.file_name)
                                                          .where(Import.import_id == row.import_id))
    return found
