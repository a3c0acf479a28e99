"""The endpoints under /api/v1."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from flask import Response, current_app, request
from sqlalchemy import select, text

from csv_importer import store
from csv_importer.archive import ArchiveError
from csv_importer.importing import SeenBefore
from csv_importer.reading import FileProblem
from payments_core.db.models import User
from payments_core.errors import DatabaseUnavailable

from . import models, payments, records, reports
from .endpoints import endpoint
from .paging import decode, next_link
from .problems import Problem

__all__: list[str] = []

UUID_SCHEMA = {"type": "string", "format": "uuid"}
USERNAME_MOST = 150  # users.username
# Most days a failed-payments report covers at once (a year and a day): its answer stays small.
FAILED_DAYS = 366
DEFAULT_DAYS = 30  # without from or to: the last 30 days (or the 30 from `from`, or up to `to`)


def _engine():
    return current_app.extensions["api"].engine


def _uuid(name: str, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Problem.bad_parameter(name, "should be a UUID, as 0b7e4c2a-8d3f-4c51-9e2b-6a1f0c3d5e77") from None


def _currency(conn, query) -> int | None:
    if query.currency is None:
        return None
    code = payments.currency_code(conn, query.currency)
    if code is None:
        raise Problem.bad_parameter("currency", f"{query.currency!r} is no ISO 4217 currency the platform knows")
    return code


def _payment_key(row):
    return row.transaction_date


def _payment_id(row):
    return row.transaction_id


@endpoint("GET", "/v1/payments", scope="read", query=models.PaymentsQuery, response=models.PaymentList)
def list_payments(caller, query: models.PaymentsQuery):
    """Payments, newest first, a page at a time

    Filters combine. `user` takes a username and finds the payments it sent or received (an unknown one finds
    none). Follow `next` (also in the `Link` header) for the next page: pages neither repeat nor skip a payment
    while new ones arrive."""
    after = decode(query.cursor, (datetime, uuid.UUID))
    with _engine().connect() as conn:
        rows = payments.page(conn, query, _currency(conn, query), after)
    return {"payments": [payments.payment_of(r) for r in rows],
            "next": next_link(rows, query.limit, _payment_key, _payment_id)}


@endpoint("GET", "/v1/payments/{transaction_id}", scope="read", response=models.PaymentDetail,
          path_parameters={"transaction_id": UUID_SCHEMA}, errors=(404,))
def get_payment(caller, transaction_id: str):
    """A payment and its history

    The stored version, where it came from, and every version the platform set aside (older than the stored one,
    or in conflict with it) or refused."""
    wanted = _uuid("transaction_id", transaction_id)
    with _engine().connect() as conn:
        found = payments.detail(conn, wanted)
    if found is None:
        raise Problem(404, f"There is no payment {wanted}.")
    return found


@endpoint("GET", "/v1/users/{username}/summary", scope="read", query=models.RangeQuery,
          response=models.UserSummary, path_parameters={"username": {"type": "string", "minLength": 1,
                                                                     "maxLength": 150}}, errors=(404,),
          slashes=("username",))
def user_summary(caller, query: models.RangeQuery, username: str):
    """What a user sent and received, per currency and status

    Over the days `from` to `to` (UTC, both included), or all time without them."""
    if len(username) > USERNAME_MOST:
        raise Problem.bad_parameter("username", f"a username is {USERNAME_MOST} characters at most")
    with _engine().connect() as conn:
        if conn.scalar(select(User.user_id).where(User.username == username)) is None:
            raise Problem(404, f"There is no user {username!r}.")
        totals = reports.user_summary(conn, username, query.from_, query.to)
    return {"username": username, "from": query.from_, "to": query.to, "totals": totals}


@endpoint("GET", "/v1/reports/daily", scope="read", query=models.DailyQuery, response=models.DailyReport)
def daily_report(caller, query: models.DailyQuery):
    """One day's payments per currency and status

    How many, their amount, and how many were suspicious (the day in UTC)."""
    with _engine().connect() as conn:
        return {"date": query.date, "totals": reports.daily(conn, query.date)}


@endpoint("GET", "/v1/reports/failed", scope="read", query=models.RangeQuery, response=models.FailedReport)
def failed_report(caller, query: models.RangeQuery):
    """Failed payments per day and currency

    Over `from` to `to` (UTC, both included; at most 366 days; the last 30 days without them). `payments` lists
    the failed payments themselves."""
    span = timedelta(days=DEFAULT_DAYS - 1)
    if query.to:
        last = query.to
    elif query.from_:
        last = query.from_ + span if query.from_ <= date.max - span else date.max
    else:
        last = datetime.now(UTC).date()
    first = query.from_ or (last - span if last >= date.min + span else date.min)
    if (last - first).days >= FAILED_DAYS:
        raise Problem.bad_parameter("to", f"a report covers at most {FAILED_DAYS} days")
    with _engine().connect() as conn:
        days = reports.failed_days(conn, first, last)
    return {"from": first, "to": last, "days": days,
            "payments": f"/api/v1/payments?status=failed&from={first}&to={last}"}


@endpoint("GET", "/v1/reports/pending-beyond-sla", scope="read", query=models.PendingQuery,
          response=models.PendingReport)
def pending_report(caller, query: models.PendingQuery):
    """Payments pending longer than the service level

    Per currency, how many and since when; then the payments themselves, oldest first, a page at a time."""
    after = decode(query.cursor, (datetime, uuid.UUID))
    with _engine().connect() as conn:
        sla_minutes, currencies = reports.pending(conn)
        cutoff = conn.scalar(text("SELECT now() - make_interval(mins => :m)"), {"m": sla_minutes})
        listing = models.PaymentsQuery(status="pending", limit=query.limit)
        rows = payments.page(conn, listing, None, after, oldest_first=True,
                             extra=[payments.T.c.transaction_date < cutoff])
    return {"sla_minutes": sla_minutes, "currencies": currencies, "oldest": [payments.payment_of(r) for r in rows],
            "next": next_link(rows, query.limit, _payment_key, _payment_id)}


@endpoint("GET", "/v1/reports/suspicious", scope="read", query=models.SuspiciousQuery,
          response=models.SuspiciousReport)
def suspicious_report(caller, query: models.SuspiciousQuery):
    """Suspicious payments, newest first, a page at a time

    Payments above the platform's threshold, over `from` to `to` (UTC, both included)."""
    after = decode(query.cursor, (datetime, uuid.UUID))
    listing = models.PaymentsQuery(suspicious=True, limit=query.limit, **{"from": query.from_, "to": query.to})
    with _engine().connect() as conn:
        rows = payments.page(conn, listing, None, after)
    return {"from": query.from_, "to": query.to, "payments": [payments.payment_of(r) for r in rows],
            "next": next_link(rows, query.limit, _payment_key, _payment_id)}


