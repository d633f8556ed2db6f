"""postMessage, editMessage, deleteMessage through the API, checked in the database."""

from typing import Any

import pytest
from graphql import build_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.enums import ConversationStatus, EngagementStatus
from engagement_api.db.models import Conversation, Message
from engagement_api.resolvers.connections import CONNECTIONS_BY_FIELD
from engagement_api.schema.export import served_sdl
from engagement_api.schema.ids import parse_global_id
from tests.conftest import GraphQLClient
from tests.factories import BASE_TIME, Made, World
from tests.mutations import (
    Cast,
    cast,
    codes,
    count_where,
    error_fields,
    mutate,
    stored,
)

MESSAGE = "message { id content isInternal attachments { name url size } sender { id } }"


async def _open_conversation(world: World, c: Cast) -> Made:
    return await world.conversation(c.engagement, subject="Kickoff")


async def _post(
    gql: GraphQLClient, viewer: Made, conversation: Made, **input: Any
) -> dict[str, Any]:
    return await mutate(
        gql,
        "postMessage",
        {"conversationId": conversation.gid, "content": "Hello", **input},
        token=viewer.token,
        select=MESSAGE,
    )


async def _message_count(owner_engine: AsyncEngine, conversation: Made) -> int:
    return await count_where(owner_engine, Message, Message.conversation_id == conversation.id)


