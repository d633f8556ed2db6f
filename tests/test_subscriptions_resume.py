"""Resumable subscriptions: `messageEvents(after:)` replays, in order and filtered per
viewer, every event since the cursor, then the live stream follows with no gap and no
duplicate; cursors that cannot be honoured are refused with a code; a cascade delete
tells each subscriber of the messages it removed; a process killed between its commit
and its announcement loses nothing.

Replays are compared with a plain reference model of the operations applied (which
events each viewer may see, given what exists when the replay is read)."""

import asyncio
import base64
import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.enums import Role
from engagement_api.db.outbox import OutboxReader
from engagement_api.resolvers.subscriptions import REPLAY_BATCH
from engagement_api.schema.ids import to_global_id
from tests.conftest import GraphQLClient, RunningServer, own_server, start_server
from tests.databases import row_locked, until_waiting_on_locks
from tests.factories import World
from tests.live_feed import (
    DELETE,
    EDIT,
    REDIS_URL,
    Thread,
    event_cursors,
    post,
    servers,
    thread,
)
from tests.ws_client import (
    GraphQLWebSocket,
    subscriptions_started,
    until_no_subscriptions,
    wait_until_subscribed,
)

FEED = """subscription Feed($id: ID!, $after: String) {
  messageEvents(conversationId: $id, after: $after) {
    kind messageId cursor message { id isInternal }
  }
}"""


async def _open_feed(ws: GraphQLWebSocket, conversation: str, after: str | None) -> str:
    return await ws.subscribe(FEED, {"id": conversation, "after": after})


async def _anchor(gql: GraphQLClient, server: RunningServer, feed: Thread) -> tuple[str, str]:
    """(message id, cursor) of a first message, as both viewers' feeds report it."""
    before = await subscriptions_started(server.url)
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.staff.token) as ws:
        operation = await _open_feed(ws, feed.conversation.gid, None)
        await wait_until_subscribed(server.url, before + 1)
        message = await post(gql, feed.staff, feed.conversation, "anchor")
        event = await ws.event(operation)
    assert event["messageId"] == message
    return message, str(event["cursor"])


@dataclass
class Reference:
    """The events of the operations applied, and which messages are internal or gone."""

    events: list[tuple[str, str]] = field(default_factory=list)
    internal: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    live: list[str] = field(default_factory=list)

    def seen_by(self, *, client: bool, since: int = 0) -> list[tuple[str, str]]:
        return [
            (kind, message)
            for kind, message in self.events[since:]
            if not (client and message in self.internal)
            and (kind == "DELETED" or message not in self.deleted)
        ]


Operation = tuple[str, int, bool]
OPERATION = st.tuples(
    st.sampled_from(["post", "edit", "delete"]), st.integers(0, 20), st.booleans()
)
OPERATIONS = st.lists(OPERATION, min_size=1, max_size=8)


async def _apply(
    gql: GraphQLClient, feed: Thread, operations: list[Operation], reference: Reference
) -> None:
    for action, pick, internal in operations:
        if action == "post" or not reference.live:
            message = await post(gql, feed.staff, feed.conversation, "m", internal=internal)
            reference.events.append(("POSTED", message))
            reference.live.append(message)
            if internal:
                reference.internal.add(message)
            continue
        message = reference.live[pick % len(reference.live)]
        if action == "edit":
            data = await gql.data(
                EDIT, {"input": {"id": message, "content": f"e{pick}"}}, token=feed.staff.token
            )
            assert data["editMessage"]["errors"] == []
            reference.events.append(("EDITED", message))
        else:
            data = await gql.data(DELETE, {"input": {"id": message}}, token=feed.staff.token)
            assert data["deleteMessage"]["errors"] == []
            reference.events.append(("DELETED", message))
            reference.live.remove(message)
            reference.deleted.add(message)


