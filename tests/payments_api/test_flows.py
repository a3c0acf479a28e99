"""What other systems do through the API, end to end: upload a file as the web page would, follow a payment whose
stale version arrived later, and page through payments while new ones arrive."""

from __future__ import annotations

import io
import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tests.helpers.events import ALICE, BOB, message, payment
from tests.helpers.importer import ImporterClient
from tests.helpers.kafka import produce, read_topic
from tests.helpers.waiting import wait_until


def api_client(app, scopes=("read", "import")):
    from payments_api import tokens

    token = tokens.create(app.extensions["importer"].engine, f"test-{uuid.uuid4().hex[:8]}", list(scopes)).token
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def imported(engine, import_id) -> dict:
    """The import's record and flagged rows, without what differs between any two imports (id, time, archive
    key, who)."""
    with engine.connect() as conn:
        record = dict(conn.execute(text("SELECT * FROM imports WHERE import_id = :id"), {"id": import_id})
                      .mappings().one())
        flags = [tuple(r) for r in conn.execute(text(
            "SELECT kind, line_number, last_line, fields::text, repeats FROM import_flags WHERE import_id = :id "
            "ORDER BY kind, line_number"), {"id": import_id})]
    for name in ("import_id", "uploaded_at", "s3_key", "uploaded_by"):
        record.pop(name)
    return {"record": record, "flags": flags}


def test_an_upload_through_the_api_is_the_web_pages_upload(importer_settings, databases, template_database):
    from csv_importer import create_app

    data = _sample()
    web_app = create_app(importer_settings)
    api_app = create_app(importer_settings.model_copy(update={
        "database_url": databases.url(databases.create(template=template_database))}))

    by_web = ImporterClient(web_app).upload(data, "july.csv")
    by_api = api_client(api_app).post("/api/v1/imports", data={"file": (io.BytesIO(data), "july.csv")})

    assert by_web.status_code == 303 and by_api.status_code == 202, by_api.text
    web_id = by_web.headers["Location"].rsplit("/", 1)[1]
    api_id = by_api.json["import_id"]
    assert by_api.headers["Location"] == f"/api/v1/imports/{api_id}"
    web_engine, api_engine = (app.extensions["importer"].engine for app in (web_app, api_app))
    assert imported(web_engine, web_id) == imported(api_engine, api_id)
    archive = web_app.extensions["importer"].archive
    keys = [imported_key(e, i) for e, i in ((web_engine, web_id), (api_engine, api_id))]
    assert [b"".join(archive.stream(k)) for k in keys] == [data, data]
    published = read_topic(importer_settings.kafka_bootstrap_servers, importer_settings.imports_topic,
                           2 * by_api.json["rows"]["published"])
    bodies = {}
    for m in published:
        row = json.loads(m.value())
        bodies.setdefault(row.pop("import_id"), []).append(json.dumps(row, sort_keys=True))
    assert sorted(bodies[web_id]) == sorted(bodies[api_id])


def imported_key(engine, import_id):
    with engine.connect() as conn:
        return conn.scalar(text("SELECT s3_key FROM imports WHERE import_id = :id"), {"id": import_id})


def _sample() -> bytes:
    """Two duplicates, one suspicious amount, one malformed row, a blank line."""
    return ("username_sender,username_receiver,amount,currency,transaction_date,status\n"
            f"{ALICE.username},{BOB.username},10.00,EUR,2025-07-07 01:42:05 UTC,completed\n"
            f"{ALICE.username},{BOB.username},10.00,EUR,2025-07-07 01:42:05 UTC,completed\n"
            f"{BOB.username},{ALICE.username},9000.00,USD,2025-07-08 01:42:05 UTC,pending\n"
            "\n"
            f"{BOB.username},{ALICE.username},5.00,USD\n").encode()


