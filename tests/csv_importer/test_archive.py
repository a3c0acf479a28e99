"""File names as people give them, in any script: kept readable, never a path, a bidi trick or an oversized key."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csv_importer.archive import archive_key, safe_file_name

BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@pytest.mark.parametrize("given_name, kept", [
    ("支付.csv", "支付.csv"),
    ("платежи июль.csv", "платежи июль.csv"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\pay.csv", "pay.csv"),
    ("invoice\u202evsc.exe.csv", "invoicevsc.exe.csv"),
    ("", "upload.csv"),
    ("...", "upload.csv"),
])
def test_a_name_keeps_its_readable_form_and_loses_what_could_mislead(given_name, kept):
    assert safe_file_name(given_name) == kept


@given(st.text(max_size=3000))
def test_any_name_makes_a_short_key_without_a_path_control_or_bidi_character(name):
    cleaned = safe_file_name(name)
    key = archive_key(cleaned, datetime.now(UTC), uuid4())

    assert cleaned and len(key.encode()) <= 1024
    assert "/" not in cleaned and "\\" not in cleaned
    assert cleaned.isprintable() and not set(cleaned) & BIDI


def test_a_file_named_in_another_script_is_archived_shown_and_downloaded_by_that_name(importer):
    data = (b"username_sender,username_receiver,amount,currency,transaction_date,status\n"
            b"pthompson,rpeterson,12.50,USD,2025-07-07 01:42:05 UTC,pending\n")

    location = importer.upload(data, "支付.csv").headers["Location"]

    assert "<h1>支付.csv</h1>" in importer.get(location).text
    download = importer.get(location + "/file")
    assert download.data == data
    assert "filename*=UTF-8''%E6%94%AF%E4%BB%98.csv" in download.headers["Content-Disposition"]


def test_a_download_given_up_before_its_first_byte_gives_its_storage_slot_back(importer):
    data = (b"username_sender,username_receiver,amount,currency,transaction_date,status\n"
            b"pthompson,rpeterson,12.50,USD,2025-07-07 01:42:05 UTC,pending\n")
    location = importer.upload(data, "given-up.csv").headers["Location"]
    slots = importer.application.extensions["importer"].archive.slots

    for _ in range(slots + 1):  # more than the slots: each must have been given back
        importer.get(location + "/file", buffered=False).close()

    assert importer.get(location + "/file").data == data