async def _replayed(
    server: RunningServer,
    gql: GraphQLClient,
    feed: Thread,
    token: str,
    cursor: str,
    count: int,
) -> tuple[list[tuple[str, str]], str]:
    """`count` replayed events, then a live marker that must come next (nothing extra)."""
    before = await subscriptions_started(server.url)
    async with GraphQLWebSocket.open(server.graphql_url, token=token) as ws:
        operation = await _open_feed(ws, feed.conversation.gid, cursor)
        received = [await ws.event(operation) for _ in range(count)]
        await wait_until_subscribed(server.url, before + 1)
        marker = await post(gql, feed.staff, feed.conversation, "marker")
        after = await ws.event(operation)
    assert (after["kind"], after["messageId"]) == ("POSTED", marker)
    for event in received:
        if event["message"] is not None:
            assert event["message"]["id"] == event["messageId"]
    return [(event["kind"], event["messageId"]) for event in received], marker


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=OPERATIONS)
async def test_resume_replays_what_each_viewer_missed_in_order_and_nothing_else(
    world: World, server: RunningServer, gql: GraphQLClient, operations: list[Operation]
) -> None:
    feed = await thread(world)
    _, cursor = await _anchor(gql, server, feed)
    reference = Reference()
    await _apply(gql, feed, operations, reference)
    for token, client in ((feed.staff.token, False), (feed.client.token, True)):
        expected = reference.seen_by(client=client)
        replayed, marker = await _replayed(server, gql, feed, token, cursor, len(expected))
        assert replayed == expected
        reference.events.append(("POSTED", marker))  # replayed to the next viewer too


THREAD_AND_FEED_POSITION = """query Thread($id: ID!) {
  conversation(id: $id) { messageEventsCursor messages(last: 100) { edges { node { id } } } }
}"""


async def _thread_read(gql: GraphQLClient, feed: Thread, token: str) -> tuple[list[str], str]:
    """The messages a viewer's thread shows, and the feed's position read with them."""
    data = await gql.data(THREAD_AND_FEED_POSITION, {"id": feed.conversation.gid}, token=token)
    conversation = data["conversation"]
    shown = [edge["node"]["id"] for edge in conversation["messages"]["edges"]]
    return shown, str(conversation["messageEventsCursor"])


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(before=st.lists(OPERATION, max_size=6), after=OPERATIONS)
async def test_a_thread_read_then_its_feed_from_the_position_read_with_it_has_no_gap_or_duplicate(
    world: World,
    server: RunningServer,
    gql: GraphQLClient,
    before: list[Operation],
    after: list[Operation],
) -> None:
    """A client loads the thread (and `messageEventsCursor` with it), then changes happen,
    then it subscribes from that position: the page shows exactly what came before, the
    feed exactly each change after, as each viewer may see them."""
    feed = await thread(world)
    reference = Reference()
    await _apply(gql, feed, before, reference)
    positions = {}
    for token, client in ((feed.staff.token, False), (feed.client.token, True)):
        shown, positions[client] = await _thread_read(gql, feed, token)
        assert shown == [m for m in reference.live if not (client and m in reference.internal)]
    read = len(reference.events)
    await _apply(gql, feed, after, reference)
    for token, client in ((feed.staff.token, False), (feed.client.token, True)):
        expected = reference.seen_by(client=client, since=read)
        replayed, marker = await _replayed(
            server, gql, feed, token, positions[client], len(expected)
        )
        assert replayed == expected
        reference.events.append(("POSTED", marker))


async def _prune_all_but_the_newest(database_url: str) -> None:
    reader = OutboxReader(database_url, connect_timeout=5)
    try:
        await reader.prune(keep=1, max_age_seconds=3600)
    finally:
        await reader.close()


@pytest.mark.parametrize("client", [False, True], ids=["staff", "client"])
async def test_a_thread_position_outlives_the_pruning_of_events_before_it_and_elsewhere(
    world: World, server: RunningServer, gql: GraphQLClient, database_url: str, client: bool
) -> None:
    """Retention drops the events before the position and other conversations' events:
    nothing the subscription would deliver is lost, so it is not refused as expired."""
    feed, other = await thread(world), await thread(world)
    token = feed.client.token if client else feed.staff.token
    await post(gql, feed.staff, feed.conversation, "before the read")
    await post(gql, feed.staff, feed.conversation, "internal, before", internal=True)
    _, position = await _thread_read(gql, feed, token)
    for n in range(2):  # the horizon passes the position
        await post(gql, other.staff, other.conversation, f"elsewhere {n}")
    await _prune_all_but_the_newest(database_url)
    after = await post(gql, feed.staff, feed.conversation, "after the read")
    replayed, _ = await _replayed(server, gql, feed, token, position, 1)
    assert replayed == [("POSTED", after)]


