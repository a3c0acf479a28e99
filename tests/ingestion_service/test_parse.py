"""The reader thread's step: any message becomes an event or a refusal naming why, never an exception."""

import json

from hypothesis import given
from hypothesis import strategies as st

from ingestion_service.parse import Parser
from ingestion_service.records import Event, Refusal, Source
from payments_core.settings import TopicSettings
from tests.helpers.events import import_row, payment

TOPICS = TopicSettings(_env_file=None)
PARSER = Parser(TOPICS)


def source(topic: str, value: bytes) -> Source:
    return Source(topic=topic, partition=0, offset=0, key=None, value=value, timestamp_ms=None, headers=[])


def test_a_valid_message_of_either_topic_is_parsed_by_its_topics_model():
    paid = PARSER.parse(source(TOPICS.payments_topic, json.dumps(payment()).encode()))
    imported = PARSER.parse(source(TOPICS.imports_topic, json.dumps(import_row()).encode()))

    assert isinstance(paid, Event) and paid.import_id is None and paid.currency == 840
    assert isinstance(imported, Event) and imported.import_id is not None and imported.currency == "EUR"


def test_a_refused_import_row_keeps_its_import_and_line_for_the_importers_page():
    refused = PARSER.parse(source(TOPICS.imports_topic, json.dumps(import_row(line=7, amount="-1")).encode()))

    assert isinstance(refused, Refusal) and refused.import_line == 7 and refused.import_id is not None
    assert [r.field for r in refused.reasons] == ["amount"]


@given(st.sampled_from([TOPICS.payments_topic, TOPICS.imports_topic]), st.binary(max_size=2000))
def test_any_bytes_on_either_topic_are_parsed_or_refused_never_raised(topic, value):
    outcome = PARSER.parse(source(topic, value))

    assert isinstance(outcome, Event | Refusal)
    if isinstance(outcome, Refusal):
        assert outcome.reasons and all(r.message for r in outcome.reasons)
