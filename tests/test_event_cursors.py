"""Event cursors (`resolvers/event_cursor.py`) over generated conversations, positions and
keys: each reads back to its position in its own conversation only; a changed one, one
of another conversation or another key, and any other text is BAD_USER_INPUT; none shows
its position. Cursors of the earlier form, the position in the clear, are refused."""

import base64
import os
import string
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engagement_api.errors import BadUserInputError
from engagement_api.resolvers.event_cursor import EventCursors

keys = st.binary(min_size=32, max_size=32)
positions = st.integers(0, 2**63 - 1)
conversations = st.uuids()


def _raw(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


@given(key=keys, conversation=conversations, position=positions)
def test_a_cursor_reads_back_to_its_position_and_shows_nothing_of_it(
    key: bytes, conversation: uuid.UUID, position: int
) -> None:
    cursors = EventCursors(key)
    cursor = cursors.encode(conversation, position)
    assert cursors.decode(cursor, conversation) == position
    assert position.to_bytes(8, "big") not in _raw(cursor)


@given(key=keys, conversation=conversations, other=conversations, position=positions)
def test_a_cursor_of_another_conversation_or_key_is_refused(
    key: bytes, conversation: uuid.UUID, other: uuid.UUID, position: int
) -> None:
    cursor = EventCursors(key).encode(conversation, position)
    if other.bytes[:8] != conversation.bytes[:8]:
        with pytest.raises(BadUserInputError):
            EventCursors(key).decode(cursor, other)
    with pytest.raises(BadUserInputError):
        EventCursors(os.urandom(32)).decode(cursor, conversation)


@given(key=keys, conversation=conversations, position=positions, data=st.data())
def test_a_changed_cursor_is_refused(
    key: bytes, conversation: uuid.UUID, position: int, data: st.DataObject
) -> None:
    cursors = EventCursors(key)
    raw = bytearray(_raw(cursors.encode(conversation, position)))
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] ^= data.draw(st.integers(1, 255))
    changed = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(BadUserInputError):
        cursors.decode(changed, conversation)


@given(key=keys, conversation=conversations, text=st.text(max_size=200))
def test_any_text_is_a_position_of_the_conversation_or_refused(
    key: bytes, conversation: uuid.UUID, text: str
) -> None:
    try:
        position = EventCursors(key).decode(text, conversation)
    except BadUserInputError:
        return
    assert position >= 0


@given(key=keys, conversation=conversations, position=positions)
def test_a_cursor_of_the_earlier_form_is_refused(
    key: bytes, conversation: uuid.UUID, position: int
) -> None:
    """Anyone can write one: accepting them would tell which positions exist."""
    legacy = base64.urlsafe_b64encode(f"ev1:{conversation.hex}:{position}".encode()).decode()
    with pytest.raises(BadUserInputError):
        EventCursors(key).decode(legacy.rstrip("="), conversation)


TEXT_CHANGES = string.ascii_letters + string.digits + "-_+/=. \n*!"


@settings(max_examples=10)
@given(key=keys, conversation=conversations, position=positions)
def test_every_change_of_one_character_of_a_cursor_is_refused(
    key: bytes, conversation: uuid.UUID, position: int
) -> None:
    """Each character replaced by every other one, removed, or with one put before it;
    the decoder alone skips characters outside its alphabet and a last character's
    spare bits."""
    cursors = EventCursors(key)
    cursor = cursors.encode(conversation, position)
    changed = {cursor[:i] + cursor[i + 1 :] for i in range(len(cursor))}
    for i in range(len(cursor) + 1):
        for character in TEXT_CHANGES:
            changed.add(cursor[:i] + character + cursor[i + 1 :])
            changed.add(cursor[:i] + character + cursor[i:])
    changed.discard(cursor)
    accepted = []
    for text in changed:
        try:
            cursors.decode(text, conversation)
        except BadUserInputError:
            continue
        accepted.append(text)
    assert accepted == []
