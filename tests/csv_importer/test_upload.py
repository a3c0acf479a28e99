"""Uploading through the app against the real broker, S3 endpoint and PostgreSQL."""

import csv
import io
import json
import uuid
from pathlib import Path

from minio import Minio
from sqlalchemy import select, text

from payments_core.db.models import Import
from tests.helpers.importer import ImporterClient
from tests.helpers.kafka import read_topic
from tests.helpers.waiting import wait_until

SAMPLES = Path(__file__).resolve().parents[2] / "csvs"


def upload_sample(importer, name="suspicious_duplicated_transactions.csv"):
    response = importer.upload((SAMPLES / name).read_bytes(), name)
    assert response.status_code == 303, response.text[:300]
    return uuid.UUID(response.headers["Location"].rsplit("/", 1)[1])


def s3(settings) -> Minio:
    return Minio(settings.s3_endpoint_url.removeprefix("http://"), settings.s3_access_key,
                 settings.s3_secret_key.get_secret_value(), secure=False)


def test_the_original_file_is_archived_with_its_hash_and_counts(importer, importer_settings, engine):
    data = (SAMPLES / "suspicious_duplicated_transactions.csv").read_bytes()

    import_id = upload_sample(importer)

    with engine.connect() as conn:
        record = conn.execute(select(Import).where(Import.import_id == import_id)).one()
    stored = s3(importer_settings).stat_object(importer_settings.s3_bucket, record.s3_key)
    assert record.s3_key.endswith("-suspicious_duplicated_transactions.csv")
    assert stored.metadata["x-amz-meta-sha256"] == record.sha256 == __import__("hashlib").sha256(data).hexdigest()
    assert stored.metadata["x-amz-meta-rows-read"] == "200"
    assert stored.metadata["x-amz-meta-rows-duplicate"] == "20"
    assert (record.rows_read, record.rows_unique, record.rows_duplicate, record.status) == (200, 180, 20, "published")
    assert importer.get(f"/imports/{import_id}/file").data == data


def test_unique_rows_are_published_keyed_by_a_deterministic_id_with_their_provenance(importer, importer_settings):
    import_id = upload_sample(importer)

    messages = read_topic(importer_settings.kafka_bootstrap_servers, importer_settings.imports_topic, 180,
                          then_wait=1.0)

    events = [json.loads(m.value()) for m in messages]
    with open(SAMPLES / "suspicious_duplicated_transactions.csv", newline="") as f:
        file_rows = {line: row for line, row in enumerate(csv.DictReader(f), start=2)}
    first_lines = {}
    for line, row in file_rows.items():
        first_lines.setdefault(tuple(row.values()), line)
    assert sorted(e["line_number"] for e in events) == sorted(first_lines.values()), "each row once, at its first line"
    for message, event in zip(messages, events, strict=True):
        row = file_rows[event["line_number"]]
        assert message.key() == event["transaction_id"].encode()
        assert {k: event[k] for k in row} == row, "sent as the file has it"
        assert event["import_id"] == str(import_id)
        assert event["source_file"] == "suspicious_duplicated_transactions.csv"
        assert event["is_suspicious"] == (float(row["amount"]) > 8000)


def test_the_same_file_again_is_recognised_and_a_repeat_keeps_the_transaction_ids(importer, importer_settings):
    first = upload_sample(importer, "suspicious_transactions.csv")

    again = importer.upload((SAMPLES / "suspicious_transactions.csv").read_bytes(), "renamed.csv")

    assert again.status_code == 303 and "/imports/again/" in again.headers["Location"]
    question = importer.get(again.headers["Location"])
    assert "This file was imported before" in question.text
    assert f"/imports/{first}" in question.text
    token = question.text.split('name="token" value="', 1)[1].split('"', 1)[0]
    confirmed = importer.post("/imports/again", data={"csrf_token": importer.token, "token": token})
    assert confirmed.status_code == 303
    messages = read_topic(importer_settings.kafka_bootstrap_servers, importer_settings.imports_topic, 100,
                          then_wait=1.0)
    by_import: dict[str, set] = {}
    for m in messages:
        event = json.loads(m.value())
        by_import.setdefault(event["import_id"], set()).add(event["transaction_id"])
    first_ids, second_ids = by_import.values()
    assert first_ids == second_ids and len(first_ids) == 50


def test_a_waiting_upload_is_private_and_only_its_uploader_may_answer_for_it(importer, importer_settings):
    upload_sample(importer, "suspicious_transactions.csv")
    again = importer.upload((SAMPLES / "suspicious_transactions.csv").read_bytes(), "renamed.csv")
    location = again.headers["Location"]
    token = location.rsplit("/", 1)[1]

    spool = Path(importer_settings.importer_spool_dir)
    assert spool.stat().st_mode & 0o777 == 0o700
    assert {f.stat().st_mode & 0o777 for f in spool.iterdir()} == {0o600}, "no other user of the machine reads it"

    other = ImporterClient(importer.app, "another-importer")
    assert other.get(location).status_code == 404
    refused = other.post("/imports/again", data={"csrf_token": other.token, "token": token})
    assert refused.status_code == 410
    assert importer.get(location).status_code == 200, "the uploader still may"


