"""The consume loop's state machine: from any state, whatever happened before, the loop finds its way back to
running; it is paused only while a batch waits, and a stop is final."""

from hypothesis import given
from hypothesis import strategies as st

from ingestion_service.state import Event, State, next_state

events = st.lists(st.sampled_from(Event), max_size=40)


def run(sequence, start=State.RUNNING):
    state = start
    for event in sequence:
        state = next_state(state, event)
    return state


@given(st.sampled_from(State), events)
def test_every_sequence_of_events_has_a_state(start, sequence):
    assert run(sequence, start) in State


@given(st.sampled_from(State), events)
def test_a_commit_or_a_rebalance_ends_any_pause(start, sequence):
    state = run(sequence, start)
    if state is State.STOPPING:
        return
    assert next_state(state, Event.COMMITTED) is State.RUNNING
    assert next_state(next_state(state, Event.REVOKED), Event.ASSIGNED) is State.RUNNING
    assert next_state(next_state(state, Event.LOST), Event.ASSIGNED) is State.RUNNING
    assert next_state(state, Event.NOTHING_HELD) is State.RUNNING


@given(events)
def test_only_a_failure_pauses(sequence):
    state = State.RUNNING
    for event in sequence:
        new = next_state(state, event)
        if new.paused and not state.paused:
            assert event in (Event.DATABASE_FAILED, Event.BROKER_FAILED)
        state = new


@given(st.sampled_from(State), events)
def test_a_stop_is_final(start, sequence):
    assert run([Event.STOP, *sequence], start) is State.STOPPING


def test_the_pause_names_what_failed_last():
    assert run([Event.DATABASE_FAILED]) is State.PAUSED_FOR_DATABASE
    assert run([Event.DATABASE_FAILED, Event.BROKER_FAILED]) is State.PAUSED_FOR_BROKER
    assert run([Event.BROKER_FAILED, Event.ASSIGNED]) is State.PAUSED_FOR_BROKER  # an incremental assignment