async def test_a_client_posts_a_public_message_to_its_open_conversation(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    before = await stored(owner_engine, Conversation, conversation.id)
    attachment = {"name": "brief.pdf", "url": "https://files.example/brief.pdf", "size": 1024}
    payload = await _post(
        gql, c.client, conversation, content="  Hi team  ", attachments=[attachment]
    )
    assert payload["errors"] == []
    assert payload["message"]["attachments"] == [attachment]
    message_id = parse_global_id(payload["message"]["id"], "Message")
    assert message_id is not None
    row = await stored(owner_engine, Message, message_id)
    assert (row.conversation_id, row.org_id, row.sender_id, row.content, row.is_internal) == (
        conversation.id,
        c.org.id,
        c.client.id,
        "Hi team",
        False,
    )
    assert row.attachments == [attachment]
    assert row.updated_at == row.created_at  # a new message: one instant
    after = await stored(owner_engine, Conversation, conversation.id)
    assert after.last_message_at == after.last_public_message_at == row.created_at
    assert after.updated_at == before.updated_at


async def test_an_internal_message_moves_only_the_staff_activity_time(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    await world.message(conversation, c.client, "public")
    before = await stored(owner_engine, Conversation, conversation.id)
    payload = await _post(gql, c.staff, conversation, isInternal=True)
    message_id = parse_global_id(payload["message"]["id"], "Message")
    assert message_id is not None
    row = await stored(owner_engine, Message, message_id)
    after = await stored(owner_engine, Conversation, conversation.id)
    assert row.is_internal is True
    assert after.last_message_at == row.created_at
    assert after.last_public_message_at == before.last_public_message_at


async def test_a_client_cannot_post_an_internal_message(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    payload = await _post(gql, c.client, conversation, isInternal=True)
    assert (payload["message"], codes(payload)) == (None, ["FORBIDDEN"])
    assert await _message_count(owner_engine, conversation) == 0


async def test_a_client_cannot_post_to_another_clients_conversation(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    payload = await _post(gql, c.other_client, conversation)
    assert (codes(payload), error_fields(payload)) == (
        ["NOT_FOUND"],
        [["input", "conversationId"]],
    )
    assert await _message_count(owner_engine, conversation) == 0


async def test_posting_to_a_closed_conversation_is_an_invalid_transition(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await world.conversation(c.engagement, ConversationStatus.CLOSED)
    payload = await _post(gql, c.staff, conversation)
    assert codes(payload) == ["INVALID_TRANSITION"]
    assert await _message_count(owner_engine, conversation) == 0


async def test_posting_in_a_closed_engagement_is_an_invalid_transition(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    closed = await world.engagement(c.org, c.client, EngagementStatus.CLOSED, closed_at=BASE_TIME)
    conversation = await world.conversation(closed)
    payload = await _post(gql, c.client, conversation)
    assert codes(payload) == ["INVALID_TRANSITION"]
    assert await _message_count(owner_engine, conversation) == 0


async def _edit(gql: GraphQLClient, viewer: Made, message: Made, content: str) -> dict[str, Any]:
    return await mutate(
        gql,
        "editMessage",
        {"id": message.gid, "content": content},
        token=viewer.token,
        select=MESSAGE,
    )


async def test_editing_a_message_changes_its_content_and_updated_at(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    message = await world.message(conversation, c.client, "Helo")
    before = await stored(owner_engine, Message, message.id)
    payload = await _edit(gql, c.client, message, " Hello ")
    assert payload["message"]["content"] == "Hello"
    after = await stored(owner_engine, Message, message.id)
    assert after.content == "Hello"
    assert after.updated_at > before.updated_at
    assert after.created_at == before.created_at


async def test_editing_a_message_to_its_content_changes_nothing(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    message = await world.message(conversation, c.client, "Hello")
    before = await stored(owner_engine, Message, message.id)
    payload = await _edit(gql, c.client, message, "Hello")
    assert payload["errors"] == []
    assert await stored(owner_engine, Message, message.id) == before


@pytest.mark.parametrize(("editor", "author"), [("client", "staff"), ("staff", "admin")])
async def test_editing_another_users_message_is_forbidden(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, editor: str, author: str
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    message = await world.message(conversation, getattr(c, author), "Original")
    payload = await _edit(gql, getattr(c, editor), message, "Changed")
    assert codes(payload) == ["FORBIDDEN"]
    assert (await stored(owner_engine, Message, message.id)).content == "Original"


async def test_an_admin_edits_any_message(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    message = await world.message(conversation, c.client, "Original")
    payload = await _edit(gql, c.admin, message, "Moderated")
    assert payload["errors"] == []
    assert (await stored(owner_engine, Message, message.id)).content == "Moderated"


async def test_an_internal_message_does_not_exist_for_a_client(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    message = await world.message(conversation, c.client, "Note", is_internal=True)
    payload = await _edit(gql, c.client, message, "Changed")
    assert codes(payload) == ["NOT_FOUND"]
    assert (await stored(owner_engine, Message, message.id)).content == "Note"


async def test_deleting_a_message_is_soft_and_recomputes_the_activity_times(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    older = await world.message(conversation, c.client, "first")
    internal = await world.message(conversation, c.staff, "note", is_internal=True)
    newest = await world.message(conversation, c.client, "second")
    payload = await mutate(
        gql, "deleteMessage", {"id": newest.gid}, token=c.client.token, select="deletedId"
    )
    assert (payload["deletedId"], payload["errors"]) == (newest.gid, [])
    deleted = await stored(owner_engine, Message, newest.id)
    assert deleted.deleted_at is not None
    after = await stored(owner_engine, Conversation, conversation.id)
    assert after.last_message_at == (await stored(owner_engine, Message, internal.id)).created_at
    assert (
        after.last_public_message_at == (await stored(owner_engine, Message, older.id)).created_at
    )


async def test_a_deleted_message_is_gone_from_reads_and_from_further_change(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    message = await world.message(conversation, c.client, "Hello")
    await mutate(gql, "deleteMessage", {"id": message.gid}, token=c.client.token)
    data = await gql.data(
        "query Q($id: ID!, $c: ID!) { node(id: $id) { id } "
        "conversation(id: $c) { lastMessage { id } messages { totalCount } } }",
        {"id": message.gid, "c": conversation.gid},
        token=c.client.token,
    )
    assert data == {
        "node": None,
        "conversation": {"lastMessage": None, "messages": {"totalCount": 0}},
    }
    payload = await _edit(gql, c.client, message, "Back")
    assert codes(payload) == ["NOT_FOUND"]
    assert (await stored(owner_engine, Message, message.id)).content == "Hello"


@pytest.mark.parametrize(
    ("deleter", "author"), [("client", "staff"), ("staff", "admin"), ("staff", "client")]
)
async def test_deleting_another_users_message_is_forbidden(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, deleter: str, author: str
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    message = await world.message(conversation, getattr(c, author), "Hello")
    token = getattr(c, deleter).token
    payload = await mutate(gql, "deleteMessage", {"id": message.gid}, token=token)
    assert codes(payload) == ["FORBIDDEN"]
    assert (await stored(owner_engine, Message, message.id)).deleted_at is None


@pytest.mark.parametrize("author", ["client", "staff"])
async def test_an_admin_deletes_any_message(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, author: str
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    message = await world.message(conversation, getattr(c, author), "Hello")
    payload = await mutate(
        gql, "deleteMessage", {"id": message.gid}, token=c.admin.token, select="deletedId"
    )
    assert (payload["deletedId"], payload["errors"]) == (message.gid, [])
    assert (await stored(owner_engine, Message, message.id)).deleted_at is not None


async def test_posting_costs_the_same_statements_for_one_or_twenty_attachments(
    world: World, gql: GraphQLClient
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    document = (
        "mutation M($input: PostMessageInput!) { postMessage(input: $input) { message { id "
        "sender { name } conversation { subject engagement { name } } attachments { url } } "
        "errors { code } } }"
    )

    async def statements(count: int) -> int:
        attachment = {"name": "a", "url": "https://files.example/a", "size": 1}
        variables = {
            "input": {
                "conversationId": conversation.gid,
                "content": "Files",
                "attachments": [attachment] * count,
            }
        }
        body = await gql.execute(document, variables, token=c.staff.token)
        assert body["data"]["postMessage"]["errors"] == []
        return int(body["extensions"]["sqlStatements"])

    assert await statements(1) == await statements(20)


async def test_payloads_of_later_mutations_in_a_document_see_earlier_writes(
    world: World, gql: GraphQLClient
) -> None:
    c = await cast(world)
    document = (
        "mutation M($e: ID!) {"
        ' a: createProject(input: {engagementId: $e, name: "A"}) '
        "{ project { engagement { name } } }"
        ' b: updateEngagement(input: {id: $e, name: "Renamed"}) { engagement { name } }'
        ' c: createProject(input: {engagementId: $e, name: "C"}) '
        "{ project { engagement { name } } } }"
    )
    data = await gql.data(document, {"e": c.engagement.gid}, token=c.staff.token)
    assert data["a"]["project"]["engagement"]["name"] == "Work"
    assert data["c"]["project"]["engagement"]["name"] == "Renamed"


THREAD = "fragment Thread on Conversation { messages(first: 1, last: 2) { totalCount } }"
NESTED_PAGES = {  # the selection under the message's conversation, a fragment, a size
    "first over the limit": ("messages(first: 101) { totalCount }", "", None),
    "last below zero": ("messages(last: -1) { totalCount }", "", None),
    "first and last": ("messages(first: 1, last: 1) { totalCount }", "", None),
    "malformed cursor": ('messages(after: "not-a-cursor") { totalCount }', "", None),
    "size from a variable": ("messages(first: $size) { totalCount }", "", 500),
    "in a fragment": ("...Thread", THREAD, None),
    "in an inline fragment": (
        '... on Conversation { messages(before: "x") { totalCount } }',
        "",
        None,
    ),
}


@pytest.mark.parametrize("name", list(NESTED_PAGES))
async def test_a_payload_asking_an_invalid_page_is_refused_before_anything_is_written(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, name: str
) -> None:
    """The payload is read after the write: a page it cannot serve would answer an error
    for a message that was kept."""
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    selection, fragment, size = NESTED_PAGES[name]
    size_variable = ", $size: Int" if size is not None else ""
    document = f"""
    mutation Post($input: PostMessageInput!{size_variable}) {{
      postMessage(input: $input) {{
        message {{ id conversation {{ {selection} }} }}
        errors {{ code }}
      }}
    }}
    {fragment}
    """
    body = await gql.execute(
        document,
        {"input": {"conversationId": conversation.gid, "content": "kept?"}, "size": size},
        token=c.staff.token,
    )
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]
    assert await _message_count(owner_engine, conversation) == 0


async def test_a_payload_asking_a_valid_page_is_served_with_the_new_message(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    payload = await mutate(
        gql,
        "postMessage",
        {"conversationId": conversation.gid, "content": "kept"},
        token=c.staff.token,
        select="message { id conversation { messages(last: 100) { edges { node { id } } } } }",
    )
    message = payload["message"]
    assert [e["node"]["id"] for e in message["conversation"]["messages"]["edges"]] == [
        message["id"]
    ]
    assert await _message_count(owner_engine, conversation) == 1


PLACEMENTS = ("field", "inline fragment", "fragment spread")
DIRECTIVE = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(("skip", "include")), st.booleans(), st.booleans()),
)  # (kind, from a variable, value) or no directive
PIECE = st.tuples(st.booleans(), DIRECTIVE, st.sampled_from(PLACEMENTS))  # (bad page, …)


def _guarded_document(
    pieces: list[tuple[bool, tuple[str, bool, bool] | None, str]],
) -> tuple[str, dict[str, bool], bool]:
    """A postMessage whose payload reads the conversation's messages once per piece, each
    page valid or not, under @skip/@include or none, on the field or around it; the
    variables; whether the rule refuses it: an included page is invalid."""
    selections, fragments, definitions = [], [], []
    variables: dict[str, bool] = {}
    refused = False
    for n, (bad, directive, placement) in enumerate(pieces):
        field = f"m{n}: messages(first: {1000 if bad else 1}) {{ totalCount }}"
        guard, included = "", True
        if directive is not None:
            kind, from_variable, value = directive
            if from_variable:
                variables[f"v{n}"] = value
                definitions.append(f", $v{n}: Boolean!")
            argument = f"$v{n}" if from_variable else str(value).lower()
            guard = f" @{kind}(if: {argument})"
            included = value == (kind == "include")
        refused = refused or (bad and included)
        if placement == "field":
            selections.append(_guard(field, guard))
        elif placement == "inline fragment":
            selections.append(f"... on Conversation{guard} {{ {field} }}")
        else:
            fragments.append(f"fragment F{n} on Conversation {{ {field} }}")
            selections.append(f"...F{n}{guard}")
    document = f"""
    mutation Post($input: PostMessageInput!{"".join(definitions)}) {{
      postMessage(input: $input) {{
        message {{ id conversation {{ id {" ".join(selections)} }} }}
        errors {{ code }}
      }}
    }}
    {" ".join(fragments)}
    """
    return document, variables, refused


def _guard(field: str, guard: str) -> str:
    """`field` with its directive after its arguments, where a field's directives go."""
    head, _, rest = field.partition(" {")
    return f"{head}{guard} {{{rest}"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pieces=st.lists(PIECE, min_size=1, max_size=3))
async def test_a_payload_page_is_checked_before_the_write_only_where_skip_and_include_keep_it(
    world: World,
    gql: GraphQLClient,
    owner_engine: AsyncEngine,
    pieces: list[tuple[bool, tuple[str, bool, bool] | None, str]],
) -> None:
    """A field @skip or @include leaves out is not read: its page is no reason to refuse
    the write (a query accepts the same selection). One that is included still is."""
    c = await cast(world)
    conversation = await _open_conversation(world, c)
    document, variables, refused = _guarded_document(pieces)
    body = await gql.execute(
        document,
        {"input": {"conversationId": conversation.gid, "content": "x"}, **variables},
        token=c.staff.token,
    )
    if refused:
        assert body["data"] is None, body
        assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]
        assert await _message_count(owner_engine, conversation) == 0
    else:
        assert "errors" not in body, body["errors"]
        assert body["data"]["postMessage"]["errors"] == []
        assert await _message_count(owner_engine, conversation) == 1


def test_every_connection_field_of_the_schema_is_known_by_its_name() -> None:
    """A mutation finds the connections of its payload by field name."""
    served = build_schema(served_sdl())
    fields = {
        name
        for type_ in served.type_map.values()
        for name, field in getattr(type_, "fields", {}).items()
        if str(field.type).endswith("Connection!")
    }
    assert fields == set(CONNECTIONS_BY_FIELD)
