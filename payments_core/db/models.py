"""The tables, as SQLAlchemy models. Alembic's migrations must produce exactly this (a test checks).

Indexes are only those a query needs: every index is written on every upsert and slows ingestion.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from payments_core.fields import STATUSES

__all__ = ["API_SCOPES", "FLAG_KINDS", "IMPORT_STATUSES", "ROLES", "SOURCES", "Account", "ApiToken", "Base",
           "Currency", "Import", "ImportFlag", "ImportProgress", "RejectedEvent", "Transaction", "User", "WebSession"]

# Where a transaction came from: the data generator, a CSV file through the importer, or typed by hand.
SOURCES = ("generator", "csv_import", "manual")

# An import is `archiving` while its original file goes to S3 (recorded first, so that no call to S3 is made inside a
# database transaction), `publishing` until the broker has answered for every row, then `published` when every
# unique row was confirmed, `partially_published` when some were not; what the ingestion service made of them is
# counted live, not stored here.
IMPORT_STATUSES = ("archiving", "publishing", "published", "partially_published")
# Rows of a file the person is shown: a row with its repeats (the repeats not published), amounts above the
# threshold (published, flagged), rows with the wrong number of fields or a control character (not published), and
# rows giving one transaction_id to different payments (the first published, the others not; each names the others).
FLAG_KINDS = ("duplicate", "suspicious", "malformed", "conflict")
# Why a version of a payment was not applied (ingestion_service/lifecycle.py).
SUPERSEDED_REASONS = ("older", "conflict")
# Who may do what in the web app: a viewer reads the dashboard; an importer also uploads and sees the imports.
ROLES = ("viewer", "importer")
# What an API token may do: read the data, and import CSV files.
API_SCOPES = ("read", "import")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    # Builds a CHECK from the module's own constants, never from data.
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Currency(Base):
    """An ISO 4217 currency, loaded from the published list by `payments seed`."""

    __tablename__ = "currencies"

    numeric_code: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    alpha_code: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(Text)
    # NULL where ISO gives none ("N.A."), e.g. gold (XAU) or the SDR (XDR).
    minor_units: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (
        CheckConstraint("alpha_code ~ '^[A-Z]{3}$'", name="alpha_code_format"),
        CheckConstraint("numeric_code BETWEEN 1 AND 999", name="numeric_code_range"),
    )


class User(Base):
    """A person who sends or receives payments. The platform keeps no passwords."""

    __tablename__ = "users"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    full_name: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class Transaction(Base):
    """The latest valid version of each payment, upserted by transaction_id."""

    __tablename__ = "transactions"

    transaction_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    sender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.user_id"))
    receiver_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.user_id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency_code: Mapped[int] = mapped_column(ForeignKey("currencies.numeric_code"))
    transaction_date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text)
    is_suspicious: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    source: Mapped[str] = mapped_column(Text)
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    import_line: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Moved by the trigger `transactions_touch_modified_at` (see the first migration).
    modified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The message the stored version was written from (migration 0026; NULL for rows written before).
    topic: Mapped[str | None] = mapped_column(Text)
    partition: Mapped[int | None] = mapped_column(Integer)
    offset: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("sender_id <> receiver_id", name="sender_not_receiver"),
        CheckConstraint(_in("status", STATUSES), name="status_known"),
        CheckConstraint(_in("source", SOURCES), name="source_known"),
        CheckConstraint(
            "(source = 'csv_import') = (import_id IS NOT NULL AND import_line IS NOT NULL)",
            name="import_provenance",
        ),
        # The importer's status page counts an import's rows.
        Index("ix_transactions_import_id", "import_id", postgresql_where=text("import_id IS NOT NULL")),
        # The latest suspicious payments, newest first (migration 0009).
        Index("ix_transactions_suspicious", "transaction_date", "transaction_id",
              postgresql_include=["sender_id", "receiver_id", "amount", "currency_code", "status", "source"],
              postgresql_where=text("is_suspicious")),
        # The pending payments by date: the oldest at once, and the day the service level falls on (migration 0014).
        Index("ix_transactions_pending", "transaction_date", postgresql_include=["currency_code"],
              postgresql_where=text("status = 'pending'")),
        # The suspicious payments by arrival, for the dashboard's live alert (migration 0014).
        Index("ix_transactions_suspicious_arrivals", "created_at", postgresql_where=text("is_suspicious")),
        # One user's payments, sent and received, answered from the index alone (migrations 0010 and 0011).
        Index("ix_transactions_sender", "sender_id", "transaction_date",
              postgresql_include=["receiver_id", "currency_code", "status", "amount", "is_suspicious"]),
        Index("ix_transactions_receiver", "receiver_id", "transaction_date",
              postgresql_include=["sender_id", "currency_code", "status", "amount", "is_suspicious"]),
    )


class RejectedEvent(Base):
    """A message that did not meet the contract, kept with the reasons a person needs to fix it."""

    __tablename__ = "rejected_events"

    rejected_event_id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    topic: Mapped[str] = mapped_column(Text)
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    message_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The bytes as received (cut at MAX_MESSAGE_BYTES for an oversized message; payload_size says so).
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_size: Mapped[int] = mapped_column(Integer)
    # [{"field": "amount", "message": "...", "input": ...}, ...], the contract's Reason list.
    reasons: Mapped[list] = mapped_column(JSONB)
    transaction_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    import_line: Mapped[int | None] = mapped_column(Integer)
    # When the message was produced (Kafka's timestamp), NULL where the broker gives none.
    message_timestamp: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        # A message delivered again after a crash is recorded once. The timestamp is part of the key because a
        # broker that keeps its log in memory (Tansu under `make up`) hands out the same offsets after a restart.
        UniqueConstraint("topic", "partition", "offset", "message_timestamp", name="uq_rejected_events_message",
                         postgresql_nulls_not_distinct=True),
        # The importer's status page lists an import's refused rows.
        Index("ix_rejected_events_import_id", "import_id", postgresql_where=text("import_id IS NOT NULL")),
        # A payment's history in the API (migration 0026).
        Index("ix_rejected_events_transaction_id", "transaction_id",
              postgresql_where=text("transaction_id IS NOT NULL")),
    )


class Import(Base):
    """One CSV file uploaded through the importer, archived in S3 and published to the imports topic."""

    __tablename__ = "imports"

    import_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    s3_key: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_unique: Mapped[int] = mapped_column(Integer)
    rows_duplicate: Mapped[int] = mapped_column(Integer)
    rows_suspicious: Mapped[int] = mapped_column(Integer)
    rows_malformed: Mapped[int] = mapped_column(Integer)
    rows_published: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)
    # The file's rows as a set of transaction ids, whatever its bytes: how a re-saved file is recognised.
    content_digest: Mapped[str | None] = mapped_column(String(48), index=True)
    # With the rows, these add up to the file's physical lines: header + rows + blank + lines inside fields.
    lines_total: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    lines_blank: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    lines_in_fields: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    rows_already_imported: Mapped[int] = mapped_column(Integer, server_default=text("0"))  # left out on request
    # Rows giving an earlier row's transaction_id to another payment: shown, not published.
    rows_conflict: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    uploaded_by: Mapped[str | None] = mapped_column(String(150))  # the account that uploaded it

    __table_args__ = (CheckConstraint(_in("status", IMPORT_STATUSES), name="status_known"),)


class ImportFlag(Base):
    """A row of an uploaded file that the person is shown: a duplicate, a suspicious amount, or a malformed row."""

    __tablename__ = "import_flags"

    import_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("imports.import_id", ondelete="CASCADE"),
                                                 primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    line_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    fields: Mapped[list] = mapped_column(JSONB)  # the row's fields as read
    last_line: Mapped[int | None] = mapped_column(Integer)  # where a row that spans lines ends
    # A duplicate: the lines repeating this one. A conflict: the other lines with its transaction_id.
    repeats: Mapped[list[int] | None] = mapped_column(ARRAY(Integer))

    __table_args__ = (CheckConstraint(_in("kind", FLAG_KINDS), name="kind_known"),)


class Account(Base):
    """Who may sign in to the web app: a `viewer` sees the dashboard, an `importer` also uploads files."""

    __tablename__ = "accounts"

    account_id: Mapped[int] = mapped_column(Integer, Identity(always=True), primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id, never the password
    role: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Sessions signed in before it end: a new password signs out everywhere.
    password_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role_known"),)


class WebSession(Base):
    """A sign-in to the web app, open while `ended_at` is empty. The cookie carries a random token; the table holds
    its SHA-256 only, so that reading the table does not let anyone sign in."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.account_id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_web_sessions_open", "account_id", postgresql_where=text("ended_at IS NULL")),)


