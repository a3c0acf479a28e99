"""How long a payment may stay in a state (`service_levels`, migration 0014), read by the dashboards' questions
and the ingestion service's `payments_pending_beyond_sla` gauge through the view `pending_beyond_sla`."""

from __future__ import annotations

from sqlalchemy import Connection, text

__all__ = ["pending_beyond_sla", "set_service_level"]


def set_service_level(conn: Connection, name: str, minutes: int) -> None:
    conn.execute(text("INSERT INTO service_levels (name, minutes) VALUES (:name, :minutes) "
                      "ON CONFLICT (name) DO UPDATE SET minutes = EXCLUDED.minutes"),
                 {"name": name, "minutes": minutes})


def pending_beyond_sla(conn: Connection) -> dict[str, int]:
    """Payments pending longer than the service level, per currency (ISO 4217 letters)."""
    rows = conn.execute(text("SELECT c.alpha_code, p.payments FROM pending_beyond_sla p "
                             "JOIN currencies c ON c.numeric_code = p.currency_code"))
    return {currency: payments for currency, payments in rows}
