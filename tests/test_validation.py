"""Input validation (domain rules §4) through the API: each limit at its boundary and one
past it, with the database checked afterwards (a refused input writes nothing)."""

import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.models import Conversation, Engagement, Message, Project
from engagement_api.schema.ids import parse_global_id, to_global_id
from tests.conftest import GraphQLClient
from tests.factories import World
from tests.mutations import Cast, cast, codes, count_where, error_fields, mutate, stored

URL_PREFIX = "https://files.example/"


def url_of_length(length: int) -> str:
    return URL_PREFIX + "a" * (length - len(URL_PREFIX))


def attachment(**values: Any) -> dict[str, Any]:
    return {"name": "a.pdf", "url": URL_PREFIX + "a.pdf", "size": 1, **values}


async def _conversation_of(world: World, c: Cast) -> Any:
    return await world.conversation(c.engagement)


async def _post(gql: GraphQLClient, c: Cast, conversation: Any, **input: Any) -> dict[str, Any]:
    return await mutate(
        gql,
        "postMessage",
        {"conversationId": conversation.gid, "content": "Hello", **input},
        token=c.staff.token,
        select="message { id content attachments { name url size } }",
    )


async def _messages(owner_engine: AsyncEngine, conversation: Any) -> int:
    return await count_where(owner_engine, Message, Message.conversation_id == conversation.id)


def _refused(payload: dict[str, Any], field: list[str]) -> None:
    assert (codes(payload), error_fields(payload)) == (["INVALID"], [field])


@pytest.mark.parametrize(
    ("name", "accepted"), [("x" * 255, True), ("x" * 256, False), (" \t ", False)]
)
async def test_a_project_name_is_1_to_255_characters(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, name: str, accepted: bool
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql,
        "createProject",
        {"engagementId": c.engagement.gid, "name": name},
        token=c.staff.token,
        select="project { id }",
    )
    count = await count_where(owner_engine, Project, Project.engagement_id == c.engagement.id)
    if accepted:
        project_id = parse_global_id(payload["project"]["id"], "Project")
        assert project_id is not None
        assert (await stored(owner_engine, Project, project_id)).name == name
    else:
        _refused(payload, ["input", "name"])
        assert count == 0


@pytest.mark.parametrize(("name", "accepted"), [("y" * 255, True), ("y" * 256, False)])
async def test_a_project_name_update_is_at_most_255_characters(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, name: str, accepted: bool
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement, name="Site")
    payload = await mutate(
        gql, "updateProject", {"id": project.gid, "name": name}, token=c.staff.token
    )
    stored_name = (await stored(owner_engine, Project, project.id)).name
    if accepted:
        assert stored_name == name
    else:
        _refused(payload, ["input", "name"])
        assert stored_name == "Site"


@pytest.mark.parametrize(
    ("name", "stored_name"), [("  " + "n" * 255 + "  ", "n" * 255), ("n" * 256, None), ("   ", "")]
)
async def test_an_engagement_name_is_trimmed_at_most_255_characters_and_blank_means_none(
    world: World,
    gql: GraphQLClient,
    owner_engine: AsyncEngine,
    name: str,
    stored_name: str | None,
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql,
        "createEngagement",
        {"clientId": c.other_client.gid, "name": name},
        token=c.staff.token,
        select="engagement { id }",
    )
    count = await count_where(owner_engine, Engagement, Engagement.client_id == c.other_client.id)
    if stored_name is None:
        _refused(payload, ["input", "name"])
        assert count == 0
    else:
        engagement_id = parse_global_id(payload["engagement"]["id"], "Engagement")
        assert engagement_id is not None
        assert (await stored(owner_engine, Engagement, engagement_id)).name == (stored_name or None)


