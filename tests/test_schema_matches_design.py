"""The migrations build the approved design's schema, plus only the documented additions.

One scratch database is built from the design itself: `tests/design/preexisting_tables.sql`
(domain rules, section 1), then every ```sql block of engagement-model.md, read at test
time, then section 5's cascade table applied to the foreign keys it names. Another is
built by running the migrations to head. Both are compared from the catalogs
(`tests/catalog.py`); every difference must be listed below, with its reason.
"""

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from tests.catalog import (
    FK_ACTIONS,
    Snapshot,
    diff,
    format_diff,
    migrated_database,
    scratch_database,
    snapshot,
)

PREEXISTING_TABLES_SQL = Path(__file__).resolve().parent / "design" / "preexisting_tables.sql"

OUTBOX = (
    "0005: the live feed's transactional outbox and its retention horizon (domain rules, section 7)"
)
CURSOR_KEY = (
    "0007: the key event cursors are enciphered with, so that they reveal nothing of the "
    "events a viewer is not shown (domain rules, section 2)"
)
PRUNED = (
    "0009: what retention pruned per conversation, so that a resume is refused only when "
    "events its viewer would be shown are gone (domain rules, section 7)"
)
AMOUNTS = (
    "0008: amounts within GraphQL's Int, which the contract serves them as (amountCents: Int!)"
)
INTENDED_DIFFERENCES: dict[str, str] = {
    "only in migrations: constraint proposals.proposals_amount_cents_int": AMOUNTS,
    "only in migrations: constraint orders.orders_amount_cents_int": AMOUNTS,
    "only in migrations: column conversations.last_public_message_at": (
        "0003: time of the newest non-internal message, so that a CLIENT's lastMessageAt "
        "and activity order reveal nothing of internal notes (domain rules, section 3)"
    ),
    "only in migrations: index idx_conversations_last_public_message_at": (
        "0003: indexed like last_message_at, as domain rules section 3 expects"
    ),
    "only in migrations: index idx_conversation_messages_conversation_id_created_at_id": (
        "0003: keyset pagination of a conversation's messages (created_at, id order)"
    ),
    "only in migrations: index idx_engagements_org_id_created_at_id": (
        "0003: keyset pagination of an organization's engagements, newest first"
    ),
    "only in migrations: function engagement_viewer(uuid)": (
        "0004: the viewer lookup of row-level security (domain rules, section 5), a "
        "SECURITY DEFINER function that sets the transaction's user and organization"
    ),
    "only in migrations: table message_events": OUTBOX,
    "only in migrations: table message_event_horizon": OUTBOX,
    "only in migrations: sequence message_events_position_seq": OUTBOX,
    "only in migrations: column message_events.position": OUTBOX,
    "only in migrations: column message_events.conversation_id": OUTBOX,
    "only in migrations: column message_events.org_id": OUTBOX,
    "only in migrations: column message_events.kind": OUTBOX,
    "only in migrations: column message_events.message_id": OUTBOX,
    "only in migrations: column message_events.is_internal": OUTBOX,
    "only in migrations: column message_events.created_at": OUTBOX,
    "only in migrations: primary key message_events": OUTBOX,
    "only in migrations: index message_events_pkey": OUTBOX,
    "only in migrations: index idx_message_events_conversation_id_position": OUTBOX,
    "only in migrations: column message_event_horizon.id": OUTBOX,
    "only in migrations: column message_event_horizon.pruned_through": OUTBOX,
    "only in migrations: primary key message_event_horizon": OUTBOX,
    "only in migrations: index message_event_horizon_pkey": OUTBOX,
    "only in migrations: constraint message_event_horizon.message_event_horizon_single_row": OUTBOX,
    **{
        f"only in migrations: {thing}": PRUNED
        for thing in (
            "column message_event_horizon.markers_from",
            "table message_event_pruned",
            "column message_event_pruned.conversation_id",
            "column message_event_pruned.org_id",
            "column message_event_pruned.pruned_through",
            "column message_event_pruned.public_pruned_through",
            "index message_event_pruned_pkey",
            "primary key message_event_pruned",
        )
    },
    **{
        f"only in migrations: {thing}": CURSOR_KEY
        for thing in (
            "table message_event_cursor_key",
            "column message_event_cursor_key.id",
            "column message_event_cursor_key.key",
            "constraint message_event_cursor_key.message_event_cursor_key_length",
            "constraint message_event_cursor_key.message_event_cursor_key_single_row",
            "index message_event_cursor_key_pkey",
            "primary key message_event_cursor_key",
        )
    },
}
"""Every object by which the migrated schema may differ from the design, with its reason.

Keys are diff lines without the object's description (see `subject`)."""

SECTION_5_ADJUSTMENTS: dict[str, str] = {
    "orders(engagement_id) -> engagements: ON DELETE NO ACTION becomes SET NULL": (
        "the design's section 2 SQL adds orders.engagement_id without an ON DELETE action, "
        "but its section 5 (and domain rules, section 1) require SET NULL: orders are "
        "financial records and are kept. The design database follows section 5."
    ),
}
"""Foreign keys whose action the design's section 5 table changes from its section 2 SQL."""

_ACTION = re.compile(r"^(CASCADE|SET NULL|SET DEFAULT|RESTRICT|NO ACTION)\b", re.IGNORECASE)


def subject(diff_line: str) -> str:
    """A diff line without its description: "only in migrations: index idx_x"."""
    return ": ".join(diff_line.split(": ", 2)[:2])


