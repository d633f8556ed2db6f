"""The servers on a login of their own (`DATABASE_APP_URL`), set up by the deployment's
own script (deploy/app-login.sql): requests and the live feed work with the privileges that
script grants, and the outbox reader reads and prunes every tenant's events."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from engagement_api.cli.tokens import print_token
from engagement_api.db.enums import Role
from engagement_api.db.outbox import OutboxReader
from engagement_api.settings import Settings
from tests.conftest import GraphQLClient, RunningServer, own_server
from tests.databases import migrated_engine
from tests.factories import World
from tests.live_feed import post, thread
from tests.ws_client import GraphQLWebSocket, subscriptions_started, wait_until_subscribed

APP_LOGIN_SQL = Path(__file__).resolve().parents[1] / "deploy" / "app-login.sql"
LOGIN = "engagement_api_test_login"
PASSWORD = "test-login-password"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def databases() -> AsyncIterator[tuple[str, str, World]]:
    """(owner URL, login URL, a world on that database): a database of its own, since the
    test prunes every event of it."""
    async with migrated_engine("app_login") as (url, engine):
        owner = make_url(url)
        script = APP_LOGIN_SQL.read_text()
        script = script.replace("engagement_api", LOGIN).replace("api-password", PASSWORD)
        script = script.replace("DATABASE engagement", f'DATABASE "{owner.database}"')
        connection = await asyncpg.connect(owner.render_as_string(hide_password=False))
        try:
            await connection.execute(script)
        finally:
            await connection.close()
        login = owner.set(username=LOGIN, password=PASSWORD)
        yield url, login.render_as_string(hide_password=False), World(engine)


@pytest.fixture(scope="module")
def login_server(
    databases: tuple[str, str, World], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    owner_url, login_url, _ = databases
    yield from own_server(owner_url, tmp_path_factory, "app-login", DATABASE_APP_URL=login_url)


async def test_a_post_reaches_a_subscriber_on_a_server_of_the_app_login(
    databases: tuple[str, str, World], login_server: RunningServer
) -> None:
    feed = await thread(databases[2])
    before = await subscriptions_started(login_server.url)
    async with (
        httpx.AsyncClient(timeout=30) as http,
        GraphQLWebSocket.open(login_server.graphql_url, token=feed.staff.token) as ws,
    ):
        operation = await ws.feed(feed.conversation.gid)
        await wait_until_subscribed(login_server.url, before + 1)
        gql = GraphQLClient(http, login_server.graphql_url)
        message_id = await post(gql, feed.client, feed.conversation, "Through the login")
        event = await ws.event(operation)
    assert (event["kind"], event["messageId"]) == ("POSTED", message_id)
    assert event["message"]["content"] == "Through the login"


async def test_the_outbox_reader_on_the_app_login_reads_and_prunes_every_tenant(
    databases: tuple[str, str, World], login_server: RunningServer
) -> None:
    _, login_url, world = databases
    feeds = [await thread(world), await thread(world)]  # two organizations
    async with httpx.AsyncClient(timeout=30) as http:
        gql = GraphQLClient(http, login_server.graphql_url)
        for feed in feeds:
            await post(gql, feed.client, feed.conversation, "An event to read")
    reader = OutboxReader(login_url, connect_timeout=10)
    try:
        conversations = [feed.conversation.id for feed in feeds]
        newest = await reader.newest(conversations)
        assert all(newest[conversation] > 0 for conversation in conversations)
        for conversation in conversations:
            (event,) = await reader.events_after(conversation, 0, 10)
            assert event.conversation_id == conversation
        assert await reader.events_after(uuid.uuid4(), 0, 10) == []
        pruned = await reader.prune(keep=0, max_age_seconds=0)
        assert pruned >= len(conversations)
        assert await reader.horizon() >= max(newest.values())
        assert await reader.events_after(conversations[0], 0, 10) == []
    finally:
        await reader.close()


async def test_the_token_command_on_a_login_under_row_level_security_says_what_it_needs(
    databases: tuple[str, str, World], capsys: pytest.CaptureFixture[str]
) -> None:
    """Row-level security hides every user from the app's login (and from the tables'
    owner, FORCE): the command names the connection it needs instead of "No user"."""
    _, login_url, world = databases
    user = await world.user(await world.organization(), Role.STAFF)
    settings = Settings(jwt_secret="t" * 40)
    code = await asyncio.to_thread(
        print_token, user_id=str(user.id), database_url=login_url, settings=settings
    )
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert "owner connection (a superuser or a BYPASSRLS role)" in captured.err
