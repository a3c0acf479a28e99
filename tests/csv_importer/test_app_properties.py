"""Property-based tests of uploads through the whole app (real broker, S3 endpoint and PostgreSQL): any text is
answered without a 500, every line of an imported file is accounted for, and a re-saved copy of a file is
recognised as the same rows and gives them the same transaction ids."""

import re
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from csv_importer.reading import REQUIRED
from payments_core.db.models import Import
from tests.helpers.csv_files import Saving, physical_lines

through_the_app = settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])

VALID_ROW = "pthompson,rpeterson,12.50,USD,2025-07-07 01:42:05 UTC,pending"
junk = st.sampled_from(['"', ",", ";", "\t", "\n", "\r", "\r\n", "a", "9", " ", "\x00", "\x1b", "é", "😀", '""',
                        "=1+2", VALID_ROW + "\n", VALID_ROW.replace(",", ";") + "\r\n", "x" * 2000])
files = st.builds(
    lambda bom, delimiter, end, body: (("\ufeff" if bom else "") + delimiter.join(REQUIRED) + end + body).encode(),
    st.booleans(), st.sampled_from([",", ";", "\t"]), st.sampled_from(["\n", "\r\n", "\r"]),
    st.lists(junk, max_size=60).map("".join))


def import_of(importer, location: str) -> uuid.UUID | None:
    if "/imports/again/" in location:
        question = importer.get(location).text
        token = question.split('name="token" value="', 1)[1].split('"', 1)[0]
        location = importer.post("/imports/again", data={"csrf_token": importer.token, "token": token,
                                                         "rows": "all"}).headers["Location"]
    match = re.search(r"/imports/([0-9a-f-]{36})$", location)
    return uuid.UUID(match[1]) if match else None


@through_the_app
@given(files)
def test_any_upload_is_answered_and_every_line_of_an_imported_file_is_accounted_for(importer, engine, data):
    response = importer.upload(data, "any.csv")

    assert response.status_code in (303, 422), response.text[:300]
    if response.status_code == 422:
        assert re.search(r'id="error">[^<]+\.', response.text), "a message saying what is wrong"
        return
    import_id = import_of(importer, response.headers["Location"])
    page = importer.get(f"/imports/{import_id}")
    assert page.status_code == 200
    with engine.connect() as conn:
        record = conn.execute(select(Import).where(Import.import_id == import_id)).one()
    assert record.lines_total == physical_lines(data)
    header = record.lines_total - record.rows_read - record.lines_blank - record.lines_in_fields
    assert header >= 1
    assert record.rows_read == record.rows_unique + record.rows_duplicate + record.rows_malformed
    assert f'id="rows-read">{record.rows_read:,}<' in page.text


names = st.sampled_from(["pthompson", "rpeterson", "garias", "cjones", "hsavage"])
payments = st.lists(st.builds(
    lambda sender, receiver, cents, currency, second, status: [
        sender, receiver, f"{cents // 100}.{cents % 100:02d}", currency,
        f"2025-07-07 01:{second // 60:02d}:{second % 60:02d} UTC", status],
    names, names, st.integers(1, 10**9), st.sampled_from(["USD", "EUR", "GBP"]), st.integers(0, 3599),
    st.sampled_from(["pending", "completed", "failed"])), min_size=1, max_size=40)
savings = st.builds(Saving, st.sampled_from(["\n", "\r\n"]), st.booleans(), st.booleans(),
                    st.sampled_from([",", ";", "\t"]), st.permutations(range(len(REQUIRED))).map(tuple),
                    st.booleans(), st.booleans())


@through_the_app
@given(payments, savings)
def test_a_re_saved_copy_is_recognised_and_creates_no_new_transaction(importer, engine, rows, saving):
    original = import_of(importer, importer.upload(Saving().write(rows), "original.csv").headers["Location"])

    response = importer.upload(saving.write(rows), "resaved.csv")

    assert "/imports/again/" in response.headers["Location"], "recognised as imported before"
    assert str(original) in importer.get(response.headers["Location"]).text
    resaved = import_of(importer, response.headers["Location"])
    with engine.connect() as conn:
        digests = dict(conn.execute(select(Import.import_id, Import.content_digest)
                                    .where(Import.import_id.in_([original, resaved]))).all())
    assert digests[original] == digests[resaved], "the same transaction ids, so the same transactions"
