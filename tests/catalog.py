"""Schema snapshots read from the PostgreSQL catalogs, and readable diffs between two of them.

A snapshot maps a key naming one schema object ("column users.email", "index idx_…",
"foreign key orders(engagement_id)") to a text describing it. Two databases have the
same schema when their snapshots are equal; `diff` lists what is not, one sorted line
per object. Used by the design comparison and by the migration round-trip tests.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from engagement_api.db import migrate
from tests.databases import create_database, server_url

Snapshot = dict[str, str]

SCHEMA = "public"
IGNORED_TABLES = frozenset({"alembic_version"})
"""Alembic's bookkeeping, not part of any schema design."""

FK_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}
_FK_MATCH = {"f": "FULL", "p": "PARTIAL", "s": "SIMPLE"}


async def _fetch(conn: asyncpg.Connection, query: str) -> list[Any]:
    return list(await conn.fetch(query, SCHEMA, list(IGNORED_TABLES)))


def _strip_schema(sql: str) -> str:
    """Catalog deparsers qualify names with the schema; both sides live in `public`."""
    return sql.replace(f"{SCHEMA}.", "")


async def _relations(conn: asyncpg.Connection, snapshot: Snapshot) -> None:
    kinds = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view"}
    for row in await _fetch(
        conn,
        """
        SELECT c.relname, c.relkind::text AS relkind,
               CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm')
          AND c.relname <> ALL($2::text[])
        """,
    ):
        kind = kinds[row["relkind"]]
        snapshot[f"{kind} {row['relname']}"] = (
            " ".join(row["definition"].split()) if row["definition"] else kind
        )


async def _columns(conn: asyncpg.Connection, snapshot: Snapshot) -> None:
    for row in await _fetch(
        conn,
        """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type,
               a.attnotnull, pg_get_expr(d.adbin, d.adrelid) AS default_expr,
               a.attidentity::text AS attidentity, a.attgenerated::text AS attgenerated
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0
          AND NOT a.attisdropped AND c.relname <> ALL($2::text[])
        """,
    ):
        parts = [row["type"], "NOT NULL" if row["attnotnull"] else "NULL"]
        if row["attgenerated"]:
            parts.append(f"GENERATED ALWAYS AS {row['default_expr']} STORED")
        elif row["default_expr"] is not None:
            parts.append(f"DEFAULT {row['default_expr']}")
        if row["attidentity"]:
            parts.append("IDENTITY " + ("ALWAYS" if row["attidentity"] == "a" else "BY DEFAULT"))
        snapshot[f"column {row['relname']}.{row['attname']}"] = " ".join(parts)


async def _indexes(conn: asyncpg.Connection, snapshot: Snapshot) -> None:
    for row in await _fetch(
        conn,
        """
        SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = $1 AND t.relname <> ALL($2::text[])
        """,
    ):
        snapshot[f"index {row['name']}"] = _strip_schema(row["definition"])


async def _constraints(conn: asyncpg.Connection, snapshot: Snapshot) -> None:
    for row in await _fetch(
        conn,
        """
        SELECT t.relname AS table_name, k.conname, k.contype::text AS contype,
               pg_get_constraintdef(k.oid) AS definition,
               k.condeferrable, k.condeferred, k.confdeltype::text AS confdeltype,
               k.confupdtype::text AS confupdtype, k.confmatchtype::text AS confmatchtype,
               r.relname AS ref_table,
               ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
                     ORDER BY u.ord) AS columns,
               ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS u(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum
                     ORDER BY u.ord) AS ref_columns
        FROM pg_constraint k
        JOIN pg_class t ON t.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        LEFT JOIN pg_class r ON r.oid = k.confrelid
        WHERE n.nspname = $1 AND t.relname <> ALL($2::text[])
          AND k.contype <> 'n'  -- NOT NULL (PostgreSQL 18+): compared with the columns
        """,
    ):
        table, columns = row["table_name"], ", ".join(row["columns"])
        deferral = ""
        if row["condeferrable"]:
            deferral = " DEFERRABLE INITIALLY " + (
                "DEFERRED" if row["condeferred"] else "IMMEDIATE"
            )
        if row["contype"] == "f":
            snapshot[f"foreign key {table}({columns})"] = (
                f"{row['conname']}: REFERENCES {row['ref_table']}({', '.join(row['ref_columns'])})"
                f" ON DELETE {FK_ACTIONS[row['confdeltype']]}"
                f" ON UPDATE {FK_ACTIONS[row['confupdtype']]}"
                f" MATCH {_FK_MATCH[row['confmatchtype']]}{deferral}"
            )
        elif row["contype"] == "p":
            snapshot[f"primary key {table}"] = f"{row['conname']}: ({columns}){deferral}"
        elif row["contype"] == "u":
            snapshot[f"unique {table}({columns})"] = (
                f"{row['conname']}: {_strip_schema(row['definition'])}"
            )
        else:
            snapshot[f"constraint {table}.{row['conname']}"] = _strip_schema(row["definition"])