def test_a_file_uploaded_again_many_times_while_asked_about_is_kept_once(importer, importer_settings):
    data = (SAMPLES / "suspicious_transactions.csv").read_bytes()
    upload_sample(importer, "suspicious_transactions.csv")
    waiting = [importer.upload(data, f"copy-{n}.csv").headers["Location"] for n in range(5)]

    spool = Path(importer_settings.importer_spool_dir)
    assert [f.stat().st_size for f in spool.glob("*.csv")] == [len(data)], "one copy of the content"
    token = waiting[0].rsplit("/", 1)[1]
    answered = importer.post("/imports/again", data={"csrf_token": importer.token, "token": token, "rows": "all"})
    assert answered.status_code == 303
    assert importer.get(waiting[1]).status_code == 200, "the other questions still wait, with the file"
    for location in waiting[1:]:
        token = location.rsplit("/", 1)[1]
        importer.post("/imports/again", data={"csrf_token": importer.token, "token": token, "rows": "all"})
    assert list(spool.iterdir()) == [], "the file goes with the last question about it"


def test_an_import_that_stopped_while_archiving_says_so_and_is_not_imported_before(importer, engine):
    from decimal import Decimal

    from csv_importer.marking import mark
    from csv_importer.reading import read_layout

    data = (SAMPLES / "regular_transactions.csv").read_bytes()
    stopped = uuid.uuid4()
    with engine.begin() as conn:  # its process ended between the record and the archive, 11 minutes ago
        conn.execute(text("""
            INSERT INTO imports (import_id, file_name, sha256, s3_key, size_bytes, rows_read, rows_unique,
                                 rows_duplicate, rows_suspicious, rows_malformed, rows_published, status,
                                 content_digest, uploaded_at)
            VALUES (:id, 'regular_transactions.csv', repeat('0', 64), 'k', 1, 1000, 1000, 0, 0, 0, 0, 'archiving',
                    :digest, now() - interval '11 minutes')"""),
            {"id": stopped, "digest": mark(read_layout(data), Decimal(8000)).content_digest})

    assert "stopped before its file was archived" in importer.get(f"/imports/{stopped}").text
    again = importer.upload(data, "regular_transactions.csv")
    assert "/imports/again/" not in again.headers["Location"], "nothing of it was published: not asked about"


def test_when_archiving_fails_nothing_is_published_and_the_person_is_told(importer_settings, engine):
    from csv_importer import create_app
    from platform_ops.servers import free_port
    from tests.helpers.importer import ImporterClient

    unreachable = importer_settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{free_port()}"})
    client = ImporterClient(create_app(unreachable))

    response = client.upload((SAMPLES / "regular_transactions.csv").read_bytes(), "regular_transactions.csv")

    assert response.status_code == 503
    assert "could not be archived" in response.text and "nothing was published" in response.text
    read_topic(importer_settings.kafka_bootstrap_servers, importer_settings.imports_topic, 0, then_wait=1.0)
    with engine.connect() as conn:
        assert conn.execute(select(Import)).first() is None


def test_an_upload_without_the_page_token_is_refused(importer):
    response = importer.client.post("/imports", data={"file": (io.BytesIO(b"x"), "a.csv")},
                                    content_type="multipart/form-data")

    assert response.status_code == 400
    assert "expired" in response.text


def test_the_upload_page_says_what_the_file_must_hold_and_offers_a_sample(importer):
    page = importer.get("/")

    assert "username_sender, username_receiver, amount, currency, transaction_date, status" in page.text
    sample = importer.get("/sample.csv")
    assert sample.status_code == 200 and sample.data.startswith(b"username_sender,")
    assert "http" not in page.text.split("<body>")[1].replace("http://localhost", ""), "no asset from elsewhere"


def test_the_history_lists_every_import(importer):
    upload_sample(importer, "suspicious_transactions.csv")
    upload_sample(importer, "regular_transactions.csv")

    page = importer.get("/imports")

    assert page.text.count("suspicious_transactions.csv") == 1
    assert "regular_transactions.csv" in page.text


