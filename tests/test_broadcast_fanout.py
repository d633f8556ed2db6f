"""The process-local fan-out and the wire codec of the live feed."""

import uuid

from engagement_api.broadcast import EventsMissed, Fanout, FellBehind
from engagement_api.broadcast.codec import decode, encode
from engagement_api.events import MessageEvent, MessageEventKind


def _event(
    conversation_id: uuid.UUID, kind: MessageEventKind = MessageEventKind.POSTED
) -> MessageEvent:
    return MessageEvent(kind, uuid.uuid4(), conversation_id, uuid.uuid4(), is_internal=False)


async def test_events_reach_only_the_subscribers_of_their_conversation() -> None:
    fanout = Fanout(queue_size=4, concurrent_resolutions=1)
    followed, other = uuid.uuid4(), uuid.uuid4()
    with fanout.subscription(followed) as subscriber, fanout.subscription(other) as bystander:
        event = _event(followed)
        fanout.deliver(_event(uuid.uuid4()))
        fanout.deliver(event)
        assert await subscriber.next() == event
        fanout.announce_gap()
        assert await bystander.next() == EventsMissed()


async def test_a_full_queue_drops_its_events_and_closes_the_subscriber() -> None:
    fanout = Fanout(queue_size=2, concurrent_resolutions=1)
    conversation = uuid.uuid4()
    with fanout.subscription(conversation) as slow:
        for _ in range(3):
            fanout.deliver(_event(conversation))
        fanout.deliver(_event(conversation))  # after closing: ignored
        assert await slow.next() == FellBehind(queue_size=2)
        assert slow.closed


def test_a_subscription_is_unregistered_when_its_block_ends() -> None:
    fanout = Fanout(queue_size=2, concurrent_resolutions=1)
    with fanout.subscription(uuid.uuid4()):
        assert fanout.count == 1
    assert (fanout.count, fanout.started) == (0, 1)


def test_payload_round_trips_and_stays_far_below_the_notify_limit() -> None:
    event = _event(uuid.uuid4(), MessageEventKind.DELETED)
    payload = encode(event)
    assert decode(payload) == event
    assert len(payload.encode()) < 8000 // 40


def test_malformed_payloads_decode_to_nothing() -> None:
    assert decode("not json") is None
    assert decode('{"k": "POSTED"}') is None
    assert decode('{"k": "SHOUTED", "m": "x", "c": "x", "o": "x", "i": false}') is None
