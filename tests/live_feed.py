"""Shared pieces of the live-feed tests: servers started for them, posting through the
public API, the conversation world a feed test needs."""

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.enums import Role
from engagement_api.resolvers.event_cursor import EventCursors
from tests.conftest import GraphQLClient, RunningServer, start_server, stop_server
from tests.factories import Made, World
from tests.private_redis import private_redis_url

REDIS_URL = private_redis_url()

POST = """mutation Post($input: PostMessageInput!) {
  postMessage(input: $input) { message { id } errors { code message } }
}"""
EDIT = """mutation Edit($input: EditMessageInput!) {
  editMessage(input: $input) { message { id } errors { code message } }
}"""
DELETE = """mutation Delete($input: DeleteInput!) {
  deleteMessage(input: $input) { deletedId errors { code message } }
}"""


def backend_environment(backend: str) -> dict[str, str]:
    """Server environment of a backend; each test session gets its own Redis channel
    (pub/sub channels are global to a Redis server)."""
    if backend == "redis":
        return {"REDIS_URL": REDIS_URL, "BROADCAST_CHANNEL": f"test_{uuid.uuid4().hex}"}
    return {}


@contextmanager
def servers(
    database_url: str, directory: Path, count: int, **environment: str
) -> Iterator[list[RunningServer]]:
    """`count` server processes on the same database and broadcast channel."""
    running: list[RunningServer] = []
    try:
        for index in range(count):
            log = str(directory / f"server{index}.log")
            running.append(start_server(database_url, log, **environment))
        yield running
    finally:
        for server in running:
            stop_server(server)


@dataclass(frozen=True)
class Thread:
    """One conversation of a client's engagement, with its staff member and its client."""

    org: Made
    staff: Made
    client: Made
    conversation: Made


async def thread(world: World) -> Thread:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    engagement = await world.engagement(org, client)
    conversation = await world.conversation(engagement, subject="Live")
    return Thread(org, staff, client, conversation)


async def post(
    gql: GraphQLClient, author: Made, conversation: Made, content: str, *, internal: bool = False
) -> str:
    """Post through the public `postMessage` mutation; the new message's global id."""
    variables: dict[str, Any] = {
        "input": {"conversationId": conversation.gid, "content": content, "isInternal": internal}
    }
    data = await gql.data(POST, variables, token=author.token)
    assert data["postMessage"]["errors"] == [], data
    message_id: str = data["postMessage"]["message"]["id"]
    return message_id


async def event_cursors(engine: AsyncEngine) -> EventCursors:
    """The cursors the servers of `engine`'s database mint and read (its key)."""
    async with engine.connect() as connection:
        key = await connection.scalar(text("SELECT key FROM message_event_cursor_key"))
    return EventCursors(bytes(key))


async def flood(gql: GraphQLClient, feed: Thread, stop: asyncio.Event, size: int) -> None:
    """Posts to the feed's conversation, one message of about `size` characters after
    another, until `stop` is set: its subscribers are sent events all the while."""
    n = 0
    while not stop.is_set():
        await post(gql, feed.staff, feed.conversation, f"flood {n} " + "x" * size)
        n += 1
