"""`MessageEvent.cursor`: opaque to clients; it names a conversation and an outbox
position, and is only valid for its own conversation.

Positions come from one sequence for every conversation and tenant, internal notes
included, so a position in the clear would tell a CLIENT how many events it was not shown
between two it was. A cursor is therefore one AES block enciphered with the deployment's
key (`message_event_cursor_key`, read by the outbox reader): the position and the first
half of the conversation's id. Without the key, a cursor tells nothing and none can be
made; a changed one deciphers to another conversation and is refused. Cursors of the
earlier form (`ev1:`, the position in the clear) are refused: anyone can write one, and
which positions a server accepts would again tell what happened in between.
"""

import base64
import binascii
import functools
import logging
import uuid
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from engagement_api.db.outbox import OutboxReader
from engagement_api.errors import BadUserInputError, ClientError, ServiceUnavailableError

if TYPE_CHECKING:
    from engagement_api.context import RequestContext

logger = logging.getLogger(__name__)

VERSION = b"\x02"
BLOCK_BYTES = 16
MAX_LENGTH = 128


class CursorExpiredError(ClientError):
    code = "CURSOR_EXPIRED"
    default_message = (
        "Events after this cursor are no longer kept. Read the thread again, then subscribe "
        "with `after` set to its `messageEventsCursor`."
    )


def invalid_cursor() -> BadUserInputError:
    return BadUserInputError(
        "`after` is not a cursor of this conversation's events.", argument="after"
    )


class EventCursors:
    """Mints and reads cursors with one key."""

    def __init__(self, key: bytes) -> None:
        # One block, never chained: ECB is the block cipher itself, a keyed permutation.
        self._cipher = Cipher(algorithms.AES(key), modes.ECB())

    def encode(self, conversation_id: uuid.UUID, position: int) -> str:
        encryptor = self._cipher.encryptor()
        block = encryptor.update(position.to_bytes(8, "big") + conversation_id.bytes[:8])
        return _text(VERSION + block + encryptor.finalize())

    def decode(self, cursor: str, conversation_id: uuid.UUID) -> int:
        """The position `cursor` names in this conversation; BAD_USER_INPUT for anything
        else (malformed, changed in any character, or another conversation's)."""
        if len(cursor) > MAX_LENGTH:
            raise invalid_cursor()
        try:
            raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii"))
        except (binascii.Error, UnicodeError, ValueError) as error:
            raise invalid_cursor() from error
        # The decoder skips characters outside the alphabet and a last character's spare
        # bits: only the text `encode` writes for these bytes is this cursor.
        if len(raw) != 1 + BLOCK_BYTES or raw[:1] != VERSION or _text(raw) != cursor:
            raise invalid_cursor()
        decryptor = self._cipher.decryptor()
        block = decryptor.update(raw[1:]) + decryptor.finalize()
        if block[8:] != conversation_id.bytes[:8]:
            raise invalid_cursor()
        return int.from_bytes(block[:8], "big")


async def cursors_of(reader: OutboxReader) -> EventCursors:
    """The cursors of the deployment `reader` reads from."""
    return _cursors(await reader.cursor_key())


async def feed_cursor(
    context: "RequestContext", conversation_id: uuid.UUID, position: int
) -> str | None:
    """The cursor of `position` in the conversation's feed; None where no live feed runs."""
    if context.broadcaster is None:
        return None
    try:
        cursors = await cursors_of(context.broadcaster.fanout.reader)
    except Exception as error:
        logger.warning("could not read the event cursors' key", exc_info=True)
        raise ServiceUnavailableError() from error
    return cursors.encode(conversation_id, position)


@functools.lru_cache(maxsize=4)
def _cursors(key: bytes) -> EventCursors:
    return EventCursors(key)


def _text(token: bytes) -> str:
    return base64.urlsafe_b64encode(token).decode().rstrip("=")
