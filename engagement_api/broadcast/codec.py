"""The wire form of an announcement: `<conversation uuid>:<position>` (the same text that
the outbox's NOTIFY sends from inside the writing transaction)."""

import uuid

from engagement_api.events import Announcement


def encode(announcement: Announcement) -> str:
    return f"{announcement.conversation_id}:{announcement.position}"


def decode(payload: str | bytes) -> Announcement | None:
    """The announcement of a well-formed payload; None for anything else (logged by the
    caller)."""
    try:
        text = payload.decode() if isinstance(payload, bytes) else payload
        conversation, position = text.split(":")
        return Announcement(uuid.UUID(conversation), int(position))
    except (UnicodeDecodeError, ValueError):
        return None