@endpoint("GET", "/v1/imports", scope="read", query=models.ImportsQuery, response=models.ImportList)
def list_imports(caller, query: models.ImportsQuery):
    """CSV imports, newest first, a page at a time

    Each with its counts: rows read, flagged, published, and what the ingestion service made of them."""
    after = decode(query.cursor, (datetime, uuid.UUID))
    with _engine().connect() as conn:
        found = records.imports_page(conn, after, query.limit)
    return {"imports": found, "next": next_link(found, query.limit, lambda i: i["uploaded_at"],
                                                 lambda i: i["import_id"])}


def _import_detail(import_id: uuid.UUID) -> dict | None:
    with _engine().connect() as conn:
        found = records.imports_page(conn, None, 1, ids=[import_id])
        if not found:
            return None
        return {**found[0], "refused_rows": store.refused_lines(conn, import_id),
                "all_refused_rows": f"/api/v1/rejected-events?import_id={import_id}"}


@endpoint("GET", "/v1/imports/{import_id}", scope="read", response=models.ImportDetail,
          path_parameters={"import_id": UUID_SCHEMA}, errors=(404,))
def get_import(caller, import_id: str):
    """One import: its counts, status and refused rows"""
    wanted = _uuid("import_id", import_id)
    found = _import_detail(wanted)
    if found is None:
        raise Problem(404, f"There is no import {wanted}.")
    return found