def test_the_live_status_follows_the_ingestion_service_and_refused_rows_can_be_downloaded(
    importer, importer_ingestion
):
    data = (
        b"username_sender,username_receiver,amount,currency,transaction_date,status\n"
        b"pthompson,rpeterson,12.50,USD,2025-07-07 01:42:05 UTC,pending\n"
        b"bob_nobody,rpeterson,15.00,USD,2025-07-07 01:42:05 UTC,pending\n"
        b"garias,cjones,99.99,EUR,2025-07-07 01:42:05 UTC,completed\n"
        b"=cmd|' /C calc'!A0,cjones,=1+2,EUR,2025-07-07 01:42:05 UTC,completed\n"
    )
    location = importer.upload(data, "mixed.csv").headers["Location"]

    final = wait_until(lambda: (st := importer.get(location + "/status").json)["complete"] and st, timeout=60,
                       message="the import complete")

    assert (final["published"], final["in_database"], final["rejected"]) == (4, 2, 2)
    assert [r["line"] for r in final["rejections"]] == [3, 5]
    assert final["rejections"][0]["reasons"] == ["username_sender: unknown username 'bob_nobody' in username_sender"]
    assert final["rejections"][1]["reasons"][0].startswith("amount:")
    refused = list(csv.reader(io.StringIO(importer.get(location + "/rejected.csv").text)))
    assert refused[0][-2:] == ["line_in_original_file", "why_it_was_refused"]
    assert refused[1][:3] == ["bob_nobody", "rpeterson", "15.00"] and refused[1][-2] == "3"
    assert refused[2][:3] == ["'=cmd|' /C calc'!A0", "cjones", "'=1+2"], "formulas are written as text"
    assert refused[2][-2] == "5"


def test_the_refused_rows_download_is_written_as_it_is_read_not_held_whole(importer, engine):
    import tracemalloc

    import_id = uuid.uuid4()
    with engine.begin() as conn:  # an import with 100,000 refused rows, as the ingestion service records them
        conn.execute(text("""
            INSERT INTO imports (import_id, file_name, sha256, s3_key, size_bytes, rows_read, rows_unique,
                                 rows_duplicate, rows_suspicious, rows_malformed, rows_published, status)
            VALUES (:id, 'big.csv', repeat('0', 64), 'k', 1, 30000, 30000, 0, 0, 0, 30000, 'published')"""),
            {"id": import_id})
        conn.execute(text("""
            INSERT INTO rejected_events (topic, partition, "offset", payload, payload_size, reasons, import_id,
                                         import_line)
            SELECT 'import-payments-events', 0, n,
                   convert_to(json_build_object('username_sender', 'nobody' || n, 'username_receiver', 'bob',
                              'amount', '12.50', 'currency', 'USD', 'transaction_date', '2025-07-07 01:42:05 UTC',
                              'status', 'pending')::text, 'UTF8'),
                   100, '[{"field": "username_sender", "code": "unknown_user", "message": "unknown username"}]',
                   :id, n + 1
            FROM generate_series(1, 100000) AS n"""), {"id": import_id})

    tracemalloc.start()
    response = importer.get(f"/imports/{import_id}/rejected.csv", buffered=False)
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert lines == 100_001, "the header and every refused row"
    assert peak < size / 3, f"held {peak / 2**20:.1f} MB to send {size / 2**20:.1f} MB"


def test_a_nul_byte_deep_in_an_uploaded_file_costs_its_row_only(importer, importer_ingestion):
    lines = (SAMPLES / "huge_load_transactions.csv").read_bytes().splitlines(keepends=True)[:1201]
    sender = lines[1100].split(b",", 1)[0]
    lines[1100] = lines[1100].replace(sender, sender[:2] + b"\x00" + sender[2:], 1)  # past the first 64 KB
    lines[1150] = lines[1150].rstrip(b"\n") + b",\x01extra\n"  # and one more, with a field too many
    assert sum(map(len, lines[:1100])) > 64 * 1024
    response = importer.upload(b"".join(lines), "nul.csv")
    assert response.status_code == 303, response.text[:300]
    location = response.headers["Location"]

    page = importer.get(location).text
    final = wait_until(lambda: (st := importer.get(location + "/status").json)["complete"] and st, timeout=90,
                       message="the import complete")

    assert final["published"] == 1198 and final["in_database"] + final["rejected"] == 1198
    assert "Rows with the wrong number of fields or a control character" in page
    assert sender[:2].decode() + "\\u0000" + sender[2:].decode() in page
    assert "\\u0001extra" in page
    assert importer_ingestion.thread.is_alive(), "the ingestion service goes on"


def test_a_stray_quote_is_shown_at_its_line_with_every_line_it_swallowed(importer, importer_settings):
    rows = (SAMPLES / "huge_load_transactions.csv").read_text().splitlines()[:104]
    rows[2] = rows[2].replace(",completed", ',"completed').replace(",pending", ',"pending')
    data = ("\n".join(rows) + "\n").encode()

    response = importer.upload(data, "stray-quote.csv")

    page = importer.get(response.headers["Location"]).text
    assert 'id="rows-read">2<' in page and 'id="rows-malformed">1<' in page and 'id="rows-published">1<' in page
    assert "The file's 104 lines:\n    1 header,\n    2 rows, 0 blank\n    and 101 inside quoted fields" in page
    assert '<td class="num">3–104' in page and "a quoted field spans 102 lines" in page
    read_topic(importer_settings.kafka_bootstrap_servers, importer_settings.imports_topic, 1, then_wait=0.5)
