"""Message events: recorded by mutations, published only after their transaction commits."""

import uuid
from dataclasses import dataclass
from enum import Enum


class MessageEventKind(Enum):
    POSTED = "POSTED"
    EDITED = "EDITED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """Ids only (NOTIFY payloads are small); subscribers load the message with their own
    permissions."""

    kind: MessageEventKind
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    org_id: uuid.UUID
    is_internal: bool
