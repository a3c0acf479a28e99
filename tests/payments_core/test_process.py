"""JSON log lines: one object per line, whatever a line holds."""

from __future__ import annotations

import json
import logging

from hypothesis import given
from hypothesis import strategies as st

from payments_core.process import JsonLines


@given(message=st.text(), transaction_id=st.none() | st.uuids(), offset=st.none() | st.integers())
def test_any_line_is_one_json_object(message, transaction_id, offset):
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "%s", (message,), None)
    record.transaction_id, record.offset = transaction_id, offset

    text = JsonLines().format(record)

    assert "\n" not in text
    line = json.loads(text)
    assert line["message"] == message and line["level"] == "WARNING"
    assert line.get("transaction_id") == (str(transaction_id) if transaction_id else None)
    assert line.get("offset") == offset


def test_an_exception_is_part_of_the_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())

    line = json.loads(JsonLines().format(record))

    assert "ValueError: boom" in line["exception"]  # the traceback, inside the one line
