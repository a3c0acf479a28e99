"""With LOG_FORMAT=json, every line of `payments ingest` is a JSON object, and a line about one message carries
where it was read and the payment it concerns."""

from __future__ import annotations

import json
import signal

from tests.helpers.events import import_row, message, payment
from tests.helpers.kafka import produce
from tests.helpers.services import Ingest
from tests.helpers.waiting import wait_until


def test_json_lines_carry_the_ids_of_what_they_concern(ingestion_settings, tmp_path):
    s = ingestion_settings
    refused = payment(amount=-5)
    stored = payment(status="completed", timestamp="2025-07-07T02:00:00+00:00")
    stale = {**stored, "status": "pending", "timestamp": "2025-07-07T01:00:00+00:00"}
    row = import_row(line=7, username_sender="nobody-at-all")
    produce(s.kafka_bootstrap_servers, s.payments_topic, [message(refused), message(stored)])
    produce(s.kafka_bootstrap_servers, s.imports_topic, [message(row)])
    service = Ingest(s.model_copy(update={"log_format": "json"}), tmp_path)
    try:
        wait_until(lambda: "unknown" in service.log(), message="the import row refused")
        produce(s.kafka_bootstrap_servers, s.payments_topic, [message(stale)])
        wait_until(lambda: "set aside" in service.log(), message="the stale version set aside")
    finally:
        service.signal(signal.SIGTERM)
        service.wait()

    lines = [json.loads(line) for line in service.log().splitlines() if line.startswith("{")]
    assert len(lines) == len(service.log().splitlines())  # every line, and nothing else
    by_message = {(x.get("transaction_id"), x["message"].split(" ")[0]): x for x in lines if "offset" in x}
    contract = by_message[refused["transaction_id"], "refused"]
    assert contract["topic"] == s.payments_topic and contract["offset"] >= 0 and contract["reasons"] == ["greater_than"]
    unknown = by_message[row["transaction_id"], "refused"]
    assert (unknown["import_id"], unknown["line"], unknown["reasons"]) == (row["import_id"], 7, ["unknown_user"])
    aside = by_message[stored["transaction_id"], "set"]
    assert aside["topic"] == s.payments_topic and "older" in aside["message"]
    assert all({"time", "level", "logger", "message"} <= set(x) for x in lines)
