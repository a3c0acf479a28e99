"""Bad and awkward files, each through the whole app: the right outcome, never a partial publish or a 500."""

import re

import pytest

from tests.helpers.kafka import read_topic

HEADER = "username_sender,username_receiver,amount,currency,transaction_date,status"
ROWS = ["pthompson,rpeterson,12.50,USD,2025-07-07 01:42:05 UTC,pending",
        "garias,cjones,8000.00,EUR,2025-07-07T01:42:05Z,completed",
        "hsavage,pthompson,8000.01,GBP,2025-07-08 10:00:00 UTC,failed"]


def csv_text(*rows, header=HEADER, end="\n"):
    return (end.join([header, *rows]) + end).encode()


# (case, file name, bytes, HTTP status, words of the message)
REFUSED = [
    ("empty file", "empty.csv", b"", 422, "The file is empty"),
    ("only spaces", "blank.csv", b"  \n \n", 422, "The file is empty"),
    ("header only", "header.csv", csv_text(), 422, "no data rows"),
    ("missing columns", "partial.csv", b"username_sender,amount\npthompson,1\n", 422,
     "Missing columns: username_receiver, currency, transaction_date, status"),
    ("not a payments CSV", "people.csv", b"name,age\nbob,4\n", 422, "does not look like a payments CSV"),
    ("Latin-1 text", "latin1.csv", csv_text("müller,rpeterson,1,USD,2025-07-07 01:42:05 UTC,pending")
     .decode().encode("latin-1"), 422, "not UTF-8 text (line 2"),
    ("an image named .csv", "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", 422, "binary data"),
    ("a quote never closed, then 140 KB", "open-quote.csv",
     csv_text(ROWS[0], 'pthompson,"rpeterson,1,USD,2025-07-07 01:42:05 UTC,pending', *[ROWS[1]] * 2500), 422,
     "The row that starts on line 3 could not be read"),
    ("a field of 200 KB", "long.csv", csv_text(ROWS[0], "x" * 200_000 + ",b,1,USD,2025-07-07 01:42:05 UTC,pending"),
     422, "The row that starts on line 3 could not be read"),
    ("a spreadsheet", "payments.xlsx", b"PK\x03\x04", 400, "Only .csv files"),
    ("no file chosen", "", b"", 400, "Choose a CSV file"),
]

