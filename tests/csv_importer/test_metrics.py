"""The web app's metrics, as Prometheus reads them: every upload counted by what became of it, its rows, and the
time each request took by route."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.events import ALICE, BOB

FILE = ("username_sender,username_receiver,amount,currency,transaction_date,status\n"
        f"{ALICE.username},{BOB.username},10.00,EUR,2025-07-07 01:42:05 UTC,completed\n"
        f"{ALICE.username},{BOB.username},10.00,EUR,2025-07-07 01:42:05 UTC,completed\n"
        f"{BOB.username},{ALICE.username},9000.00,USD,2025-07-08 01:42:05 UTC,pending\n").encode()


def samples(client) -> dict:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_uploads_rows_and_requests_are_counted(importer):
    anonymous = importer.app.test_client()  # Prometheus signs in to nothing

    first = importer.upload(FILE, "a.csv")
    importer.get(first.headers["Location"])  # the import's page, at its own address
    importer.upload(FILE, "b.csv")  # the same content: the person is asked
    importer.upload(b"amount\n1\n", "c.csv")  # no required columns
    found = samples(anonymous)

    def uploads(outcome):
        return found[("payments_importer_uploads_total", (("outcome", outcome),))]

    assert (uploads("imported"), uploads("imported_before"), uploads("file_refused")) == (1, 1, 1)
    assert uploads("storage_unavailable") == 0
    rows = {labels[0][1]: v for (name, labels), v in found.items() if name == "payments_importer_rows_total"}
    assert rows["read"] == 3 and rows["duplicate"] == 1 and rows["suspicious"] == 1 and rows["published"] == 2
    assert found[("payments_importer_publish_failures_total", ())] == 0
    timed = {dict(labels)["route"] for (name, labels), _ in found.items()
             if name == "payments_importer_request_seconds_count"}
    # By route, never by address: one series per page, not one per import.
    assert {"/imports", "/imports/<uuid:import_id>"} <= timed
    assert not any(str(ALICE.user_id)[:8] in r or first.headers["Location"] in r for r in timed)
