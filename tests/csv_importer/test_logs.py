"""An import's log line names the import, its file and who uploaded it, as JSON logs carry them."""

from __future__ import annotations

import json
import logging

from payments_core.process import JsonLines
from tests.helpers.events import ALICE, BOB


def test_an_imports_line_carries_its_import_file_and_account(importer, caplog):
    data = ("username_sender,username_receiver,amount,currency,transaction_date,status\n"
            f"{ALICE.username},{BOB.username},10.00,EUR,2025-07-07 01:42:05 UTC,completed\n").encode()
    caplog.set_level(logging.INFO, logger="csv_importer.importing")

    answer = importer.upload(data, "july.csv")

    import_id = answer.headers["Location"].rsplit("/", 1)[1]
    (record,) = [r for r in caplog.records if r.name == "csv_importer.importing"]
    line = json.loads(JsonLines().format(record))
    assert (line["import_id"], line["file_name"], line["account"]) == (import_id, "july.csv", "tester")
    assert line["level"] == "INFO" and "1 published" in line["message"]
