"""Message events: written to the outbox (db/outbox.py) in the writing transaction, then
announced to every process, which reads them back from the outbox."""

import uuid
from dataclasses import dataclass
from enum import Enum


class MessageEventKind(Enum):
    POSTED = "POSTED"
    EDITED = "EDITED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One committed outbox row. Ids only: each audience loads the message with its own
    permissions."""

    position: int
    conversation_id: uuid.UUID
    org_id: uuid.UUID
    kind: MessageEventKind
    message_id: uuid.UUID
    is_internal: bool


@dataclass(frozen=True, slots=True)
class Announcement:
    """What a notification carries: a conversation has outbox rows up to `position`
    (the listeners read them from the outbox)."""

    conversation_id: uuid.UUID
    position: int