class ApiToken(Base):
    """A token of the read and import API: `pay_<public_id>_<secret>`, of which the table keeps the public id and
    the SHA-256 of the secret only. Open while not revoked and not expired, and, when an account owns it, while
    that account is enabled and its password unchanged since; it then acts with the account's role."""

    __tablename__ = "api_tokens"

    token_id: Mapped[int] = mapped_column(Integer, Identity(always=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # The account that made it on the web page; NULL for a token made with `payments tokens create`.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.account_id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # to the minute

    __table_args__ = (
        CheckConstraint(f"scopes <@ ARRAY[{', '.join(repr(s) for s in API_SCOPES)}]::text[] "
                        "AND cardinality(scopes) > 0", name="scopes_known"),
        # One open token per name and owner (the command line's tokens have none: one more name space).
        Index("ix_api_tokens_open_name", "account_id", "name", unique=True, postgresql_where=text("revoked_at IS NULL"),
              postgresql_nulls_not_distinct=True),
    )


class ImportProgress(Base):
    """The rows of an import that the ingestion service saved from one partition, written with the rows.

    Per partition, because a partition is read in order by one consumer: a batch delivered again counts only
    its offsets beyond `last_offset`. Partition -1 holds what was saved before this table existed.
    """

    __tablename__ = "import_progress"

    import_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    topic: Mapped[str] = mapped_column(Text, primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_offset: Mapped[int] = mapped_column(BigInteger)
    rows_saved: Mapped[int] = mapped_column(Integer)


class ServiceLevel(Base):
    """How long a payment may stay in a state: `pending` for PENDING_SLA_MINUTES, written by `payments setup`."""

    __tablename__ = "service_levels"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("minutes > 0", name="minutes_positive"),)


class SupersededEvent(Base):
    """A version of a payment that was not applied: older than what is stored, a final status contradicting
    another, or the same status and time with other content. Not a refusal: the message was valid."""

    __tablename__ = "superseded_events"

    superseded_event_id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    transaction_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    reason: Mapped[str] = mapped_column(Text)
    stored_status: Mapped[str] = mapped_column(Text)
    stored_date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    incoming_status: Mapped[str] = mapped_column(Text)
    incoming_date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    topic: Mapped[str] = mapped_column(Text)
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    message_timestamp: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    import_line: Mapped[int | None] = mapped_column(Integer)
    # A conflict between versions of the same status and time: the fields in which the incoming one differed.
    differing_fields: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(_in("reason", SUPERSEDED_REASONS), name="reason_known"),
        UniqueConstraint("topic", "partition", "offset", "message_timestamp", name="uq_superseded_events_message",
                         postgresql_nulls_not_distinct=True),
        # An import's page counts its rows older than what is stored.
        Index("ix_superseded_events_import_id", "import_id", postgresql_where=text("import_id IS NOT NULL")),
        # A payment's history in the API (migration 0026).
        Index("ix_superseded_events_transaction_id", "transaction_id"),
    )


class OverruledFlag(Base):
    """An import row whose `is_suspicious` the platform's threshold overruled: what it said, and what was stored."""

    __tablename__ = "overruled_flags"

    overruled_flag_id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    transaction_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    said_suspicious: Mapped[bool] = mapped_column(Boolean)
    is_suspicious: Mapped[bool] = mapped_column(Boolean)
    topic: Mapped[str] = mapped_column(Text)
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    message_timestamp: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    import_line: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("topic", "partition", "offset", "message_timestamp", name="uq_overruled_flags_message",
                         postgresql_nulls_not_distinct=True),
    )


# The dashboards' totals have their own home, payments_core/totals/; their tables join the same metadata here, so
# that Alembic and the tests see one schema.
from payments_core.totals import models as _totals  # noqa: E402, F401