async def test_a_clients_thread_position_moves_only_with_what_the_client_is_shown(
    world: World, gql: GraphQLClient, database_url: str
) -> None:
    """The position is enciphered, but one cursor equals another for the same position: a
    CLIENT's must not move with internal notes, other threads or their pruning."""
    feed, other = await thread(world), await thread(world)
    public = await post(gql, feed.staff, feed.conversation, "public")
    _, first = await _thread_read(gql, feed, feed.client.token)
    note = await post(gql, feed.staff, feed.conversation, "note", internal=True)
    await gql.data(EDIT, {"input": {"id": note, "content": "note 2"}}, token=feed.staff.token)
    await gql.data(DELETE, {"input": {"id": note}}, token=feed.staff.token)
    await post(gql, other.staff, other.conversation, "elsewhere")
    await _prune_all_but_the_newest(database_url)
    _, unmoved = await _thread_read(gql, feed, feed.client.token)
    await gql.data(EDIT, {"input": {"id": public, "content": "edited"}}, token=feed.staff.token)
    _, moved = await _thread_read(gql, feed, feed.client.token)
    assert first == unmoved != moved


async def test_the_feed_position_of_a_thread_whose_events_were_pruned_is_not_expired(
    world: World, server: RunningServer, gql: GraphQLClient, database_url: str
) -> None:
    feed, other = await thread(world), await thread(world)
    await post(gql, feed.staff, feed.conversation, "pruned")
    await post(gql, other.staff, other.conversation, "newest")
    await _prune_all_but_the_newest(database_url)  # none of the thread's events stays
    _, position = await _thread_read(gql, feed, feed.client.token)
    after = await post(gql, feed.staff, feed.conversation, "after the read")
    replayed, _ = await _replayed(server, gql, feed, feed.client.token, position, 1)
    assert replayed == [("POSTED", after)]


BACKLOG = 3 * REPLAY_BATCH + 7
"""Missed events: a replay of several batches, long enough for commits to land during it."""
HELD_POSTS = 3
"""Fewer than the execution slots of a worker: the subscription and the marker need one."""


