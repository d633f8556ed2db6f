"""Mutations that race on one conversation end as if they had run one after the other.

Each test holds a lock on the conversation from another connection, lets the racing
mutations queue behind it in a chosen order (PostgreSQL grants a row's lock to its waiters
in turn), then lets go. Under READ COMMITTED a statement reads the snapshot it began with:
one that waited inside for another transaction's commit does not see what it wrote."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.enums import Role
from engagement_api.schema.ids import parse_global_id, to_global_id
from tests.conftest import GraphQLClient
from tests.databases import waiting_on_locks
from tests.factories import World
from tests.live_feed import DELETE, Thread, post, thread
from tests.mutations import PROJECT_AND_POST
from tests.raw_http import GUARD_SECONDS

DELETE_ENGAGEMENT = """mutation Delete($input: DeleteInput!) {
  deleteEngagement(input: $input) { deletedId errors { code message } }
}"""


@asynccontextmanager
async def _held(
    engine: AsyncEngine, lock: str, parameters: dict[str, Any] | None = None
) -> AsyncIterator[list["asyncio.Task[Any]"]]:
    """`lock` taken by another connection; yields a list: each task appended must be
    waiting behind the lock before the next is started (`_queue`); the lock is let go on
    leaving."""
    async with engine.connect() as connection:
        held = await connection.begin()
        await connection.execute(text(lock), parameters or {})
        queued: list[asyncio.Task[Any]] = []
        yield queued
        await held.commit()


def _conversation_held(
    engine: AsyncEngine, conversation_id: uuid.UUID
) -> AbstractAsyncContextManager[list["asyncio.Task[Any]"]]:
    return _held(
        engine, "SELECT id FROM conversations WHERE id = :c FOR UPDATE", {"c": conversation_id}
    )


async def _queue(
    engine: AsyncEngine, queued: list["asyncio.Task[Any]"], work: Awaitable[Any]
) -> None:
    queued.append(asyncio.ensure_future(work))
    async with asyncio.timeout(GUARD_SECONDS):
        while await waiting_on_locks(engine) < len(queued):
            assert not queued[-1].done(), queued[-1].result()
            await asyncio.sleep(0.02)


async def _engagement_delete(
    world: World, gql: GraphQLClient, engine: AsyncEngine, feed: Thread
) -> Awaitable[dict[str, Any]]:
    """An ADMIN's deleteEngagement of the thread's engagement, not yet awaited."""
    admin = await world.user(feed.org, Role.ADMIN)
    async with engine.connect() as connection:
        engagement = await connection.scalar(
            text("SELECT engagement_id FROM conversations WHERE id = :c"),
            {"c": feed.conversation.id},
        )
    return gql.data(
        DELETE_ENGAGEMENT,
        {"input": {"id": to_global_id("Engagement", engagement)}},
        token=admin.token,
    )


async def test_a_delete_queued_behind_a_post_recomputes_the_activity_with_the_post(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    feed = await thread(world)
    old = await post(gql, feed.staff, feed.conversation, "old")
    delete = gql.data(DELETE, {"input": {"id": old}}, token=feed.staff.token)
    async with _conversation_held(owner_engine, feed.conversation.id) as queued:
        await _queue(owner_engine, queued, post(gql, feed.staff, feed.conversation, "new"))
        await _queue(owner_engine, queued, delete)
    new, deleted = await asyncio.gather(*queued)
    assert deleted["deleteMessage"]["errors"] == []
    async with owner_engine.connect() as connection:
        times = (
            await connection.execute(
                text(
                    "SELECT c.last_message_at, c.last_public_message_at, m.created_at"
                    " FROM conversations c JOIN conversation_messages m ON m.id = :m"
                    " WHERE c.id = :c"
                ),
                {"c": feed.conversation.id, "m": parse_global_id(new, "Message")},
            )
        ).one()
    assert times[0] == times[1] == times[2]


async def test_an_engagement_deleted_behind_a_post_records_that_message_deleted_too(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    feed = await thread(world)
    delete = await _engagement_delete(world, gql, owner_engine, feed)
    async with _conversation_held(owner_engine, feed.conversation.id) as queued:
        await _queue(owner_engine, queued, post(gql, feed.client, feed.conversation, "late"))
        await _queue(owner_engine, queued, delete)
    late, deleted = await asyncio.gather(*queued)
    assert deleted["deleteEngagement"]["errors"] == []
    async with owner_engine.connect() as connection:
        kinds = (
            await connection.scalars(
                text("SELECT kind FROM message_events WHERE message_id = :m ORDER BY position"),
                {"m": parse_global_id(late, "Message")},
            )
        ).all()
    assert kinds == ["POSTED", "DELETED"]


SIGN = """mutation Sign($input: SignProposalInput!) {
  signProposal(input: $input) { order { id } errors { code message } }
}"""
CREATE = """mutation Create($input: CreateEngagementInput!) {
  createEngagement(input: $input) { engagement { id } errors { code message } }
}"""


async def test_signing_a_converted_proposal_and_deleting_its_engagement_both_succeed(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    """The signing holds its proposal and waits to write its order; the delete then starts.
    Taking the engagement before the proposal, the delete deadlocked with the signing."""
    feed = await thread(world)
    admin = await world.user(feed.org, Role.ADMIN)
    proposal = await world.proposal(feed.org, feed.client)
    created = await gql.data(
        CREATE,
        {"input": {"clientId": feed.client.gid, "proposalId": proposal.gid}},
        token=feed.staff.token,
    )
    engagement = created["createEngagement"]["engagement"]["id"]
    sign = gql.data(SIGN, {"input": {"proposalId": proposal.gid}}, token=feed.client.token)
    delete = gql.data(DELETE_ENGAGEMENT, {"input": {"id": engagement}}, token=admin.token)
    async with _held(owner_engine, "LOCK TABLE orders IN SHARE MODE") as queued:  # no order
        await _queue(owner_engine, queued, sign)
        await _queue(owner_engine, queued, delete)
    signed, deleted = await asyncio.gather(*queued)
    assert (signed["signProposal"]["errors"], deleted["deleteEngagement"]["errors"]) == ([], [])
    async with owner_engine.connect() as connection:
        order = (
            await connection.execute(
                text("SELECT engagement_id FROM orders WHERE proposal_id = :p"),
                {"p": proposal.id},
            )
        ).one()
        converted = await connection.scalar(
            text("SELECT converted_engagement_id FROM proposals WHERE id = :p"),
            {"p": proposal.id},
        )
    assert (order[0], converted) == (None, None)


EDIT = """mutation Edit($input: EditMessageInput!) {
  editMessage(input: $input) { message { id } errors { code message } }
}"""


async def test_an_edit_queued_behind_its_engagements_delete_finds_the_message_gone(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    """The delete takes the conversation, then its messages; an edit that took its
    message first and then waited for the conversation deadlocked with it."""
    feed = await thread(world)
    message = await post(gql, feed.staff, feed.conversation, "to edit")
    delete = await _engagement_delete(world, gql, owner_engine, feed)
    edit = gql.data(EDIT, {"input": {"id": message, "content": "late"}}, token=feed.staff.token)
    async with _conversation_held(owner_engine, feed.conversation.id) as queued:
        await _queue(owner_engine, queued, delete)
        await _queue(owner_engine, queued, edit)
    deleted, edited = await asyncio.gather(*queued)
    assert deleted["deleteEngagement"]["errors"] == []
    assert [error["code"] for error in edited["editMessage"]["errors"]] == ["NOT_FOUND"]


CLOSE_ENGAGEMENT = """mutation Close($input: SetEngagementStatusInput!) {
  setEngagementStatus(input: $input) { engagement { status } errors { code message } }
}"""


async def _engagement_of(engine: AsyncEngine, conversation_id: uuid.UUID) -> str:
    async with engine.connect() as connection:
        engagement = await connection.scalar(
            text("SELECT engagement_id FROM conversations WHERE id = :c"), {"c": conversation_id}
        )
    return to_global_id("Engagement", engagement)


async def test_an_engagement_closing_while_a_post_is_in_flight_waits_for_the_post(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    """A post checks that its engagement is open, then writes: the close must not commit in
    between (domain rules §3: a CLOSED engagement takes no message). It waits for the post,
    as it waits for a project being created."""
    feed = await thread(world)
    engagement = await _engagement_of(owner_engine, feed.conversation.id)
    close = gql.data(
        CLOSE_ENGAGEMENT, {"input": {"id": engagement, "status": "CLOSED"}}, token=feed.staff.token
    )
    async with _conversation_held(owner_engine, feed.conversation.id) as queued:
        await _queue(owner_engine, queued, post(gql, feed.client, feed.conversation, "in flight"))
        await _queue(owner_engine, queued, close)  # old code: committed here, past the post
    posted, closed = await asyncio.gather(*queued)  # the post asserts its own success
    assert closed["setEngagementStatus"] == {"engagement": {"status": "CLOSED"}, "errors": []}
    async with owner_engine.connect() as connection:
        closed_at, updated_at, posted_at = (
            await connection.execute(
                text(
                    "SELECT e.closed_at, e.updated_at, m.created_at"
                    " FROM engagements e, conversation_messages m WHERE e.id = :e AND m.id = :m"
                ),
                {
                    "e": parse_global_id(engagement, "Engagement"),
                    "m": parse_global_id(posted, "Message"),
                },
            )
        ).one()
    assert closed_at == updated_at > posted_at  # closed after the post it waited for
    after = await gql.data(
        POST_DATA,
        {"input": {"conversationId": feed.conversation.gid, "content": "late"}},
        token=feed.client.token,
    )
    assert [e["code"] for e in after["postMessage"]["errors"]] == ["INVALID_TRANSITION"]


POST_DATA = """mutation Post($input: PostMessageInput!) {
  postMessage(input: $input) { message { id } errors { code message } }
}"""


async def test_messages_are_listed_in_the_order_they_were_committed(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    """A post whose transaction began first but committed last (its document's first field
    waited) comes last in the thread: a client paging `after` the newest message it has
    read never misses one committed after it."""
    feed = await thread(world)
    engagement = await _engagement_of(owner_engine, feed.conversation.id)
    variables = {
        "project": {"engagementId": engagement, "name": "waits"},
        "post": {"conversationId": feed.conversation.gid, "content": "began first"},
    }
    async with _held(owner_engine, "LOCK TABLE projects IN SHARE MODE") as queued:  # no project
        await _queue(
            owner_engine, queued, gql.data(PROJECT_AND_POST, variables, token=feed.staff.token)
        )
        second = await post(gql, feed.staff, feed.conversation, "committed first")
    (document,) = await asyncio.gather(*queued)
    first = document["postMessage"]["message"]["id"]
    page = await gql.data(
        "query($id: ID!) { conversation(id: $id) { messages(last: 2) { edges { node { id } } } } }",
        {"id": feed.conversation.gid},
        token=feed.staff.token,
    )
    listed = [edge["node"]["id"] for edge in page["conversation"]["messages"]["edges"]]
    assert listed == [second, first]


PROJECT_THEN_RENAME = """
mutation Two($project: CreateProjectInput!, $rename: UpdateEngagementInput!) {
  createProject(input: $project) { project { id } errors { code } }
  updateEngagement(input: $rename) { engagement { name } errors { code } }
}"""


async def test_two_documents_that_deadlock_on_their_engagement_both_succeed(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    """Each document share-locks the engagement (its project), then needs it exclusively
    (the rename): run together, PostgreSQL breaks the deadlock by undoing one, which the
    server runs again from the start instead of answering SERVICE_UNAVAILABLE."""
    feed = await thread(world)
    engagement = await _engagement_of(owner_engine, feed.conversation.id)
    documents = [
        gql.data(
            PROJECT_THEN_RENAME,
            {
                "project": {"engagementId": engagement, "name": f"project {n}"},
                "rename": {"id": engagement, "name": f"name {n}"},
            },
            token=feed.staff.token,
        )
        for n in (1, 2)
    ]
    async with _held(owner_engine, "LOCK TABLE projects IN SHARE MODE") as queued:  # both wait
        for document in documents:
            await _queue(owner_engine, queued, document)
    answers = await asyncio.gather(*queued)
    assert [(a["createProject"]["errors"], a["updateEngagement"]["errors"]) for a in answers] == [
        ([], []),
        ([], []),
    ]
    async with owner_engine.connect() as connection:
        projects = await connection.scalars(
            text("SELECT name FROM projects WHERE engagement_id = :e ORDER BY name"),
            {"e": parse_global_id(engagement, "Engagement")},
        )
        assert list(projects) == ["project 1", "project 2"]
