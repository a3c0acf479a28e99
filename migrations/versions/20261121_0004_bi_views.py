"""BI views: the joins done once, for Metabase and the importer's dashboard.

Amounts are summed only within one currency: every view that adds amounts groups by currency.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = {
    # One row per transaction, with names instead of ids.
    "bi_transactions": """CREATE VIEW bi_transactions AS
        SELECT t.transaction_id,
               t.transaction_date,
               (t.transaction_date AT TIME ZONE 'UTC')::date AS day,
               t.sender_id, s.username AS sender_username,
               t.receiver_id, r.username AS receiver_username,
               t.amount, t.currency_code, c.alpha_code AS currency,
               t.status, t.is_suspicious, t.source,
               t.import_id, i.file_name AS import_file, t.import_line,
               t.created_at, t.modified_at
        FROM transactions t
        JOIN users s ON s.user_id = t.sender_id
        JOIN users r ON r.user_id = t.receiver_id
        JOIN currencies c ON c.numeric_code = t.currency_code
        LEFT JOIN imports i ON i.import_id = t.import_id
    """,
    "bi_daily_volume": """CREATE VIEW bi_daily_volume AS
        SELECT day, currency, status, count(*) AS transactions, sum(amount) AS volume,
               count(*) FILTER (WHERE is_suspicious) AS suspicious
        FROM bi_transactions
        GROUP BY day, currency, status
    """,
    # Sent and received, per user and currency.
    "bi_user_activity": """CREATE VIEW bi_user_activity AS
        SELECT u.user_id, u.username, a.currency,
               count(*) FILTER (WHERE a.direction = 'sent') AS sent_count,
               coalesce(sum(a.amount) FILTER (WHERE a.direction = 'sent'), 0) AS sent_amount,
               count(*) FILTER (WHERE a.direction = 'received') AS received_count,
               coalesce(sum(a.amount) FILTER (WHERE a.direction = 'received'), 0) AS received_amount
        FROM (SELECT sender_id AS user_id, 'sent' AS direction, currency, amount FROM bi_transactions
              UNION ALL
              SELECT receiver_id, 'received', currency, amount FROM bi_transactions) a
        JOIN users u ON u.user_id = a.user_id
        GROUP BY u.user_id, u.username, a.currency
    """,
    # One row per reason of each refused message (a message refused for two fields counts under both).
    "bi_rejection_reasons": """CREATE VIEW bi_rejection_reasons AS
        SELECT e.rejected_event_id, e.rejected_at, (e.rejected_at AT TIME ZONE 'UTC')::date AS day, e.topic,
               e.import_id, e.import_line,
               reason ->> 'code' AS code, nullif(reason ->> 'field', '') AS field, reason ->> 'message' AS message
        FROM rejected_events e, jsonb_array_elements(e.reasons) AS reason
    """,
    "bi_rejections_by_import": """CREATE VIEW bi_rejections_by_import AS
        SELECT i.import_id, i.file_name, i.uploaded_at, i.rows_published,
               count(DISTINCT e.import_line) AS rows_rejected
        FROM imports i
        LEFT JOIN rejected_events e ON e.import_id = i.import_id
        GROUP BY i.import_id, i.file_name, i.uploaded_at, i.rows_published
    """,
}


def upgrade() -> None:
    for statement in VIEWS.values():
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP VIEW bi_rejections_by_import, bi_rejection_reasons, bi_user_activity, bi_daily_volume, "
               "bi_transactions")
