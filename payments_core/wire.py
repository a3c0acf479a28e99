"""The wire format around the contract's models: the header a producer names itself with, the columns of an
import file, and the fast encoders the generator and the importer use on their hot paths.

Each is derived from the models of `contract.py` (field names and order), so the format is written once; the
tests parse what the encoders write with those models. The encoders are format calls rather than `to_json`: a
model per message cost ten times more, at a million messages per file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from uuid import UUID

from payments_core.contract import ImportRow, ImportRowEvent, PaymentEvent

__all__ = ["CSV_COLUMNS", "SOURCE_GENERATOR", "SOURCE_HEADER", "SOURCE_MANUAL", "ImportRowEncoder", "payment_json"]

# A producer may name itself in this header: the ingestion service records `source = generator` for the data
# generator's payments, and `manual` for any other (the console producer says so).
SOURCE_HEADER = "payments-source"
SOURCE_GENERATOR = b"generator"
SOURCE_MANUAL = b"manual"

# The columns of an import file, in the order the importer writes and the sample files have them.
CSV_COLUMNS = tuple(ImportRow.model_fields)

_JSON_NUMBERS = {"amount", "currency_code"}


def _template(fields: Sequence[str]) -> str:
    """`{"a":"{}","amount":{},…}` for str.format: numbers bare, the rest quoted, JSON's own braces doubled."""
    return "{{" + ",".join(f'"{name}":' + ("{}" if name in _JSON_NUMBERS else '"{}"') for name in fields) + "}}"


_PAYMENT = _template(tuple(PaymentEvent.model_fields))


def payment_json(transaction_id: str, sender_id: str, receiver_id: str, amount: str, currency_code: int,
                 timestamp: str, status: str) -> str:
    """A PaymentEvent as compact JSON, from values that are already valid and need no escaping (UUIDs, a decimal,
    a numeric code, an ISO time, a status word): the data generator's hot path."""
    return _PAYMENT.format(transaction_id, sender_id, receiver_id, amount, currency_code, timestamp, status)


def json_text(value: str) -> str:
    """A JSON string. Most fields are printable ASCII without a quote or a backslash: written directly, much
    faster than json.dumps."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


class ImportRowEncoder:
    """ImportRowEvent messages for the rows of one import: the CSV fields as the file has them (trimmed), and what
    the importer adds."""

    _AFTER_ROW = ("transaction_id", "import_id", "source_file", "line_number", "is_suspicious")
    assert tuple(ImportRowEvent.model_fields) == CSV_COLUMNS + _AFTER_ROW, "the encoder follows the model"

    def __init__(self, import_id: UUID, file_name: str):
        self._tail = f'"import_id":"{import_id}","source_file":{json_text(file_name)},"line_number":'
        # The usual row (no field needing escapes) is one format call.
        self._plain = ("{{" + ",".join(f'"{name}":"{{}}"' for name in CSV_COLUMNS) + ',"transaction_id":"{}",'
                       + self._tail.replace("{", "{{").replace("}", "}}") + '{},"is_suspicious":{}}}')

    def encode(self, values: Sequence[str], transaction_id: str, line: int, suspicious: bool) -> str:
        """`values` in CSV_COLUMNS order."""
        flagged = "true" if suspicious else "false"
        joined = "".join(values) + transaction_id
        if joined.isascii() and joined.isprintable() and '"' not in joined and "\\" not in joined:
            return self._plain.format(*values, transaction_id, line, flagged)
        body = ",".join(f'"{name}":{json_text(v)}' for name, v in zip(CSV_COLUMNS, values, strict=True))
        return f'{{{body},"transaction_id":{json_text(transaction_id)},{self._tail}{line},"is_suspicious":{flagged}}}'