async def _positions_after(engine: AsyncEngine, feed: Thread, position: int) -> list[str]:
    """Message global ids of the conversation's events after `position`, in order."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT message_id FROM message_events"
                " WHERE conversation_id = :c AND position > :p ORDER BY position"
            ),
            {"c": feed.conversation.id, "p": position},
        )
        return [to_global_id("Message", row[0]) for row in rows]


async def test_resume_during_a_stream_of_posts_has_no_gap_and_no_duplicate(
    world: World, server: RunningServer, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    """Posts held back by a lock on their conversation commit once the subscriber is
    registered and while its replay of a long backlog is still reading batches: each such
    event is both replayed and queued live, and must be delivered once."""
    feed = await thread(world)
    _, cursor = await _anchor(gql, server, feed)
    anchor = (await event_cursors(owner_engine)).decode(cursor, feed.conversation.id)
    async with owner_engine.begin() as connection:  # missed events, written as the outbox has them
        await connection.execute(
            text(
                "INSERT INTO message_events"
                " (conversation_id, org_id, kind, message_id, is_internal)"
                " SELECT :c, :o, 'DELETED', gen_random_uuid(), false"
                " FROM generate_series(1, :n)"
            ),
            {"c": feed.conversation.id, "o": feed.org.id, "n": BACKLOG},
        )
    async with row_locked(owner_engine, "conversations", feed.conversation.id) as held:
        writers = [
            asyncio.create_task(post(gql, feed.staff, feed.conversation, f"during {n}"))
            for n in range(HELD_POSTS)
        ]
        await until_waiting_on_locks(owner_engine, HELD_POSTS)
        before = await subscriptions_started(server.url)
        async with GraphQLWebSocket.open(server.graphql_url, token=feed.client.token) as ws:
            operation = await _open_feed(ws, feed.conversation.gid, cursor)
            await wait_until_subscribed(server.url, before + 1)
            await held.commit()  # the held posts commit while the replay runs
            posted = await asyncio.gather(*writers)
            expected = await _positions_after(owner_engine, feed, anchor)
            marker = await post(gql, feed.staff, feed.conversation, "marker")
            received = [
                (await ws.event(operation))["messageId"] for _ in range(BACKLOG + HELD_POSTS + 1)
            ]
    assert sorted(expected[BACKLOG:]) == sorted(posted)
    assert received == [*expected, marker]


async def test_a_clients_cursors_show_nothing_of_the_events_it_is_not_shown(
    world: World, server: RunningServer, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    """Internal notes of its thread and another tenant's posts fall between two messages a
    CLIENT is shown: its cursors are the positions enciphered with the deployment's key,
    so they tell neither the positions nor how many events lay between."""
    feed, elsewhere = await thread(world), await thread(world)
    before = await subscriptions_started(server.url)
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.client.token) as ws:
        operation = await _open_feed(ws, feed.conversation.gid, None)
        await wait_until_subscribed(server.url, before + 1)
        shown = [await post(gql, feed.staff, feed.conversation, "first")]
        for n in range(3):
            await post(gql, feed.staff, feed.conversation, f"note {n}", internal=True)
            await post(gql, elsewhere.staff, elsewhere.conversation, f"theirs {n}")
        shown.append(await post(gql, feed.staff, feed.conversation, "second"))
        events = [await ws.event(operation) for _ in shown]
    assert [event["messageId"] for event in events] == shown
    positions = await _positions_of(owner_engine, feed)
    async with owner_engine.connect() as connection:
        key = await connection.scalar(text("SELECT key FROM message_event_cursor_key"))
    # The reference: AES of the position and the conversation's first 8 bytes, written
    # here with the library's primitives, not the server's codec.
    expected = []
    for message in shown:
        block = positions[message].to_bytes(8, "big") + feed.conversation.id.bytes[:8]
        encryptor = Cipher(algorithms.AES(bytes(key)), modes.ECB()).encryptor()
        token = b"\x02" + encryptor.update(block) + encryptor.finalize()
        expected.append(base64.urlsafe_b64encode(token).decode().rstrip("="))
    assert [event["cursor"] for event in events] == expected


def _legacy(feed: Thread, position: int) -> str:
    """A cursor of the earlier form: the position in the clear."""
    text = f"ev1:{feed.conversation.id.hex}:{position}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def _positions_of(engine: AsyncEngine, feed: Thread) -> dict[str, int]:
    """Each message's outbox position in the conversation, by global id (POSTED)."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT message_id, position FROM message_events"
                " WHERE conversation_id = :c AND kind = 'POSTED'"
            ),
            {"c": feed.conversation.id},
        )
        return {to_global_id("Message", row[0]): row[1] for row in rows}


async def test_cursors_that_cannot_be_honoured_are_refused_with_a_code(
    world: World,
    server: RunningServer,
    gql: GraphQLClient,
    database_url: str,
    owner_engine: AsyncEngine,
) -> None:
    feed, other = await thread(world), await thread(world)
    anchor, cursor = await _anchor(gql, server, feed)
    _, other_cursor = await _anchor(gql, server, other)
    anchor_position = (await _positions_of(owner_engine, feed))[anchor]
    refusals = {}
    async with GraphQLWebSocket.open(server.graphql_url, token=feed.staff.token) as ws:
        for name, after in (
            ("malformed", "not-a-cursor"),
            ("long", "x" * 100_000),
            ("other conversation", other_cursor),
            ("earlier form, of an event", _legacy(feed, anchor_position)),
            ("earlier form, beyond the newest", _legacy(feed, 2**40)),
        ):
            message = await ws.next(await _open_feed(ws, feed.conversation.gid, after))
            assert message["type"] == "error", message
            refusals[name] = message["payload"][0]["extensions"]["code"]
            assert len(str(message)) < 1_000
        reader = OutboxReader(database_url, connect_timeout=5)
        try:
            await post(gql, feed.staff, feed.conversation, "lost")
            await post(gql, other.staff, other.conversation, "newest")
            await reader.prune(keep=1, max_age_seconds=3600)  # only the newest event stays
        finally:
            await reader.close()
        message = await ws.next(await _open_feed(ws, feed.conversation.gid, cursor))
        refusals["pruned"] = message["payload"][0]["extensions"]["code"]
    assert refusals == {
        "malformed": "BAD_USER_INPUT",
        "long": "BAD_USER_INPUT",
        "other conversation": "BAD_USER_INPUT",
        "earlier form, of an event": "BAD_USER_INPUT",
        "earlier form, beyond the newest": "BAD_USER_INPUT",
        "pruned": "CURSOR_EXPIRED",
    }


