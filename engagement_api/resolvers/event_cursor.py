"""`MessageEvent.cursor`: opaque to clients; it names a conversation and an outbox
position. A cursor is only valid for its own conversation."""

import base64
import binascii
import uuid

from engagement_api.errors import BadUserInputError, ClientError

PREFIX = "ev1:"
MAX_LENGTH = 128


class CursorExpiredError(ClientError):
    code = "CURSOR_EXPIRED"
    default_message = (
        "Events after this cursor are no longer kept. Refetch the thread, then subscribe "
        "again without `after`."
    )


def encode(conversation_id: uuid.UUID, position: int) -> str:
    raw = f"{PREFIX}{conversation_id.hex}:{position}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, conversation_id: uuid.UUID) -> int:
    """The position `cursor` names in this conversation; BAD_USER_INPUT for anything else
    (malformed, or another conversation's)."""
    invalid = BadUserInputError(
        "`after` is not a cursor of this conversation's events.", argument="after"
    )
    if len(cursor) > MAX_LENGTH:
        raise invalid
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        if not text.startswith(PREFIX):
            raise invalid
        conversation, position = text[len(PREFIX) :].split(":")
        if uuid.UUID(hex=conversation) != conversation_id or not position.isdigit():
            raise invalid
        return int(position)
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise invalid from error