async def _routines_and_triggers(conn: asyncpg.Connection, snapshot: Snapshot) -> None:
    for row in await conn.fetch(
        """
        SELECT p.oid::regprocedure::text AS signature, pg_get_functiondef(p.oid) AS definition
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        LEFT JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
        WHERE n.nspname = $1 AND p.prokind IN ('f', 'p') AND d.objid IS NULL
        """,
        SCHEMA,
    ):
        snapshot[f"function {_strip_schema(row['signature'])}"] = " ".join(
            _strip_schema(row["definition"]).split()
        )
    for row in await _fetch(
        conn,
        """
        SELECT t.relname, g.tgname, pg_get_triggerdef(g.oid) AS definition
        FROM pg_trigger g
        JOIN pg_class t ON t.oid = g.tgrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = $1 AND NOT g.tgisinternal AND t.relname <> ALL($2::text[])
        """,
    ):
        snapshot[f"trigger {row['relname']}.{row['tgname']}"] = _strip_schema(row["definition"])
    for row in await conn.fetch(
        "SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql'"
    ):
        snapshot[f"extension {row['extname']}"] = row["extversion"]
    for row in await conn.fetch(
        """
        SELECT c.relname, format_type(s.seqtypid, NULL) AS type
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1
        """,
        SCHEMA,
    ):
        snapshot[f"sequence {row['relname']}"] = row["type"]


async def _security(conn: asyncpg.Connection, snapshot: Snapshot) -> None:
    """Row-level security flags, policies and effective grants (not part of the design).

    A never-granted object's ACL is NULL, meaning its default; an explicit one may list
    the same privileges: both are compared as the privileges they amount to.
    """
    for row in await _fetch(
        conn,
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> ALL($2::text[])
        """,
    ):
        snapshot[f"row level security {row['relname']}"] = (
            f"enabled={row['relrowsecurity']} forced={row['relforcerowsecurity']}"
        )
    for row in await _fetch(
        conn,
        """
        SELECT tablename, policyname, permissive, roles::text[] AS roles, cmd, qual, with_check
        FROM pg_policies WHERE schemaname = $1 AND tablename <> ALL($2::text[])
        """,
    ):
        snapshot[f"policy {row['tablename']}.{row['policyname']}"] = (
            f"{row['permissive']} FOR {row['cmd']} TO {', '.join(sorted(row['roles']))}"
            f" USING {row['qual']} WITH CHECK {row['with_check']}"
        )
    for row in await _fetch(
        conn,
        """
        SELECT c.relname,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee,
               string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type) AS privileges
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
             aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm')
          AND c.relname <> ALL($2::text[])
        GROUP BY c.relname, a.grantee
        """,
    ):
        snapshot[f"grant {row['relname']} to {row['grantee']}"] = row["privileges"]
    for row in await conn.fetch(
        """
        SELECT p.oid::regprocedure::text AS signature,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee,
               string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type) AS privileges
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
             aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
        WHERE n.nspname = $1
        GROUP BY p.oid, a.grantee
        """,
        SCHEMA,
    ):
        snapshot[f"grant {_strip_schema(row['signature'])} to {row['grantee']}"] = row["privileges"]
    for row in await conn.fetch(
        """
        SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee,
               string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type) AS privileges
        FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
        WHERE n.nspname = $1
        GROUP BY a.grantee
        """,
        SCHEMA,
    ):
        snapshot[f"grant schema {SCHEMA} to {row['grantee']}"] = row["privileges"]


async def snapshot(database_url: str, *, include_security: bool = False) -> Snapshot:
    """The schema of `public` in the database at `database_url`, as catalog facts."""
    result: Snapshot = {}
    conn = await asyncpg.connect(database_url)
    try:
        await _relations(conn, result)
        await _columns(conn, result)
        await _indexes(conn, result)
        await _constraints(conn, result)
        await _routines_and_triggers(conn, result)
        if include_security:
            await _security(conn, result)
    finally:
        await conn.close()
    return result


def diff(left: Snapshot, right: Snapshot, left_name: str, right_name: str) -> list[str]:
    """One sorted line per object that is only on one side or described differently."""
    lines = [f"only in {left_name}: {key}: {left[key]}" for key in left.keys() - right.keys()]
    lines += [f"only in {right_name}: {key}: {right[key]}" for key in right.keys() - left.keys()]
    lines += [
        f"differs: {key}: {left_name} {left[key]!r} | {right_name} {right[key]!r}"
        for key in left.keys() & right.keys()
        if left[key] != right[key]
    ]
    return sorted(lines)


def format_diff(lines: list[str]) -> str:
    return "\n".join(["", *(f"  {line}" for line in lines)])


async def drop_scratch_database(url: str) -> None:
    """Drop the database of `url`, named by the URL's path.

    `tests.databases.drop_database` takes the name after the URL's last "/", which for the
    embedded server's socket URL (`...@/name?host=/path/.pgdata`) is ".pgdata", so it
    drops nothing there; the name is read here from the path instead.
    """
    name = urlsplit(url).path.lstrip("/")
    if not name or '"' in name:
        raise ValueError(f"no database name in {url!r}")
    conn = await asyncpg.connect(server_url())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(prefix: str) -> AsyncIterator[str]:
    """A new empty database on the test server, dropped on exit."""
    url = await create_database(prefix)
    try:
        yield url
    finally:
        await drop_scratch_database(url)


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Run the migrations up to `revision` (outside the event loop: Alembic runs its own)."""
    await asyncio.to_thread(migrate.upgrade, database_url, revision)


async def downgrade(database_url: str, revision: str = "base") -> None:
    await asyncio.to_thread(migrate.downgrade, database_url, revision)


@asynccontextmanager
async def migrated_database(prefix: str) -> AsyncIterator[str]:
    """A scratch database migrated to head, dropped on exit."""
    async with scratch_database(prefix) as url:
        await upgrade(url)
        yield url