@endpoint("GET", "/v1/rejected-events", scope="read", query=models.RejectedEventsQuery,
          response=models.RejectedEventList)
def rejected_events(caller, query: models.RejectedEventsQuery):
    """Refused messages, newest first, a page at a time

    Each with the reasons (field, code and message) and the message as it was received. `reason` takes a code."""
    after = decode(query.cursor, (int,))
    with _engine().connect() as conn:
        found = records.rejected_page(conn, query, after)
    return {"rejected_events": found,
            "next": next_link(found, query.limit, lambda e: e["rejected_event_id"])}


IMPORT_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {
            "file": {"type": "string", "contentMediaType": "text/csv", "description": "the CSV file (.csv)"},
            "on_existing": {"type": "string", "enum": ["skip", "all"],
                            "description": "when the file or some of its rows were imported before: import only "
                                           "the new rows (skip) or every row (all). Without it, such a file is "
                                           "refused with 409, saying what was imported before."},
        },
    }}},
}
CHOICES = {"skip": "new", "all": "all", None: "ask"}


@endpoint("POST", "/v1/imports", scope="import", response=models.ImportDetail, status=202, body=IMPORT_BODY,
          errors=(409, 413, 422, 503))
def create_import(caller):
    """Import a CSV file

    The same rules, archive and accounting as the web page. Answers 202 once the rows are published, with the
    import's address in `Location`; its counts then follow the ingestion service."""
    file = request.files.get("file")
    unknown = sorted(set(request.form) - {"on_existing"} | set(request.files) - {"file"} | set(request.args))
    if unknown:
        raise Problem.bad_parameter(unknown[0], "is not a parameter of this endpoint")
    for name, given in (("file", request.files), ("on_existing", request.form)):
        if len(given.getlist(name)) > 1:
            raise Problem.bad_parameter(name, "is given more than once")
    if file is None or not file.filename:
        raise Problem.bad_parameter("file", "send the CSV file as the multipart field `file`")
    if not file.filename.lower().endswith(".csv"):
        raise Problem.bad_parameter("file", f"only .csv files can be imported; {file.filename!r} is not one")
    on_existing = request.form.get("on_existing")
    if on_existing not in CHOICES:
        raise Problem.bad_parameter("on_existing", "should be skip or all")
    importer = current_app.extensions["importer"]
    try:
        outcome = importer.run(file.read(), file.filename, choice=CHOICES[on_existing],
                               uploaded_by=caller.username or f"token {caller.name}"[:150])
    except FileProblem as e:
        raise Problem(422, str(e), [{"parameter": "file", "detail": str(e)}]) from None
    except (ArchiveError, DatabaseUnavailable) as e:
        current_app.logger.warning("API import of %r failed: %r", file.filename, e.__cause__)
        raise Problem(503, str(e), headers={"Retry-After": "30"}) from None
    if isinstance(outcome, SeenBefore):
        earlier = outcome.earlier
        same = [str(p.import_id) for p in earlier.same_content]
        raise Problem(409, (f"This file was imported before ({', '.join(same)})" if same else
                            f"{earlier.rows_in_database} of this file's rows are in the database already")
                      + ": send on_existing=skip to import only the new rows, or on_existing=all to import every "
                        "row again.", [{"parameter": "on_existing", "detail": "say what to do with rows imported "
                                                                              "before"}],
                      imported_before=same, rows_in_database=earlier.rows_in_database)
    found = _import_detail(outcome.import_id)
    body = models.ImportDetail.model_validate(found).model_dump_json(by_alias=True)
    return Response(body, status=202, mimetype="application/json",
                    headers={"Location": f"/api/v1/imports/{outcome.import_id}"})
