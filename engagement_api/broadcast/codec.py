"""The wire form of a message event: compact JSON of ids and flags (NOTIFY payloads are
limited to 8,000 bytes; this one is about 170)."""

import uuid

import orjson

from engagement_api.events import MessageEvent, MessageEventKind


def encode(event: MessageEvent) -> str:
    return orjson.dumps(
        {
            "k": event.kind.value,
            "m": str(event.message_id),
            "c": str(event.conversation_id),
            "o": str(event.org_id),
            "i": event.is_internal,
        }
    ).decode()


def decode(payload: str | bytes) -> MessageEvent | None:
    """The event of a well-formed payload; None for anything else (logged by the caller)."""
    try:
        data = orjson.loads(payload)
        return MessageEvent(
            kind=MessageEventKind(data["k"]),
            message_id=uuid.UUID(data["m"]),
            conversation_id=uuid.UUID(data["c"]),
            org_id=uuid.UUID(data["o"]),
            is_internal=bool(data["i"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
