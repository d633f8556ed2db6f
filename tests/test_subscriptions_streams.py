"""Whole streams against a reference model: generated interleavings of posts (internal or
not), edits and deletes, with subscribers resuming at generated cursors while the
others stay live.

Each subscription's stream (its replay, then its live events) is compared, event by
event, with what the model says its viewer receives: a CLIENT nothing of an internal
message; a live POSTED or EDITED with the message as it is at delivery; a replayed one
with the message as it is when the replay is read, skipped when the message is gone by
then (its DELETED follows). Streams run past their first event, so every event after it
goes through the subscription's frame sink (schema/event_frames.py), and two staff
subscriptions of one socket share their audience's result; a marker posted at the end
must be every stream's next event (nothing extra, nothing late).
"""

from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import GraphQLClient, RunningServer
from tests.factories import World
from tests.live_feed import DELETE, EDIT, Thread, post, thread
from tests.ws_client import GraphQLWebSocket, subscriptions_started, wait_until_subscribed

FEED = """subscription Feed($id: ID!, $after: String) {
  messageEvents(conversationId: $id, after: $after) {
    kind messageId cursor message { id content isInternal }
  }
}"""

Seen = tuple[str, str, str | None]
"""(kind, message id, content or None for DELETED)."""


@dataclass
class Model:
    """The events committed so far and the messages' state now."""

    events: list[tuple[str, str]] = field(default_factory=list)
    content: dict[str, str] = field(default_factory=dict)
    internal: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    live: list[str] = field(default_factory=list)

    def view(self, index: int, *, client: bool) -> Seen | None:
        """What a viewer receives of event `index`, resolved now; None: nothing."""
        kind, message = self.events[index]
        if client and message in self.internal:
            return None
        if kind == "DELETED":
            return (kind, message, None)
        if message in self.deleted:
            return None
        return (kind, message, self.content[message])


@dataclass
class Stream:
    """One open subscription and the events (with their cursors) it received."""

    ws: GraphQLWebSocket
    operation: str
    client: bool
    cursors: list[tuple[int, str]] = field(default_factory=list)
    """(model event index, cursor) of each event received."""

    async def expect(self, model: Model, index: int) -> None:
        wanted = model.view(index, client=self.client)
        if wanted is None:
            return
        event = await self.ws.event(self.operation)
        assert _seen(event) == wanted
        self.cursors.append((index, str(event["cursor"])))


def _seen(event: dict[str, Any]) -> Seen:
    message = event["message"]
    if message is not None:
        assert message["id"] == event["messageId"]
    return (event["kind"], event["messageId"], None if message is None else message["content"])


Operation = tuple[str, int, bool]
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["post", "post", "edit", "delete"]), st.integers(0, 50), st.booleans()
    ),
    min_size=2,
    max_size=10,
)
RESUMES = st.lists(
    st.tuples(st.integers(0, 10), st.integers(0, 3), st.integers(0, 50), st.booleans()),
    max_size=3,
)
"""(after which operation, whose stream's cursor, which of its cursors, as the CLIENT)."""


async def _apply(
    gql: GraphQLClient, feed: Thread, model: Model, operation: Operation, number: int
) -> None:
    action, pick, internal = operation
    if action == "post" or not model.live:
        content = f"p{number}"
        message = await post(gql, feed.staff, feed.conversation, content, internal=internal)
        model.events.append(("POSTED", message))
        model.content[message] = content
        model.live.append(message)
        if internal:
            model.internal.add(message)
        return
    message = model.live[pick % len(model.live)]
    if action == "edit":
        content = f"e{number}"
        variables = {"input": {"id": message, "content": content}}
        data = await gql.data(EDIT, variables, token=feed.staff.token)
        assert data["editMessage"]["errors"] == []
        model.events.append(("EDITED", message))
        model.content[message] = content
    else:
        data = await gql.data(DELETE, {"input": {"id": message}}, token=feed.staff.token)
        assert data["deleteMessage"]["errors"] == []
        model.events.append(("DELETED", message))
        model.live.remove(message)
        model.deleted.add(message)


async def _subscribe(
    server: RunningServer, ws: GraphQLWebSocket, feed: Thread, after: str | None, client: bool
) -> Stream:
    before = await subscriptions_started(server.url)
    operation = await ws.subscribe(FEED, {"id": feed.conversation.gid, "after": after})
    await wait_until_subscribed(server.url, before + 1)
    return Stream(ws, operation, client)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=OPERATIONS, resumes=RESUMES)
# Long replays: after the first replayed event, the rest run as one batch (a replay batch
# executed in one run of the operation's plan, schema/event_frames.py).
@example(
    operations=[("post", 0, False), ("post", 0, True), ("edit", 0, False), ("post", 0, False)]
    + [("post", 0, n % 3 == 0) for n in range(5)]
    + [("delete", 1, False)],
    resumes=[(9, 0, 0, False), (9, 2, 0, True), (9, 1, 0, False)],
)
async def test_every_stream_is_what_the_model_says_its_viewer_receives(
    world: World,
    server: RunningServer,
    gql: GraphQLClient,
    operations: list[Operation],
    resumes: list[tuple[int, int, int, bool]],
) -> None:
    feed = await thread(world)
    model = Model()
    url = server.graphql_url
    async with (
        GraphQLWebSocket.open(url, token=feed.staff.token) as staff_ws,
        GraphQLWebSocket.open(url, token=feed.client.token) as client_ws,
    ):
        sockets = {False: staff_ws, True: client_ws}
        streams = [
            await _subscribe(server, staff_ws, feed, None, False),
            await _subscribe(server, staff_ws, feed, None, False),  # shares with the first
            await _subscribe(server, client_ws, feed, None, True),
        ]
        for number, operation in enumerate(operations):
            await _apply(gql, feed, model, operation, number)
            for stream in streams:
                await stream.expect(model, len(model.events) - 1)
            for _, whose, pick, client in (r for r in resumes if r[0] == number):
                cursors = streams[whose % len(streams)].cursors
                if not cursors:
                    continue
                index, cursor = cursors[pick % len(cursors)]
                resumed = await _subscribe(server, sockets[client], feed, cursor, client)
                for missed in range(index + 1, len(model.events)):  # the replay, read now
                    await resumed.expect(model, missed)
                streams.append(resumed)
        marker = await post(gql, feed.staff, feed.conversation, "marker")
        for stream in streams:
            event = await stream.ws.event(stream.operation)
            assert (event["kind"], event["messageId"]) == ("POSTED", marker)