@pytest.mark.parametrize(("subject", "accepted"), [("s" * 255, True), ("s" * 256, False)])
async def test_a_conversation_subject_is_at_most_255_characters(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, subject: str, accepted: bool
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql,
        "startConversation",
        {"engagementId": c.engagement.gid, "subject": subject},
        token=c.staff.token,
    )
    count = await count_where(
        owner_engine, Conversation, Conversation.engagement_id == c.engagement.id
    )
    if accepted:
        assert (payload["errors"], count) == ([], 1)
    else:
        _refused(payload, ["input", "subject"])
        assert count == 0


@pytest.mark.parametrize(("description", "accepted"), [("d" * 20_000, True), ("d" * 20_001, False)])
async def test_a_project_description_is_at_most_20000_characters(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, description: str, accepted: bool
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql,
        "createProject",
        {"engagementId": c.engagement.gid, "name": "Site", "description": description},
        token=c.staff.token,
    )
    count = await count_where(owner_engine, Project, Project.engagement_id == c.engagement.id)
    if accepted:
        assert (payload["errors"], count) == ([], 1)
    else:
        _refused(payload, ["input", "description"])
        assert count == 0


@pytest.mark.parametrize(
    ("content", "accepted"),
    [("c" * 20_000, True), ("  " + "c" * 20_000 + "\n", True), ("c" * 20_001, False), ("", False)],
)
async def test_message_content_is_1_to_20000_characters_after_trimming(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, content: str, accepted: bool
) -> None:
    c = await cast(world)
    conversation = await _conversation_of(world, c)
    payload = await _post(gql, c, conversation, content=content)
    if accepted:
        message_id = parse_global_id(payload["message"]["id"], "Message")
        assert message_id is not None
        assert (await stored(owner_engine, Message, message_id)).content == content.strip()
    else:
        _refused(payload, ["input", "content"])
        assert await _messages(owner_engine, conversation) == 0


@pytest.mark.parametrize(("content", "accepted"), [("e" * 20_000, True), ("e" * 20_001, False)])
async def test_edited_content_is_at_most_20000_characters(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, content: str, accepted: bool
) -> None:
    c = await cast(world)
    conversation = await _conversation_of(world, c)
    message = await world.message(conversation, c.staff, "Hello")
    payload = await mutate(
        gql, "editMessage", {"id": message.gid, "content": content}, token=c.staff.token
    )
    stored_content = (await stored(owner_engine, Message, message.id)).content
    if accepted:
        assert stored_content == content
    else:
        _refused(payload, ["input", "content"])
        assert stored_content == "Hello"


@pytest.mark.parametrize(("count", "accepted"), [(20, True), (21, False)])
async def test_a_message_has_at_most_20_attachments(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, count: int, accepted: bool
) -> None:
    c = await cast(world)
    conversation = await _conversation_of(world, c)
    payload = await _post(gql, c, conversation, attachments=[attachment()] * count)
    if accepted:
        message_id = parse_global_id(payload["message"]["id"], "Message")
        assert message_id is not None
        assert len((await stored(owner_engine, Message, message_id)).attachments) == 20
    else:
        _refused(payload, ["input", "attachments"])
        assert await _messages(owner_engine, conversation) == 0


ATTACHMENT_CASES = [
    ("name", "n" * 255, True),
    ("name", "n" * 256, False),
    ("name", "  ", False),
    ("url", url_of_length(2_048), True),
    ("url", url_of_length(2_049), False),
    ("url", "http://files.example/a.pdf", True),
    ("url", "ftp://files.example/a.pdf", False),
    ("url", "javascript:alert(1)", False),
    ("url", "/files/a.pdf", False),
    ("url", "https://files.example/a b.pdf", False),
    ("size", 0, True),
    ("size", -1, False),
    ("size", 2_147_483_647, True),
]


