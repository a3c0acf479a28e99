"""A message read from Kafka keeps its timestamp, whatever number a producer set: the moment it was recorded with
before (a refusal is recorded once by it), or none where no datetime can hold it."""

from datetime import UTC, datetime, timedelta

from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, TIMESTAMP_NOT_AVAILABLE, Message
from hypothesis import example, given
from hypothesis import strategies as st

from ingestion_service.records import Source

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(kind=st.sampled_from([TIMESTAMP_NOT_AVAILABLE, TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME]),
       millis=st.integers(-(2**63), 2**63 - 1))
@example(kind=TIMESTAMP_CREATE_TIME, millis=1_751_852_525_123)
@example(kind=TIMESTAMP_CREATE_TIME, millis=253_402_300_799_999)  # 9999-12-31T23:59:59.999
@example(kind=TIMESTAMP_CREATE_TIME, millis=253_402_300_800_000)  # year 10000
def test_a_messages_timestamp_is_its_moment_as_recorded_before_or_none(kind, millis):
    message = Message(topic="payments-events", partition=1, offset=7, key=None, value=b"{}",
                      timestamp=(kind, millis), headers=None)

    moment = Source.of(message).timestamp

    if kind == TIMESTAMP_NOT_AVAILABLE or not a_datetime_holds(millis):
        assert moment is None
    elif moment is None:  # only at the years' ends, where the float of seconds can round past them
        assert not (a_datetime_holds(millis - 1000) and a_datetime_holds(millis + 1000))
    else:
        assert moment.tzinfo is UTC and abs(moment - (EPOCH + timedelta(milliseconds=millis))) < timedelta(
            milliseconds=1)
        assert moment == datetime.fromtimestamp(millis / 1000, UTC)  # as refusals were recorded before


def a_datetime_holds(millis: int) -> bool:
    try:
        EPOCH + timedelta(milliseconds=millis)
        return True
    except OverflowError:
        return False
