"""The consume loop's states, and the one function that moves between them.

Every (state, event) pair has a next state, so no fault arriving in any state can leave the loop somewhere it
cannot leave: a write that succeeds leads back to running from any pause, and a rebalance (revoked, lost) ends a
pause, because the batches the pause was holding are given up with the partitions they came from.

    running ──database down──▶ paused for the database ──a batch committed──▶ running
    running ──dead letters unconfirmed──▶ paused for the broker ──a batch committed──▶ running
    paused ──nothing held──▶ running
    any ──revoked──▶ revoked ──assigned──▶ running
    any ──lost──▶ lost ──assigned──▶ running
    any ──stop──▶ stopping (final)

Only the paused states keep the partitions paused and hold batches that wait; revoked and lost hold nothing.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Event", "State", "next_state"]


class State(StrEnum):
    RUNNING = "running"
    PAUSED_FOR_DATABASE = "paused for the database"
    PAUSED_FOR_BROKER = "paused for the broker"
    REVOKED = "revoked"
    LOST = "lost"
    STOPPING = "stopping"

    @property
    def paused(self) -> bool:
        return self in (State.PAUSED_FOR_DATABASE, State.PAUSED_FOR_BROKER)


class Event(StrEnum):
    COMMITTED = "a batch committed"
    NOTHING_HELD = "nothing held"
    DATABASE_FAILED = "the database failed"
    BROKER_FAILED = "the broker failed"
    REVOKED = "partitions revoked"
    LOST = "partitions lost"
    ASSIGNED = "partitions assigned"
    STOP = "stop"


_FAILED = {Event.DATABASE_FAILED: State.PAUSED_FOR_DATABASE, Event.BROKER_FAILED: State.PAUSED_FOR_BROKER}


def next_state(state: State, event: Event) -> State:
    """Where `event` takes the loop from `state`; defined for every pair."""
    if state is State.STOPPING or event is Event.STOP:
        return State.STOPPING
    if event is Event.REVOKED:
        return State.REVOKED
    if event is Event.LOST:
        return State.LOST
    if event in _FAILED:
        return _FAILED[event]
    if event is Event.ASSIGNED:
        # An assignment while paused (an incremental one) adds partitions to the pause; after a revoke or a
        # loss it starts afresh.
        return state if state.paused else State.RUNNING
    return State.RUNNING  # COMMITTED or NOTHING_HELD: nothing waits any more
