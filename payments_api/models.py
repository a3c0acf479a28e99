"""What the API takes and gives, as pydantic models: they validate every request's parameters, shape every answer,
and are what the OpenAPI document is generated from (openapi.py), so that the three cannot disagree.

Query parameters are read strictly, as the document says them: a boolean is `true` or `false`, a number is
digits, a date is `YYYY-MM-DD` (a day in UTC; `from` and `to` both count). Amounts are exact decimal strings with
their currency beside them."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from payments_core.contract import Reason
from payments_core.db.models import IMPORT_STATUSES, SOURCES, SUPERSEDED_REASONS
from payments_core.fields import STATUSES

__all__ = ["DailyReport", "FailedReport", "Import", "ImportDetail", "ImportList", "ImportsQuery", "Page",
           "Payment", "PaymentDetail", "PaymentList", "PaymentsQuery", "PendingReport", "ProblemDetails",
           "RangeQuery", "RejectedEventList", "RejectedEventsQuery", "SuspiciousQuery", "SuspiciousReport",
           "UserSummary"]


def _day(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        raise ValueError("should be a date like 2025-07-07")
    return value


def _whole(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,9}", value):
        raise ValueError("should be a whole number")
    return value


def _flag(value: Any) -> Any:
    if isinstance(value, str):
        if value not in ("true", "false"):
            raise ValueError("should be true or false")
        return value == "true"
    return value


Day = Annotated[date, BeforeValidator(_day)]
Whole = Annotated[int, BeforeValidator(_whole)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Status = Literal[STATUSES]  # type: ignore[valid-type]
Source = Literal[SOURCES]  # type: ignore[valid-type]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217 alphabetic code, as USD")]
Amount = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", description="exact decimal", examples=["1234.50"])]
Username = Annotated[str, Field(min_length=1, max_length=150)]


# --- what a request may say -----------------------------------------------------------------------------------


class _Query(BaseModel):
    # Parameters by their names only (`from`, never the field's `from_`), and none the endpoint does not take.
    model_config = ConfigDict(extra="forbid")


class Page(_Query):
    limit: Whole = Field(100, ge=1, le=500, description="items per page")
    cursor: str | None = Field(None, max_length=200, description="from the `next` link of the page before")


class RangeQuery(_Query):
    """A range of days in UTC, both included."""

    from_: Day | None = Field(None, alias="from", description="the first day (UTC), included")
    to: Day | None = Field(None, description="the last day (UTC), included")

    @model_validator(mode="after")
    def _in_order(self):
        if self.from_ and self.to and self.to < self.from_:
            raise ValueError("to: should not be before from")
        return self


class PaymentsQuery(Page, RangeQuery):
    user: Username | None = Field(None, description="a username, as sender or receiver")
    status: Status | None = None
    currency: Currency | None = None
    suspicious: Flag | None = None
    source: Source | None = None


class SuspiciousQuery(Page, RangeQuery):
    pass


class DailyQuery(_Query):
    date: Day = Field(description="the day (UTC)")


class PendingQuery(_Query):
    limit: Whole = Field(100, ge=1, le=500, description="how many of the oldest payments to list")
    cursor: str | None = Field(None, max_length=200, description="from the `next` link of the page before")


class ImportsQuery(Page):
    pass


class RejectedEventsQuery(Page, RangeQuery):
    reason: str | None = Field(None, pattern=r"^[a-z_]{1,40}$",
                               description="a reason's code, as unknown_user, missing or decimal_parsing")
    import_id: uuid.UUID | None = Field(None, description="the refused rows of this import")
    transaction_id: uuid.UUID | None = None


# --- what an answer holds ---------------------------------------------------------------------------------------


class ImportLine(BaseModel):
    import_id: uuid.UUID
    line: int = Field(description="the line of the original file")
    file_name: str | None = Field(None, description="the file's name (in a payment's history)")
    href: str


class Payment(BaseModel):
    transaction_id: uuid.UUID
    sender: str = Field(description="the sender's username")
    receiver: str = Field(description="the receiver's username")
    amount: Amount
    currency: str
    transaction_date: datetime
    status: Status
    suspicious: bool
    source: Source
    imported_from: ImportLine | None = Field(description="the import and line it came from (source csv_import)")
    href: str


class PaymentList(BaseModel):
    payments: list[Payment]
    next: str | None = Field(description="the next page, or null at the end")


class SetAside(BaseModel):
    """A version of the payment that was valid but not applied: older than the stored one, or in conflict."""

    reason: Literal[SUPERSEDED_REASONS]  # type: ignore[valid-type]
    incoming_status: str
    incoming_date: datetime
    stored_status: str
    stored_date: datetime
    differing_fields: list[str] | None
    topic: str
    partition: int
    offset: int
    import_id: uuid.UUID | None
    import_line: int | None
    recorded_at: datetime


class RefusedVersion(BaseModel):
    rejected_event_id: int
    topic: str
    partition: int
    offset: int
    reasons: list[Reason]
    rejected_at: datetime


class Message(BaseModel):
    topic: str
    partition: int
    offset: int


class PaymentDetail(Payment):
    written_from: Message | None = Field(description="the Kafka message the stored version was written from (null "
                                                     "for a payment stored before the platform kept it)")
    first_stored_at: datetime
    last_changed_at: datetime
    set_aside: list[SetAside] = Field(description="versions not applied, oldest first")
    refused: list[RefusedVersion] = Field(description="messages with this transaction_id that were refused")


class Flow(BaseModel):
    payments: int
    amount: Amount


class SummaryLine(BaseModel):
    currency: str
    status: Status
    sent: Flow
    received: Flow


class UserSummary(BaseModel):
    username: str
    from_: date | None = Field(alias="from")
    to: date | None
    totals: list[SummaryLine]

    model_config = ConfigDict(populate_by_name=True)


class DayTotal(BaseModel):
    currency: str
    status: Status
    payments: int
    amount: Amount
    suspicious: int


class DailyReport(BaseModel):
    date: date
    totals: list[DayTotal]


class FailedDay(BaseModel):
    date: date
    currency: str
    payments: int
    amount: Amount


class FailedReport(BaseModel):
    from_: date = Field(alias="from")
    to: date
    days: list[FailedDay]
    payments: str = Field(description="the failed payments themselves, a page at a time")

    model_config = ConfigDict(populate_by_name=True)


class PendingCurrency(BaseModel):
    currency: str
    payments: int
    oldest: datetime
    longest_wait_seconds: int


class PendingReport(BaseModel):
    sla_minutes: int
    currencies: list[PendingCurrency]
    oldest: list[Payment] = Field(description="the payments pending beyond the service level, oldest first")
    next: str | None


class SuspiciousReport(BaseModel):
    from_: date | None = Field(alias="from")
    to: date | None
    payments: list[Payment]
    next: str | None

    model_config = ConfigDict(populate_by_name=True)


class ImportRows(BaseModel):
    read: int
    unique: int
    duplicate: int
    suspicious: int
    malformed: int
    conflict: int
    already_imported: int = Field(description="left out on request (on_existing=skip)")
    published: int
    in_database: int
    refused: int
    older: int = Field(description="valid, but older than what is stored: not applied")


class Import(BaseModel):
    import_id: uuid.UUID
    file_name: str
    uploaded_at: datetime
    uploaded_by: str | None
    status: Literal[IMPORT_STATUSES]  # type: ignore[valid-type]
    complete: bool = Field(description="every published row is stored, set aside or refused")
    rows: ImportRows
    href: str


class RefusedRow(BaseModel):
    line: int
    reasons: list[str]


class ImportDetail(Import):
    refused_rows: list[RefusedRow] = Field(description="the first 100 refused rows, by line")
    all_refused_rows: str = Field(description="every refused row, a page at a time")


class ImportList(BaseModel):
    imports: list[Import]
    next: str | None


class RejectedEvent(BaseModel):
    rejected_event_id: int
    topic: str
    partition: int
    offset: int
    transaction_id: uuid.UUID | None
    import_id: uuid.UUID | None
    import_line: int | None
    reasons: list[Reason]
    payload: str = Field(description="the message as received; bytes that are not UTF-8 as \\x escapes")
    payload_size: int
    rejected_at: datetime


class RejectedEventList(BaseModel):
    rejected_events: list[RejectedEvent]
    next: str | None


class ProblemDetails(BaseModel):
    """An error, as RFC 9457 says (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, str]] | None = Field(None, description="the parameters at fault")