# (case, file name, bytes, rows read, published, duplicates, suspicious, malformed)
IMPORTED = [
    ("plain", "plain.csv", csv_text(*ROWS), 3, 3, 0, 1, 0),
    ("BOM and CRLF", "windows.csv", b"\xef\xbb\xbf" + csv_text(*ROWS, end="\r\n"), 3, 3, 0, 1, 0),
    ("semicolons", "semi.csv", csv_text(*[r.replace(",", ";") for r in ROWS], header=HEADER.replace(",", ";")),
     3, 3, 0, 1, 0),
    ("tabs", "tabs.tsv.csv", csv_text(*[r.replace(",", "\t") for r in ROWS], header=HEADER.replace(",", "\t")),
     3, 3, 0, 1, 0),
    ("header in capitals with spaces", "caps.csv", csv_text(*ROWS, header=" " + HEADER.upper().replace(",", " , ")),
     3, 3, 0, 1, 0),
    ("blank trailing lines", "trailing.csv", csv_text(*ROWS) + b"\n\n  \n", 3, 3, 0, 1, 0),
    ("quoted fields with commas", "quoted.csv",
     csv_text('"pthompson","rpeterson","1,5",USD,"2025-07-07 01:42:05 UTC","pending"'), 1, 1, 0, 0, 0),
    # No field of a payment can hold a line break: the row is listed at its line, not published.
    ("a line break inside a quoted field", "newline.csv",
     csv_text(ROWS[0], '"pthompson","rpeterson","1,5",USD,"2025-07-07 01:42:05 UTC","pend\ning"'), 2, 1, 0, 0, 1),
    ("a row with too few and one with too many fields", "ragged.csv",
     csv_text(ROWS[0], "pthompson,rpeterson,1", ROWS[1] + ",extra"), 3, 1, 0, 0, 2),
    ("duplicated rows", "dupes.csv", csv_text(ROWS[0], ROWS[0], ROWS[2], ROWS[2], ROWS[0]), 5, 2, 3, 1, 0),
    ("the threshold is strict", "edge.csv", csv_text(ROWS[1], ROWS[2]), 2, 2, 0, 1, 0),
    ("a formula in a cell", "formula.csv",
     csv_text("=cmd|' /C calc'!A0,rpeterson,12.50,USD,2025-07-07 01:42:05 UTC,pending"), 1, 1, 0, 0, 0),
    ("HTML and script in fields", "html.csv",
     csv_text('<script>alert(1)</script>,<b>bob</b>,12.50,USD,2025-07-07 01:42:05 UTC,pending'), 1, 1, 0, 0, 0),
    ("a path in the file name", "../../etc/passwd.csv", csv_text(ROWS[0]), 1, 1, 0, 0, 0),
    ("its own transaction ids", "ids.csv",
     csv_text("pthompson,rpeterson,1,USD,2025-07-07 01:42:05 UTC,pending,3f2b8c1e-9d4a-4c55-8a31-2b7e5f0c9d11",
              header=HEADER + ",transaction_id"), 1, 1, 0, 0, 0),
    ("unknown users and bad amounts: the importer does not judge", "unchecked.csv",
     csv_text("nobody,rpeterson,-5,XYZ,yesterday,done"), 1, 1, 0, 0, 0),
    ("non-ASCII names", "unicode.csv", csv_text("zoë,rpeterson,12.50,USD,2025-07-07 01:42:05 UTC,pending"),
     1, 1, 0, 0, 0),
]


@pytest.mark.parametrize("case, name, data, status, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_a_file_that_cannot_be_imported_is_refused_plainly_and_nothing_is_published(
    importer, importer_settings, case, name, data, status, words
):
    response = importer.upload(data, name) if name else importer.client.post(
        "/imports", data={"csrf_token": importer.token}, content_type="multipart/form-data")

    assert response.status_code == status, response.text[:500]
    assert words in response.text
    assert "Traceback" not in response.text
    read_topic(importer_settings.kafka_bootstrap_servers, importer_settings.imports_topic, 0, then_wait=0.5)


@pytest.mark.parametrize("case, name, data, read, published, duplicates, suspicious, malformed", IMPORTED,
                         ids=[c[0] for c in IMPORTED])
def test_an_awkward_but_readable_file_is_imported_with_the_right_counts(
    importer, importer_settings, case, name, data, read, published, duplicates, suspicious, malformed
):
    response = importer.upload(data, name)

    assert response.status_code == 303, response.text[:500]
    page = importer.get(response.headers["Location"])
    assert page.status_code == 200
    for element, number in (("rows-read", read), ("rows-published", published), ("rows-duplicate", duplicates),
                            ("rows-suspicious", suspicious)):
        assert f'id="{element}">{number}<' in page.text, (element, number)
    assert "<script>alert" not in page.text, "fields are escaped in the page"
    sent = read_topic(importer_settings.kafka_bootstrap_servers, importer_settings.imports_topic, published,
                      then_wait=0.5)
    assert len(sent) == published
    if malformed:
        assert "Rows with the wrong number of fields or a control character" in page.text
        assert re.search('<td class="num">3[<–]', page.text), "listed at the line it starts on"


def test_a_file_over_the_size_limit_is_refused_with_the_limit(importer_settings):
    from csv_importer import create_app
    from tests.helpers.importer import ImporterClient

    client = ImporterClient(create_app(importer_settings.model_copy(update={"importer_max_upload_mb": 1})))

    response = client.upload(csv_text(*ROWS * 20_000), "big.csv")

    assert response.status_code == 413
    assert "larger than 1 MB" in response.text
    read_topic(importer_settings.kafka_bootstrap_servers, importer_settings.imports_topic, 0, then_wait=0.5)

