"""The totals' tables: what the dashboards read instead of every payment, and the log of changes they are kept
up with. Their SQL (triggers, log, refresh) is in sql/, installed by the migrations."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import Column, Date, Index, Integer, Numeric, SmallInteger, Table, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from payments_core.db.models import Base

__all__ = ["DailyTotal", "UserDailyTotal", "UserMonthlyTotal", "UserTotal", "UserWeeklyTotal",
           "payment_totals_changes_halves"]


class DailyTotal(Base):
    """Payments per day, currency and status, kept up with the changes of `transactions` (migrations 0008, 0013)."""

    __tablename__ = "daily_totals"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency_code: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(Text, primary_key=True)
    transactions: Mapped[int] = mapped_column(Integer)
    volume: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    suspicious: Mapped[int] = mapped_column(Integer)


class _UserTotal:
    """What a user sent and received in a period, per currency and status."""

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    currency_code: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(Text, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer)
    sent_volume: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    received: Mapped[int] = mapped_column(Integer)
    received_volume: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    suspicious: Mapped[int] = mapped_column(Integer)  # of the user's payments, sent or received


class UserDailyTotal(_UserTotal, Base):
    __tablename__ = "user_daily_totals"

    day: Mapped[date] = mapped_column(Date, primary_key=True)

    # A dashboard filtered on a user reads that user's days.
    __table_args__ = (Index("ix_user_daily_totals_user_id", "user_id", "day"),)


class UserMonthlyTotal(_UserTotal, Base):
    __tablename__ = "user_monthly_totals"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day

    # The user page reads one user's months.
    __table_args__ = (Index("ix_user_monthly_totals_user_id", "user_id"),)


class UserWeeklyTotal(_UserTotal, Base):
    """The edges of a date range that cuts months: whole weeks, then days (migration 0016)."""

    __tablename__ = "user_weekly_totals"

    week: Mapped[date] = mapped_column(Date, primary_key=True)  # its Monday


class UserTotal(_UserTotal, Base):
    """A user's totals for all time: the top senders and receivers without dates (migration 0016)."""

    __tablename__ = "user_totals"


# Rows that statements on `transactions` wrote (sign +1) or removed (-1), until `refresh_payment_totals()` adds them
# to the totals (migrations 0013, 0019). Append-only and without a key, so that writers never wait on each other;
# writers append to one half while the refresh takes the other whole. The view `payment_totals_changes` shows both.
# Emptied by TRUNCATE at every refresh, the halves are left alone by autovacuum (migration 0020).
def _log_half(name: str) -> Table:
    return Table(
        name, Base.metadata,
        Column("day", Date, nullable=False),
        Column("sender_id", UUID(as_uuid=True), nullable=False),
        Column("receiver_id", UUID(as_uuid=True), nullable=False),
        Column("currency_code", Integer, nullable=False),
        Column("status", Text, nullable=False),
        Column("sign", SmallInteger, nullable=False),
        Column("suspicious", SmallInteger, nullable=False),  # the sign if suspicious, else 0
        Column("volume", Numeric(12, 2), nullable=False),  # the amount, with the sign
    )


payment_totals_changes_halves = (_log_half("payment_totals_changes_0"), _log_half("payment_totals_changes_1"))