def test_a_file_imported_before_is_refused_until_the_caller_says_what_to_do(importer_settings):
    from csv_importer import create_app

    api = api_client(create_app(importer_settings))
    first = api.post("/api/v1/imports", data={"file": (io.BytesIO(_sample()), "a.csv")})

    again = api.post("/api/v1/imports", data={"file": (io.BytesIO(_sample()), "b.csv")})
    skipped = api.post("/api/v1/imports", data={"file": (io.BytesIO(_sample()), "c.csv"), "on_existing": "all"})

    assert first.status_code == 202
    assert again.status_code == 409 and again.json["imported_before"] == [first.json["import_id"]]
    assert again.json["errors"][0]["parameter"] == "on_existing"
    assert skipped.status_code == 202 and skipped.json["rows"]["published"] == first.json["rows"]["published"]
    twice = api.post("/api/v1/imports", data={"file": (io.BytesIO(_sample()), "d.csv"),
                                              "on_existing": ["skip", "all"]})
    assert twice.status_code == 400 and twice.json["errors"][0]["parameter"] == "on_existing"


def test_a_malformed_file_is_422_naming_the_line(importer_settings):
    from csv_importer import create_app

    api = api_client(create_app(importer_settings))

    answer = api.post("/api/v1/imports", data={"file": (io.BytesIO(b"amount,status\n1,completed\n"), "x.csv")})

    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    assert answer.json["errors"][0]["parameter"] == "file"


def test_a_payments_history_after_a_stale_version(importer_settings, importer_ingestion):
    from csv_importer import create_app

    api = api_client(create_app(importer_settings), scopes=("read",))
    bootstrap, topic = importer_settings.kafka_bootstrap_servers, importer_settings.payments_topic
    completed = payment(status="completed", timestamp="2025-07-07T02:00:00+00:00")
    stale = {**completed, "status": "pending", "timestamp": "2025-07-07T01:00:00+00:00"}
    produce(bootstrap, topic, [message(completed)])
    href = f"/api/v1/payments/{completed['transaction_id']}"
    wait_until(lambda: api.get(href).status_code == 200, message="the completed version stored")

    produce(bootstrap, topic, [message(stale)])
    history = wait_until(lambda: (h := api.get(href).json)["set_aside"] and h, message="the stale version set aside")

    assert history["status"] == "completed" and history["source"] == "manual"  # typed, not the generator's
    assert history["written_from"]["topic"] == topic
    [aside] = history["set_aside"]
    assert (aside["reason"], aside["incoming_status"], aside["stored_status"]) == ("older", "pending", "completed")
    assert aside["topic"] == topic and aside["offset"] >= 0
    assert history["refused"] == []


def test_pages_neither_skip_nor_repeat_while_payments_arrive(importer_settings):
    from csv_importer import create_app

    app = create_app(importer_settings)
    api = api_client(app, scopes=("read",))
    engine = app.extensions["importer"].engine
    start = datetime(2025, 7, 1, tzinfo=UTC)
    rng = random.Random(7)

    def insert(count):
        made = []
        with engine.begin() as conn:
            for _ in range(count):
                tid = uuid.uuid4()
                # Many share a time, so that the id decides the order within it.
                moment = start + timedelta(minutes=rng.randrange(60))
                conn.execute(text(
                    "INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, currency_code, "
                    "transaction_date, status, source) VALUES (:id, :s, :r, 1, 840, :d, 'completed', 'generator')"),
                    {"id": tid, "s": ALICE.user_id, "r": BOB.user_id, "d": moment})
                made.append(str(tid))
        return made

    before = set(insert(120))
    seen: list[str] = []
    link = f"/api/v1/payments?user={ALICE.username}&limit=7"
    while link:
        answer = api.get(link)
        page = answer.json
        seen += [p["transaction_id"] for p in page["payments"]]
        insert(3)  # newer, older and the same times as the page just read
        link = page["next"]
        assert answer.headers.get("Link") == (f'<{link}>; rel="next"' if link else None)

    assert len(seen) == len(set(seen))  # nothing repeated
    assert before <= set(seen)  # nothing there from the start skipped


@pytest.mark.parametrize("limit", ["0", "501", "ten"])
def test_a_limit_out_of_range_names_the_parameter(importer_settings, limit):
    from csv_importer import create_app

    answer = api_client(create_app(importer_settings)).get("/api/v1/payments", query_string={"limit": limit})

    assert answer.status_code == 400 and answer.json["errors"][0]["parameter"] == "limit"