def design_dir() -> Path:
    override = os.environ.get("ENGAGEMENT_DESIGN_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "shared" / "design"


def engagement_model() -> str:
    return (design_dir() / "engagement-model.md").read_text(encoding="utf-8")


def sql_blocks(markdown: str) -> list[str]:
    """The bodies of the document's ```sql fenced blocks, in order."""
    return re.findall(r"^```sql[ \t]*\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)


def section(markdown: str, number: int) -> str:
    """The text of the `## <number>.` section, up to the next level-2 heading."""
    match = re.search(
        rf"^## {number}\.[^\n]*\n(.*?)(?=^## |\Z)", markdown, flags=re.MULTILINE | re.DOTALL
    )
    assert match, f"engagement-model.md has no section {number}"
    return match.group(1)


def cascade_rules(markdown: str) -> list[tuple[str, str, str]]:
    """Section 5's (parent, child, on-delete action) rows."""
    rules = []
    for line in section(markdown, 5).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3:
            continue
        action = _ACTION.match(cells[2])
        if action:
            rules.append((cells[0], cells[1], action.group(1).upper()))
    return rules


async def apply_cascade_rules(conn: asyncpg.Connection, markdown: str) -> list[str]:
    """Give each foreign key of section 5's table its action; describe what changed."""
    rules = cascade_rules(markdown)
    assert rules, "section 5 of engagement-model.md lists no cascade rules"
    changes = []
    for parent, child, action in rules:
        keys = await conn.fetch(
            """
            SELECT k.conname, k.confdeltype::text AS confdeltype,
                   ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
                         JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
                         ORDER BY u.o) AS columns,
                   ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, o)
                         JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
                         ORDER BY u.o) AS ref_columns
            FROM pg_constraint k
            WHERE k.contype = 'f' AND k.conrelid = $1::regclass AND k.confrelid = $2::regclass
            """,
            child,
            parent,
        )
        assert len(keys) == 1, f"section 5: {child} -> {parent} is not exactly one foreign key"
        key = keys[0]
        current = FK_ACTIONS[key["confdeltype"]]
        if current == action:
            continue
        columns, ref_columns = ", ".join(key["columns"]), ", ".join(key["ref_columns"])
        await conn.execute(
            f"ALTER TABLE {child} DROP CONSTRAINT {key['conname']}, "
            f"ADD CONSTRAINT {key['conname']} FOREIGN KEY ({columns}) "
            f"REFERENCES {parent}({ref_columns}) ON DELETE {action}"
        )
        changes.append(f"{child}({columns}) -> {parent}: ON DELETE {current} becomes {action}")
    return changes


class DesignDatabase:
    def __init__(self, url: str, section_5_changes: list[str]) -> None:
        self.url = url
        self.section_5_changes = section_5_changes


@pytest_asyncio.fixture(scope="module")
async def design_database() -> AsyncIterator[DesignDatabase]:
    markdown = engagement_model()
    blocks = sql_blocks(markdown)
    assert blocks, "engagement-model.md has no ```sql blocks"
    async with scratch_database("design") as url:
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                await conn.execute(PREEXISTING_TABLES_SQL.read_text(encoding="utf-8"))
                for block in blocks:
                    await conn.execute(block)
                changes = await apply_cascade_rules(conn, markdown)
        finally:
            await conn.close()
        yield DesignDatabase(url, changes)


@pytest_asyncio.fixture(scope="module")
async def migrated_url() -> AsyncIterator[str]:
    async with migrated_database("schema") as url:
        yield url


@pytest_asyncio.fixture(scope="module")
async def design_snapshot(design_database: DesignDatabase) -> Snapshot:
    return await snapshot(design_database.url)


@pytest_asyncio.fixture(scope="module")
async def migrated_snapshot(migrated_url: str) -> Snapshot:
    return await snapshot(migrated_url)


def test_design_section_5_changes_only_the_documented_foreign_keys(
    design_database: DesignDatabase,
) -> None:
    assert sorted(design_database.section_5_changes) == sorted(SECTION_5_ADJUSTMENTS)


def test_design_database_has_the_design_tables(design_snapshot: Snapshot) -> None:
    tables = {key.removeprefix("table ") for key in design_snapshot if key.startswith("table ")}
    assert tables == {
        "organizations",
        "users",
        "services",
        "proposals",
        "orders",
        "engagements",
        "projects",
        "conversations",
        "conversation_messages",
    }


def test_migrations_build_the_designed_schema(
    design_snapshot: Snapshot, migrated_snapshot: Snapshot
) -> None:
    lines = diff(design_snapshot, migrated_snapshot, "design", "migrations")
    subjects = {subject(line) for line in lines}
    unexpected = [line for line in lines if subject(line) not in INTENDED_DIFFERENCES]
    stale = [
        f"listed in INTENDED_DIFFERENCES but not found: {intended}"
        for intended in INTENDED_DIFFERENCES
        if intended not in subjects
    ]
    if unexpected or stale:
        pytest.fail(
            "the migrated schema differs from the design (engagement-model.md and "
            "tests/design/preexisting_tables.sql) other than as INTENDED_DIFFERENCES lists:"
            + format_diff(sorted(unexpected + stale)),
            pytrace=False,
        )


async def test_every_tenant_table_forces_row_level_security(migrated_url: str) -> None:
    conn = await asyncpg.connect(migrated_url)
    try:
        rows = await conn.fetch(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
              AND (c.relname = 'organizations' OR EXISTS (
                SELECT FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped))
            """
        )
    finally:
        await conn.close()
    checked = {row["relname"] for row in rows}
    assert {"organizations", "users", "engagements", "conversation_messages"} <= checked
    unprotected = sorted(
        f"{row['relname']}: enabled={row['relrowsecurity']} forced={row['relforcerowsecurity']}"
        for row in rows
        if not (row["relrowsecurity"] and row["relforcerowsecurity"])
    )
    assert unprotected == []
