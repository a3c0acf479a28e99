"""Totals the API reports: a user's, a day's, the failed payments' per day, and the payments pending beyond the
service level. Read from the dashboards' totals (payments_core/totals/) plus the log of changes not yet added to
them, so that a report agrees with the payments listed at the same moment, at the cost of a few thousand rows at
most whatever the table's size."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text

__all__ = ["daily", "failed_days", "pending", "user_summary"]

USER_SUMMARY = text("""
WITH who AS (SELECT user_id FROM users WHERE username = :username),
cells AS (
    SELECT currency_code, status, sent, sent_volume, received, received_volume
    FROM user_daily_totals
    WHERE user_id = (SELECT user_id FROM who) AND :ranged AND day BETWEEN :first AND :last
    UNION ALL
    SELECT currency_code, status, sent, sent_volume, received, received_volume
    FROM user_totals
    WHERE user_id = (SELECT user_id FROM who) AND NOT :ranged
    UNION ALL
    SELECT currency_code, status,
           CASE WHEN sender_id = w.user_id THEN sign ELSE 0 END,
           CASE WHEN sender_id = w.user_id THEN volume ELSE 0.00 END,
           CASE WHEN receiver_id = w.user_id THEN sign ELSE 0 END,
           CASE WHEN receiver_id = w.user_id THEN volume ELSE 0.00 END
    FROM payment_totals_changes, who AS w
    WHERE (sender_id = w.user_id OR receiver_id = w.user_id) AND (NOT :ranged OR day BETWEEN :first AND :last)
)
SELECT c.alpha_code AS currency, status, sum(sent) AS sent, sum(sent_volume) AS sent_volume,
       sum(received) AS received, sum(received_volume) AS received_volume
FROM cells JOIN currencies c ON c.numeric_code = cells.currency_code
GROUP BY c.alpha_code, status
HAVING sum(sent) <> 0 OR sum(received) <> 0
ORDER BY currency, status
""")

DAY_TOTALS = text("""
SELECT day, c.alpha_code AS currency, status, sum(transactions) AS payments, sum(volume) AS amount,
       sum(suspicious) AS suspicious
FROM (
    SELECT day, currency_code, status, transactions, volume, suspicious FROM daily_totals
    WHERE day BETWEEN :first AND :last AND (CAST(:status AS text) IS NULL OR status = :status)
    UNION ALL
    SELECT day, currency_code, status, sign, volume, suspicious FROM payment_totals_changes
    WHERE day BETWEEN :first AND :last AND (CAST(:status AS text) IS NULL OR status = :status)
) AS cells
JOIN currencies c ON c.numeric_code = cells.currency_code
GROUP BY day, c.alpha_code, status
HAVING sum(transactions) <> 0
ORDER BY day, currency, status
""")

PENDING = text("""
SELECT c.alpha_code AS currency, p.payments, p.oldest,
       CAST(extract(epoch FROM now() - p.oldest) AS bigint) AS longest_wait_seconds
FROM pending_beyond_sla p JOIN currencies c ON c.numeric_code = p.currency_code
WHERE p.payments > 0
ORDER BY p.payments DESC, c.alpha_code
""")

SLA_MINUTES = text("SELECT minutes FROM service_levels WHERE name = 'pending'")


def _amount(volume) -> str:
    """An amount as exact text, always with its two decimals (a sum with nothing on one side is a bare 0)."""
    return f"{volume:.2f}"


def _flow(count, volume) -> dict:
    return {"payments": int(count), "amount": _amount(volume)}


def user_summary(conn: Connection, username: str, first: date | None, last: date | None) -> list[dict]:
    ranged = first is not None or last is not None
    rows = conn.execute(USER_SUMMARY, {"username": username, "ranged": ranged, "first": first or date.min,
                                       "last": last or date.max})
    return [{"currency": r.currency, "status": r.status, "sent": _flow(r.sent, r.sent_volume),
             "received": _flow(r.received, r.received_volume)} for r in rows]


def daily(conn: Connection, day: date) -> list[dict]:
    rows = conn.execute(DAY_TOTALS, {"first": day, "last": day, "status": None})
    return [{"currency": r.currency, "status": r.status, "payments": int(r.payments), "amount": _amount(r.amount),
             "suspicious": int(r.suspicious)} for r in rows]


def failed_days(conn: Connection, first: date, last: date) -> list[dict]:
    rows = conn.execute(DAY_TOTALS, {"first": first, "last": last, "status": "failed"})
    return [{"date": r.day, "currency": r.currency, "payments": int(r.payments), "amount": _amount(r.amount)}
            for r in rows]


def pending(conn: Connection) -> tuple[int, list[dict]]:
    """The service level (minutes), and per currency the payments pending beyond it."""
    return conn.scalar(SLA_MINUTES), [dict(r._mapping) for r in conn.execute(PENDING)]