@pytest.mark.parametrize(("key", "value", "accepted"), ATTACHMENT_CASES)
async def test_attachment_limits(
    world: World,
    gql: GraphQLClient,
    owner_engine: AsyncEngine,
    key: str,
    value: Any,
    accepted: bool,
) -> None:
    c = await cast(world)
    conversation = await _conversation_of(world, c)
    attachments = [attachment(), attachment(**{key: value})]
    payload = await _post(gql, c, conversation, attachments=attachments)
    if accepted:
        message_id = parse_global_id(payload["message"]["id"], "Message")
        assert message_id is not None
        assert (await stored(owner_engine, Message, message_id)).attachments == attachments
    else:
        _refused(payload, ["input", "attachments", "1", key])
        assert await _messages(owner_engine, conversation) == 0


async def test_an_attachment_size_past_a_32_bit_int_is_refused_by_graphql(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await _conversation_of(world, c)
    body = await gql.execute(
        "mutation M($input: PostMessageInput!) { postMessage(input: $input) { errors { code } } }",
        {
            "input": {
                "conversationId": conversation.gid,
                "content": "Hello",
                "attachments": [attachment(size=2_147_483_648)],
            }
        },
        token=c.staff.token,
    )
    assert body.get("data") is None
    assert body["errors"]
    assert await _messages(owner_engine, conversation) == 0


def _field_paths(payload: dict[str, Any]) -> list[tuple[str, ...]]:
    """The fields the errors name, sorted (each of these errors names one)."""
    paths = []
    for field in error_fields(payload):
        assert field is not None
        paths.append(tuple(field))
    return sorted(paths)


async def test_every_problem_of_an_input_is_reported_at_once(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    conversation = await _conversation_of(world, c)
    payload = await _post(
        gql, c, conversation, content=" ", attachments=[attachment(url="ftp://x", size=-5)]
    )
    assert _field_paths(payload) == [
        ("input", "attachments", "0", "size"),
        ("input", "attachments", "0", "url"),
        ("input", "content"),
    ]
    assert await _messages(owner_engine, conversation) == 0


def _foreign_ids(conversation: Any, project: Any) -> dict[str, str]:
    """Conversation ids a viewer cannot use, by kind (the last one is a real row of another
    organization)."""
    return {
        "malformed": "not-a-global-id",
        "another type": project.gid,
        "unknown": to_global_id("Conversation", uuid.uuid4()),
        "another organization": conversation.gid,
    }


@pytest.mark.parametrize("kind", ["malformed", "another type", "unknown", "another organization"])
async def test_malformed_and_foreign_ids_are_not_found(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, kind: str
) -> None:
    c = await cast(world)
    other = await cast(world)
    foreign_conversation = await _conversation_of(world, other)
    project = await world.project(c.engagement)
    conversation_id = _foreign_ids(foreign_conversation, project)[kind]
    payload = await mutate(
        gql,
        "postMessage",
        {"conversationId": conversation_id, "content": "Hello"},
        token=c.staff.token,
    )
    assert (codes(payload), error_fields(payload)) == (
        ["NOT_FOUND"],
        [["input", "conversationId"]],
    )
    assert payload["errors"][0]["message"] == "No Conversation with this id."
    assert await count_where(owner_engine, Message, Message.org_id == c.org.id) == 0
    assert await _messages(owner_engine, foreign_conversation) == 0


async def test_blank_and_long_text_is_refused_in_the_projects_words(
    world: World, gql: GraphQLClient
) -> None:
    c = await cast(world)
    conversation = await _conversation_of(world, c)
    refusals = [
        await mutate(
            gql,
            "postMessage",
            {"conversationId": conversation.gid, "content": content},
            token=c.staff.token,
        )
        for content in ("   ", "\u200b \ufeff", "x" * 20_001)
    ]
    refusals.append(
        await mutate(
            gql,
            "createProject",
            {"engagementId": c.engagement.gid, "name": " "},
            token=c.staff.token,
        )
    )
    assert [[e["message"] for e in payload["errors"]] for payload in refusals] == [
        ["Must not be blank."],
        ["Must not be blank."],
        ["Must be at most 20000 characters."],
        ["Must not be blank."],
    ]