async def test_deleting_an_engagement_emits_deleted_for_each_of_its_live_messages(
    world: World, server: RunningServer, gql: GraphQLClient
) -> None:
    feed = await thread(world)
    admin = await world.user(feed.org, Role.ADMIN)
    public = await post(gql, feed.staff, feed.conversation, "public")
    internal = await post(gql, feed.staff, feed.conversation, "internal", internal=True)
    gone = await post(gql, feed.staff, feed.conversation, "already deleted")
    await gql.data(DELETE, {"input": {"id": gone}}, token=feed.staff.token)
    before = await subscriptions_started(server.url)
    async with (
        GraphQLWebSocket.open(server.graphql_url, token=feed.staff.token) as staff_ws,
        GraphQLWebSocket.open(server.graphql_url, token=feed.client.token) as client_ws,
    ):
        staff_feed = await _open_feed(staff_ws, feed.conversation.gid, None)
        client_feed = await _open_feed(client_ws, feed.conversation.gid, None)
        await wait_until_subscribed(server.url, before + 2)
        engagement = await _engagement_of(gql, feed)
        data = await gql.data(
            "mutation($i: DeleteInput!) { deleteEngagement(input: $i) { errors { code } } }",
            {"i": {"id": engagement}},
            token=admin.token,
        )
        assert data["deleteEngagement"]["errors"] == []
        staff_events = [await staff_ws.event(staff_feed) for _ in range(2)]
        client_event = await client_ws.event(client_feed)
        # Then the end: the conversation is gone, and no event will ever come again.
        endings = [
            [await ws.next(operation), await ws.next(operation)]
            for ws, operation in ((staff_ws, staff_feed), (client_ws, client_feed))
        ]
    assert [(e["kind"], e["messageId"]) for e in staff_events] == [
        ("DELETED", public),
        ("DELETED", internal),
    ]
    assert (client_event["kind"], client_event["messageId"]) == ("DELETED", public)
    for (ending, completion), operation in zip(endings, (staff_feed, client_feed), strict=True):
        assert ending["payload"]["data"] is None
        assert [e["extensions"]["code"] for e in ending["payload"]["errors"]] == ["NOT_FOUND"]
        assert completion == {"id": operation, "type": "complete"}


async def _engagement_of(gql: GraphQLClient, feed: Thread) -> str:
    data = await gql.data(
        "query($id: ID!) { conversation(id: $id) { engagement { id } } }",
        {"id": feed.conversation.gid},
        token=feed.staff.token,
    )
    engagement: str = data["conversation"]["engagement"]["id"]
    return engagement


# A per-viewer cap across connections --------------------------------------------------


