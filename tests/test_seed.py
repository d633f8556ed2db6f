"""The demo seed (scale 1) and the token command, against scratch databases.

The seed must cover every status and phase, keep the signing flow's links and the
conversations' activity columns consistent, add nothing when run again, and write the
same rows in every database. `print_token` must print only a token, and refuse unknown
or ambiguous emails with exit code 2.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import jwt
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.auth import verify_token
from engagement_api.cli import seed, tokens
from engagement_api.db.enums import (
    ConversationStatus,
    EngagementStatus,
    OrderStatus,
    ProjectPhase,
    ProjectStatus,
    ProposalStatus,
    Role,
)
from engagement_api.settings import Settings
from tests.databases import migrated_engine

SETTINGS = Settings(jwt_secret="seed-tests-secret-0123456789abcdef0123")


@dataclass(frozen=True)
class Seeded:
    url: str
    engine: AsyncEngine
    summary: seed.SeedSummary


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seeded() -> AsyncIterator[Seeded]:
    async with migrated_engine("seed") as (url, engine):
        summary = await seed.seed_database(engine, 1)
        yield Seeded(url, engine, summary)


async def fetch(engine: AsyncEngine, sql: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(text(sql))).all()]


async def scalar(engine: AsyncEngine, sql: str) -> Any:
    rows = await fetch(engine, sql)
    return rows[0][0]


async def table_counts(engine: AsyncEngine) -> dict[str, int]:
    return {
        table: int(await scalar(engine, f"SELECT count(*) FROM {table}"))
        for table in seed.SEEDED_TABLES
    }


async def test_summary_reports_what_was_written(seeded: Seeded) -> None:
    summary = seeded.summary
    assert summary.created
    assert summary.counts == await table_counts(seeded.engine)
    assert summary.counts["organizations"] == 2
    admin = summary.user(seed.DEMO_ADMIN_EMAIL)
    assert admin.role is Role.ADMIN
    rows = await fetch(
        seeded.engine,
        f"SELECT u.email, u.role, o.name FROM users u JOIN organizations o ON o.id = u.org_id "
        f"WHERE u.id = '{admin.id}'",
    )
    assert rows == [(seed.DEMO_ADMIN_EMAIL, int(Role.ADMIN), seed.DEMO_ORG_NAME)]


@pytest.mark.parametrize(
    ("table", "column", "enum"),
    [
        ("users", "role", Role),
        ("proposals", "status", ProposalStatus),
        ("engagements", "status", EngagementStatus),
        ("projects", "status", ProjectStatus),
        ("projects", "phase", ProjectPhase),
        ("conversations", "status", ConversationStatus),
        ("orders", "status", OrderStatus),
    ],
)
async def test_every_value_is_present(
    seeded: Seeded, table: str, column: str, enum: type[IntEnum]
) -> None:
    live = "WHERE deleted_at IS NULL" if table == "projects" else ""
    rows = await fetch(seeded.engine, f"SELECT DISTINCT {column} FROM {table} {live}")
    assert {row[0] for row in rows} == {int(value) for value in enum}


async def test_demo_organization_has_the_documented_people(seeded: Seeded) -> None:
    rows = await fetch(
        seeded.engine,
        "SELECT u.email, u.role FROM users u JOIN organizations o ON o.id = u.org_id "
        "WHERE o.name = 'Acme Studio' ORDER BY u.email",
    )
    emails = {email: role for email, role in rows}
    assert emails[seed.DEMO_ADMIN_EMAIL] == Role.ADMIN
    assert [e for e, r in emails.items() if r == Role.STAFF] == [
        seed.SHARED_STAFF_EMAIL,
        seed.DEMO_STAFF_EMAIL,
    ]
    assert sorted(e for e, r in emails.items() if r == Role.CLIENT) == [
        f"client{n}@acme.test" for n in range(1, 6)
    ]
    names = await fetch(seeded.engine, "SELECT name FROM organizations ORDER BY name")
    assert names == [("Acme Studio",), ("Globex",)]


async def test_status_timestamps_agree_with_statuses(seeded: Seeded) -> None:
    engine = seeded.engine
    closed = "(status = 3) <> (closed_at IS NOT NULL)"
    assert await scalar(engine, f"SELECT count(*) FROM engagements WHERE {closed}") == 0
    completed = "(status = 3) <> (completed_at IS NOT NULL)"
    assert await scalar(engine, f"SELECT count(*) FROM projects WHERE {completed}") == 0
    signed = "(status = 3) <> (signed_at IS NOT NULL)"
    assert await scalar(engine, f"SELECT count(*) FROM proposals WHERE {signed}") == 0
    for table in seed.SEEDED_TABLES:
        if table not in {"organizations", "users", "services"}:
            before = await scalar(
                engine, f"SELECT count(*) FROM {table} WHERE updated_at < created_at"
            )
            assert before == 0, table
    assert await scalar(engine, "SELECT count(*) FROM projects WHERE deleted_at IS NOT NULL") > 0


async def test_messages_mix_internal_attachments_and_deletions(seeded: Seeded) -> None:
    internal, attached, deleted, total = (
        await fetch(
            seeded.engine,
            "SELECT count(*) FILTER (WHERE is_internal), "
            "count(*) FILTER (WHERE jsonb_array_length(attachments) > 0), "
            "count(*) FILTER (WHERE deleted_at IS NOT NULL), count(*) FROM conversation_messages",
        )
    )[0]
    assert 0 < internal < total
    assert 0 < attached < total
    assert 0 < deleted < total
    malformed = await scalar(
        seeded.engine,
        "SELECT count(*) FROM conversation_messages, jsonb_array_elements(attachments) a "
        "WHERE NOT (a ? 'name' AND a ? 'url' AND a ? 'size') "
        "OR jsonb_typeof(a -> 'size') <> 'number' OR a ->> 'url' NOT LIKE 'https://%'",
    )
    assert malformed == 0


async def test_signed_proposals_are_converted_both_ways(seeded: Seeded) -> None:
    rows = await fetch(
        seeded.engine,
        """
        SELECT p.id, p.client_id, p.title, p.amount_cents, p.currency, p.org_id,
               o.proposal_id, o.engagement_id, o.client_id, o.amount_cents, o.currency, o.org_id,
               e.id, e.proposal_id, e.client_id, e.name, e.org_id
        FROM proposals p
        LEFT JOIN orders o ON o.id = p.converted_order_id
        LEFT JOIN engagements e ON e.id = p.converted_engagement_id
        WHERE p.status = 3
        """,
    )
    assert rows
    for row in rows:
        (proposal, client, title, amount, currency, org) = row[:6]
        assert row[6:12] == (proposal, row[12], client, amount, currency, org)
        assert row[12] is not None
        assert row[13:] == (proposal, client, title, org)
    dangling = await scalar(
        seeded.engine,
        """
        SELECT (SELECT count(*) FROM proposals
                WHERE status <> 3 AND (converted_order_id IS NOT NULL
                                       OR converted_engagement_id IS NOT NULL))
             + (SELECT count(*) FROM engagements e JOIN proposals p ON p.id = e.proposal_id
                WHERE p.converted_engagement_id IS DISTINCT FROM e.id)
             + (SELECT count(*) FROM orders o JOIN proposals p ON p.id = o.proposal_id
                WHERE p.converted_order_id IS DISTINCT FROM o.id)
        """,
    )
    assert dangling == 0


async def test_activity_columns_agree_with_messages(seeded: Seeded) -> None:
    rows = await fetch(
        seeded.engine,
        """
        SELECT c.last_message_at, c.last_public_message_at,
               max(m.created_at) FILTER (WHERE m.deleted_at IS NULL),
               max(m.created_at) FILTER (WHERE m.deleted_at IS NULL AND NOT m.is_internal)
        FROM conversations c LEFT JOIN conversation_messages m ON m.conversation_id = c.id
        GROUP BY c.id
        """,
    )
    assert [row[:2] for row in rows] == [row[2:] for row in rows]
    assert any(row[0] is None for row in rows), "a conversation without messages"
    assert any(row[0] is not None and row[1] is None for row in rows), "only internal notes"
    assert any(row[1] is not None and row[1] < row[0] for row in rows), "newest is internal"


async def test_rows_stay_inside_their_organization(seeded: Seeded) -> None:
    crossings = await scalar(
        seeded.engine,
        """
        SELECT (SELECT count(*) FROM engagements e JOIN users u ON u.id = e.client_id
                WHERE u.org_id <> e.org_id OR u.role <> 1)
             + (SELECT count(*) FROM projects p JOIN engagements e ON e.id = p.engagement_id
                WHERE p.org_id <> e.org_id)
             + (SELECT count(*) FROM conversations c JOIN engagements e ON e.id = c.engagement_id
                WHERE c.org_id <> e.org_id)
             + (SELECT count(*) FROM conversation_messages m
                JOIN conversations c ON c.id = m.conversation_id
                JOIN users u ON u.id = m.sender_id
                WHERE m.org_id <> c.org_id OR u.org_id <> m.org_id
                   OR (m.is_internal AND u.role = 1))
             + (SELECT count(*) FROM orders o JOIN engagements e ON e.id = o.engagement_id
                WHERE o.org_id <> e.org_id OR o.client_id <> e.client_id)
        """,
    )
    assert crossings == 0


async def test_second_run_adds_nothing(seeded: Seeded) -> None:
    before = await table_counts(seeded.engine)
    again = await seed.seed_database(seeded.engine, 1)
    assert not again.created
    assert again.counts == before
    assert await table_counts(seeded.engine) == before


async def test_run_seed_on_a_seeded_database_reports_and_succeeds(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    before = await table_counts(seeded.engine)
    code = await asyncio.to_thread(seed.run_seed, 1, database_url=seeded.url)
    out = capsys.readouterr().out
    assert code == 0
    assert "already exists" in out
    assert seed.DEMO_ADMIN_EMAIL in out
    assert await table_counts(seeded.engine) == before


def test_scale_below_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert seed.run_seed(0, database_url="postgresql://unused@127.0.0.1:1/none") == 2
    assert "scale" in capsys.readouterr().err
    with pytest.raises(ValueError, match="scale"):
        seed.plans_for_scale(0)


async def test_two_seeds_write_identical_rows(seeded: Seeded) -> None:
    async with migrated_engine("seed_again") as (_, engine):
        await seed.seed_database(engine, 1)
        for table in seed.SEEDED_TABLES:
            query = f"SELECT * FROM {table} ORDER BY id"
            first, second = await fetch(seeded.engine, query), await fetch(engine, query)
            assert first, table
            assert first == second, table


async def test_demo_tokens_need_the_seed(seeded: Seeded) -> None:
    minted = await tokens.demo_tokens(seeded.engine, SETTINGS)
    assert set(minted) == {"admin", "staff", "client"}
    for role, token in minted.items():
        expected = seeded.summary.user(tokens.DEMO_LOGINS[role]).id
        assert verify_token(token, SETTINGS) == expected
    async with migrated_engine("seed_empty") as (_, engine):
        with pytest.raises(tokens.UserLookupError, match="seed"):
            await tokens.demo_tokens(engine, SETTINGS)


async def run_print_token(url: str, **who: Any) -> int:
    return await asyncio.to_thread(tokens.print_token, database_url=url, settings=SETTINGS, **who)


async def test_print_token_by_email_prints_only_a_token(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run_print_token(seeded.url, email="Admin@Acme.test", hours=2.0)
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("\n") == 1
    token = out.strip()
    assert verify_token(token, SETTINGS) == seeded.summary.user(seed.DEMO_ADMIN_EMAIL).id
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 2 * 3600


async def test_print_token_by_user_id(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    client = seeded.summary.user(seed.DEMO_CLIENT_EMAIL)
    assert await run_print_token(seeded.url, user_id=str(client.id)) == 0
    assert verify_token(capsys.readouterr().out.strip(), SETTINGS) == client.id


async def test_print_token_for_shared_email_needs_org(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_print_token(seeded.url, email=seed.SHARED_STAFF_EMAIL) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Acme Studio" in captured.err
    assert "Globex" in captured.err
    assert "--org" in captured.err
    for org, organization in [("globex", "Globex"), (str(seed.DEMO_ORG_ID), "Acme Studio")]:
        assert await run_print_token(seeded.url, email=seed.SHARED_STAFF_EMAIL, org=org) == 0
        expected = seeded.summary.user(seed.SHARED_STAFF_EMAIL, organization).id
        assert verify_token(capsys.readouterr().out.strip(), SETTINGS) == expected


@pytest.mark.parametrize(
    "who",
    [
        {"email": "nobody@acme.test"},
        {"email": seed.DEMO_ADMIN_EMAIL, "org": "Globex"},
        {"user_id": "00000000-0000-4000-8000-000000000000"},
        {"user_id": "not-a-uuid"},
        {"email": seed.DEMO_ADMIN_EMAIL, "hours": 0.0},
    ],
)
async def test_print_token_refuses_unknown_users(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], who: dict[str, Any]
) -> None:
    assert await run_print_token(seeded.url, **who) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("engagement-api: ")


async def test_tokens_are_refused_when_the_servers_verify_rs256(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI signs with JWT_SECRET: under RS256 the servers would refuse its tokens, so it
    prints none and says where tokens come from."""
    rs256 = SETTINGS.model_copy(update={"jwt_algorithm": "RS256", "jwt_public_key": "a key"})
    code = await asyncio.to_thread(
        tokens.print_token, database_url=seeded.url, settings=rs256, email="admin@acme.test"
    )
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert "JWT_ALGORITHM is RS256" in captured.err
    with pytest.raises(tokens.UserLookupError, match="identity provider"):
        await tokens.demo_tokens(seeded.engine, rs256)


async def test_tokens_are_refused_under_settings_no_production_server_starts_with(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    production = Settings(environment="production")  # the development secret
    code = await asyncio.to_thread(
        tokens.print_token, database_url=seeded.url, settings=production, email="admin@acme.test"
    )
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert "JWT_SECRET is the development secret" in captured.err
