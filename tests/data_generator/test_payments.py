"""The synthetic stream: valid by the contract, realistic, and the same for the same seed."""

import json
from collections import Counter
from decimal import Decimal

import pytest

from data_generator.payments import PaymentStream, User
from data_generator.publisher import Pacer
from payments_core.contract import ContractError, PaymentEvent, parse
from payments_core.db.seed import seed_users

USERS = [User(str(u.user_id), u.username) for u in seed_users()]


def take(stream, n):
    return [next(stream) for _ in range(n)]


def test_every_generated_event_meets_the_contract_and_is_keyed_by_its_id():
    for generated in take(PaymentStream(USERS, seed=1), 20_000):
        event = parse(PaymentEvent, generated.value)
        assert generated.key == str(event.transaction_id).encode()
        assert event.sender_id != event.receiver_id


def test_the_stream_is_realistic():
    generated = take(PaymentStream(USERS, seed=2), 20_000)
    events = [parse(PaymentEvent, g.value) for g in generated]
    new = [e for e, g in zip(events, generated, strict=True) if g.kind == "new"]
    above = sum(e.amount > Decimal(8000) for e in new) / len(new)
    currencies = Counter(e.currency_code for e in new)
    user_ids = {u.user_id for u in USERS}

    assert 0.005 < above < 0.03, f"a small share is suspicious, not {above:.3f}"
    assert currencies.most_common(1)[0][0] == 840 and len(currencies) >= 5
    assert {str(e.sender_id) for e in events} | {str(e.receiver_id) for e in events} <= user_ids
    assert all(e.amount == e.amount.quantize(Decimal(1)) for e in new if e.currency_code == 392), "yen: no cents"


def test_a_pending_payment_is_settled_later_under_the_same_id():
    generated = take(PaymentStream(USERS, seed=3), 5000)
    history: dict[str, list[tuple[str, str]]] = {}
    for g in generated:
        data = json.loads(g.value)
        history.setdefault(data["transaction_id"], []).append((data["status"], g.kind))
    settled = [h for h in history.values() if len(h) == 2]

    assert len(settled) > 1000
    for (first, first_kind), (second, second_kind) in settled:
        assert (first, first_kind, second_kind) == ("pending", "new", "settled")
        assert second in ("completed", "failed")
    assert Counter(second for (_, _), (second, _) in settled)["failed"] > 0


def test_a_stuck_ratio_leaves_that_share_of_pending_payments_never_settled():
    generated = take(PaymentStream(USERS, seed=3, stuck_ratio=0.25), 20_000)
    statuses: dict[str, list[str]] = {}
    for g in generated:
        statuses.setdefault(json.loads(g.value)["transaction_id"], []).append(g.kind)
    started_pending = [kinds for kinds in statuses.values() if kinds[0] in ("new", "stuck")
                       and (kinds[0] == "stuck" or len(kinds) == 2)]
    stuck = [kinds for kinds in started_pending if kinds[0] == "stuck"]

    assert all(kinds == ["stuck"] for kinds in stuck), "a stuck payment is never sent again"
    assert 0.2 < len(stuck) / len(started_pending) < 0.3


def test_the_same_seed_gives_the_same_payments_and_another_seed_others():
    def content(seed):
        stream = PaymentStream(USERS, seed=seed, clock=lambda: 1_750_000_000.0)
        return [g.value for g in take(stream, 2000)]

    assert content(7) == content(7)
    assert content(7) != content(8)


def test_injected_invalid_events_are_refused_by_the_contract_or_name_an_unknown_user():
    generated = take(PaymentStream(USERS, seed=4, invalid_ratio=0.2), 5000)
    invalid = [g for g in generated if g.kind == "invalid"]

    assert 0.15 < len(invalid) / len(generated) < 0.25
    refused = 0
    for g in invalid:
        try:
            event = parse(PaymentEvent, g.value)
        except ContractError:
            refused += 1
            continue
        # The rest pass the contract but refer to what does not exist: the ingestion service refuses those.
        assert str(event.sender_id) not in {u.user_id for u in USERS} or event.currency_code == 1
    assert refused > len(invalid) / 2


def test_no_invalid_event_unless_asked():
    assert all(g.kind != "invalid" for g in take(PaymentStream(USERS, seed=5), 5000))


def test_two_users_are_needed():
    with pytest.raises(ValueError, match="at least two users"):
        PaymentStream(USERS[:1])


def test_the_pacer_allows_rate_events_a_second():
    now = [100.0]
    pacer = Pacer(rate=4, clock=lambda: now[0])

    assert pacer.allowed() == 1
    now[0] += 0.5
    assert pacer.allowed() == 3
    assert pacer.wait(3) == pytest.approx(0.25)
    now[0] += 10
    assert pacer.allowed() == 43


def test_a_rate_of_zero_is_unlimited():
    assert Pacer(rate=0).allowed() > 10**9