@pytest.fixture(scope="module")
def capped(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from own_server(
        database_url, tmp_path_factory, "capped", MAX_SUBSCRIPTIONS_PER_VIEWER="3"
    )


async def test_subscriptions_beyond_the_viewers_cap_across_sockets_are_refused(
    world: World, capped: RunningServer
) -> None:
    feed = await thread(world)
    before = await subscriptions_started(capped.url)
    async with (
        GraphQLWebSocket.open(capped.graphql_url, token=feed.client.token) as first,
        GraphQLWebSocket.open(capped.graphql_url, token=feed.client.token) as second,
        GraphQLWebSocket.open(capped.graphql_url, token=feed.staff.token) as staff,
    ):
        opened = [await _open_feed(first, feed.conversation.gid, None) for _ in range(2)]
        opened.append(await _open_feed(second, feed.conversation.gid, None))
        await wait_until_subscribed(capped.url, before + 3)
        refused = await second.next(await _open_feed(second, feed.conversation.gid, None))
        await _open_feed(staff, feed.conversation.gid, None)  # another viewer: not capped
        await wait_until_subscribed(capped.url, before + 4)
        await first.send({"id": opened[0], "type": "complete"})
        await asyncio.sleep(0.2)  # the completion is processed by the server in turn
        await _open_feed(second, feed.conversation.gid, None)
        await wait_until_subscribed(capped.url, before + 5)
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT_REACHED"


async def test_subscriptions_sent_at_once_beyond_the_cap_are_each_refused_as_they_start(
    world: World, gql: GraphQLClient, capped: RunningServer
) -> None:
    """Twelve subscribes of one viewer over three sockets, sent without waiting: three
    stream, and each other one is refused with an `error` message, never as a stream that
    starts and then fails."""
    feed = await thread(world)
    before = await subscriptions_started(capped.url)
    async with (
        GraphQLWebSocket.open(capped.graphql_url, token=feed.client.token) as first,
        GraphQLWebSocket.open(capped.graphql_url, token=feed.client.token) as second,
        GraphQLWebSocket.open(capped.graphql_url, token=feed.client.token) as third,
    ):
        sockets = [first, second, third] * 4
        operations = [await _open_feed(ws, feed.conversation.gid, None) for ws in sockets]
        await wait_until_subscribed(capped.url, before + 3)
        await post(gql, feed.staff, feed.conversation, "to the three")
        answers = [
            await ws.next(operation) for ws, operation in zip(sockets, operations, strict=True)
        ]
    kinds = sorted(
        answer["payload"][0]["extensions"]["code"]
        if answer["type"] == "error"
        else ("event" if "errors" not in answer["payload"] else f"{answer['type']} with errors")
        for answer in answers
    )
    assert kinds == ["SUBSCRIPTION_LIMIT_REACHED"] * 9 + ["event"] * 3


async def test_subscriptions_completed_as_soon_as_accepted_leave_the_viewers_count(
    world: World, capped: RunningServer
) -> None:
    """A subscription counts for its viewer from the moment it is accepted, and stops
    counting when the client completes it, however soon."""
    feed = await thread(world)
    async with GraphQLWebSocket.open(capped.graphql_url, token=feed.client.token) as ws:
        for _ in range(10):
            before = await subscriptions_started(capped.url)
            operation = await _open_feed(ws, feed.conversation.gid, None)
            await wait_until_subscribed(capped.url, before + 1)
            await ws.send({"id": operation, "type": "complete"})
        await until_no_subscriptions(capped.url)
        before = await subscriptions_started(capped.url)
        for _ in range(3):
            await _open_feed(ws, feed.conversation.gid, None)
        await wait_until_subscribed(capped.url, before + 3)


# A process killed between its commit and its announcement ------------------------------


async def test_an_event_whose_process_died_after_commit_still_reaches_subscribers(
    world: World, database_url: str, tmp_path: Path
) -> None:
    channel = {"REDIS_URL": REDIS_URL, "BROADCAST_CHANNEL": f"test_{uuid.uuid4().hex}"}
    feed = await thread(world)
    doomed_log = str(tmp_path / "doomed.log")
    with servers(database_url, tmp_path, 1, **channel) as (survivor,):
        doomed = start_server(database_url, doomed_log, FAULT_KILL_AFTER_COMMIT="true", **channel)
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                survivor_gql = GraphQLClient(http, survivor.graphql_url)
                _, cursor = await _anchor(survivor_gql, survivor, feed)
                before = await subscriptions_started(survivor.url)
                async with GraphQLWebSocket.open(
                    survivor.graphql_url, token=feed.client.token
                ) as live_ws:
                    live = await _open_feed(live_ws, feed.conversation.gid, None)
                    await wait_until_subscribed(survivor.url, before + 1)
                    with pytest.raises(httpx.TransportError):
                        await GraphQLClient(http, doomed.graphql_url).post(
                            "mutation($i: PostMessageInput!) { postMessage(input: $i)"
                            " { message { id } } }",
                            {"i": {"conversationId": feed.conversation.gid, "content": "last"}},
                            token=feed.staff.token,
                        )
                    assert doomed.process.wait(10) == -signal.SIGKILL
                    event = await live_ws.event(live)
                async with GraphQLWebSocket.open(
                    survivor.graphql_url, token=feed.client.token
                ) as resumed_ws:
                    resumed = await resumed_ws.event(
                        await _open_feed(resumed_ws, feed.conversation.gid, cursor)
                    )
        finally:
            if doomed.process.poll() is None:
                os.kill(doomed.process.pid, signal.SIGKILL)
    assert event["kind"] == "POSTED"
    assert resumed["messageId"] == event["messageId"]
