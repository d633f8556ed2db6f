"""The design's section 5 delete behaviour, on a migrated database, as the owner role.

The owner is a superuser here, so row-level security does not filter these statements.
Each test seeds its own organization, so the tests share one database independently.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
import pytest_asyncio

from tests.catalog import migrated_database


@dataclass(frozen=True)
class Engagement:
    id: uuid.UUID
    projects: tuple[uuid.UUID, ...]
    conversations: tuple[uuid.UUID, ...]
    messages: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class Seed:
    org_id: uuid.UUID
    client_id: uuid.UUID
    doomed: Engagement
    bystander: Engagement
    """Another engagement of the same client, which a delete of `doomed` must not touch."""


@pytest_asyncio.fixture(scope="module")
async def migrated_url() -> AsyncIterator[str]:
    async with migrated_database("cascades") as url:
        yield url


@pytest_asyncio.fixture
async def conn(migrated_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(migrated_url)
    try:
        yield connection
    finally:
        await connection.close()


async def _engagement(
    conn: asyncpg.Connection, org_id: uuid.UUID, client_id: uuid.UUID
) -> Engagement:
    engagement_id = await conn.fetchval(
        "INSERT INTO engagements (org_id, client_id, name) VALUES ($1, $2, 'Work') RETURNING id",
        org_id,
        client_id,
    )
    projects = [
        await conn.fetchval(
            "INSERT INTO projects (engagement_id, org_id, name) VALUES ($1, $2, $3) RETURNING id",
            engagement_id,
            org_id,
            name,
        )
        for name in ("Site", "Shop")
    ]
    conversations, messages = [], []
    for subject in ("Kickoff", "Billing"):
        conversation_id = await conn.fetchval(
            "INSERT INTO conversations (engagement_id, org_id, subject) VALUES ($1, $2, $3) "
            "RETURNING id",
            engagement_id,
            org_id,
            subject,
        )
        conversations.append(conversation_id)
        for internal in (False, True):
            messages.append(
                await conn.fetchval(
                    "INSERT INTO conversation_messages "
                    "(conversation_id, org_id, sender_id, content, is_internal) "
                    "VALUES ($1, $2, $3, 'Hello', $4) RETURNING id",
                    conversation_id,
                    org_id,
                    client_id,
                    internal,
                )
            )
    return Engagement(engagement_id, tuple(projects), tuple(conversations), tuple(messages))


@pytest_asyncio.fixture
async def seed(conn: asyncpg.Connection) -> Seed:
    org_id = await conn.fetchval("INSERT INTO organizations (name) VALUES ('Acme') RETURNING id")
    client_id = await conn.fetchval(
        "INSERT INTO users (org_id, email, name, role) VALUES ($1, $2, 'Client', 1) RETURNING id",
        org_id,
        f"client-{uuid.uuid4().hex[:8]}@example.com",
    )
    return Seed(
        org_id,
        client_id,
        doomed=await _engagement(conn, org_id, client_id),
        bystander=await _engagement(conn, org_id, client_id),
    )


async def _orders(conn: asyncpg.Connection, seed: Seed, engagement: Engagement) -> list[uuid.UUID]:
    """Two orders funding `engagement` (amounts 50,000 and 25,000 cents)."""
    return [
        await conn.fetchval(
            "INSERT INTO orders (org_id, client_id, engagement_id, amount_cents, currency) "
            "VALUES ($1, $2, $3, $4, 'EUR') RETURNING id",
            seed.org_id,
            seed.client_id,
            engagement.id,
            amount,
        )
        for amount in (50_000, 25_000)
    ]


async def _existing(
    conn: asyncpg.Connection, table: str, ids: tuple[uuid.UUID, ...]
) -> set[uuid.UUID]:
    rows = await conn.fetch(f"SELECT id FROM {table} WHERE id = ANY($1::uuid[])", list(ids))
    return {row["id"] for row in rows}


async def _delete_engagement(conn: asyncpg.Connection, engagement: Engagement) -> None:
    status = await conn.execute("DELETE FROM engagements WHERE id = $1", engagement.id)
    assert status == "DELETE 1"


async def test_deleting_an_engagement_deletes_its_projects(
    conn: asyncpg.Connection, seed: Seed
) -> None:
    await _delete_engagement(conn, seed.doomed)
    assert await _existing(conn, "projects", seed.doomed.projects) == set()
    assert await _existing(conn, "projects", seed.bystander.projects) == set(
        seed.bystander.projects
    )


async def test_deleting_an_engagement_deletes_its_conversations(
    conn: asyncpg.Connection, seed: Seed
) -> None:
    await _delete_engagement(conn, seed.doomed)
    assert await _existing(conn, "conversations", seed.doomed.conversations) == set()
    assert await _existing(conn, "conversations", seed.bystander.conversations) == set(
        seed.bystander.conversations
    )


async def test_deleting_an_engagement_deletes_the_messages_of_its_conversations(
    conn: asyncpg.Connection, seed: Seed
) -> None:
    await _delete_engagement(conn, seed.doomed)
    assert await _existing(conn, "conversation_messages", seed.doomed.messages) == set()
    assert await _existing(conn, "conversation_messages", seed.bystander.messages) == set(
        seed.bystander.messages
    )


async def test_deleting_an_engagement_keeps_its_orders_with_engagement_id_null(
    conn: asyncpg.Connection, seed: Seed
) -> None:
    doomed_orders = await _orders(conn, seed, seed.doomed)
    bystander_orders = await _orders(conn, seed, seed.bystander)
    await _delete_engagement(conn, seed.doomed)
    rows = await conn.fetch(
        "SELECT id, engagement_id, amount_cents FROM orders WHERE id = ANY($1::uuid[])",
        [*doomed_orders, *bystander_orders],
    )
    kept = {row["id"]: (row["engagement_id"], row["amount_cents"]) for row in rows}
    assert kept == {
        doomed_orders[0]: (None, 50_000),
        doomed_orders[1]: (None, 25_000),
        bystander_orders[0]: (seed.bystander.id, 50_000),
        bystander_orders[1]: (seed.bystander.id, 25_000),
    }


async def test_deleting_an_engagement_a_proposal_was_converted_into_is_refused(
    conn: asyncpg.Connection, seed: Seed
) -> None:
    """The design gives converted_engagement_id no ON DELETE action: clear it first."""
    proposal_id = await conn.fetchval(
        "INSERT INTO proposals (org_id, client_id, title, amount_cents, currency, status, "
        "converted_engagement_id) VALUES ($1, $2, 'Site', 50000, 'EUR', 3, $3) RETURNING id",
        seed.org_id,
        seed.client_id,
        seed.doomed.id,
    )
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await conn.execute("DELETE FROM engagements WHERE id = $1", seed.doomed.id)
    assert await _existing(conn, "engagements", (seed.doomed.id,)) == {seed.doomed.id}
    assert await _existing(conn, "proposals", (proposal_id,)) == {proposal_id}


async def test_deleting_a_conversation_deletes_its_messages(
    conn: asyncpg.Connection, seed: Seed
) -> None:
    doomed, kept = seed.doomed.conversations
    status = await conn.execute("DELETE FROM conversations WHERE id = $1", doomed)
    assert status == "DELETE 1"
    rows = await conn.fetch(
        "SELECT conversation_id, count(*) AS messages FROM conversation_messages "
        "WHERE conversation_id = ANY($1::uuid[]) GROUP BY conversation_id",
        [doomed, kept],
    )
    assert {row["conversation_id"]: row["messages"] for row in rows} == {kept: 2}
