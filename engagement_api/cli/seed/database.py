"""Writes a seed into the database once, and the `engagement-api seed` command."""

import asyncio
import sys
import time
from collections.abc import Awaitable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.cli.seed.dataset import (
    SEEDED_TABLES,
    TABLE_COLUMNS,
    Dataset,
    build_dataset,
    listed_users,
)
from engagement_api.cli.seed.plans import (
    DEMO_ORG_ID,
    DEMO_ORG_NAME,
    OrgPlan,
    SeedUser,
    plans_for_scale,
)
from engagement_api.db import migrate
from engagement_api.db.engine import EngineOptions, create_engine, resolve_database_url
from engagement_api.db.tenancy import BYPASSES_ROW_LEVEL_SECURITY
from engagement_api.settings import Settings, get_settings

ADVISORY_LOCK_KEY = 0x5EED_E9A6
DB_TIMEOUT_SECONDS = 1800.0


@dataclass(frozen=True)
class SeedSummary:
    """What a seed run left in the database."""

    scale: int
    created: bool
    counts: dict[str, int]
    users: tuple[SeedUser, ...]
    seconds: float
    expected_engagements: int

    def user(self, email: str, organization: str = DEMO_ORG_NAME) -> SeedUser:
        for user in self.users:
            if user.email == email and user.organization == organization:
                return user
        raise KeyError(f"{email} in {organization}")

    @property
    def matches_scale(self) -> bool:
        """False when a benchmark scale finds data of another scale (the demo fits any)."""
        return self.scale == 1 or self.counts.get("engagements") == self.expected_engagements


class _Driver(Protocol):
    """The part of an asyncpg connection the seed uses (asyncpg ships no type hints)."""

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    def execute(self, query: str, *args: Any, timeout: float | None = None) -> Awaitable[str]: ...

    def fetchval(self, query: str, *args: Any, timeout: float | None = None) -> Awaitable[Any]: ...

    def copy_records_to_table(
        self,
        table_name: str,
        *,
        records: Any,
        columns: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> Awaitable[str]: ...


class SeedError(Exception):
    """The database cannot be seeded as asked."""


async def seed_database(engine: AsyncEngine, scale: int = 1) -> SeedSummary:
    """Seed `scale`'s data unless the demo organization exists; report what is there."""
    plans = plans_for_scale(scale)
    started = time.perf_counter()
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = cast(_Driver, raw.driver_connection)
        created = await _seed_once(driver, plans)
        if created:
            await driver.execute(f"ANALYZE {', '.join(SEEDED_TABLES)}", timeout=DB_TIMEOUT_SECONDS)
        counts = await _count_rows(driver)
    return SeedSummary(
        scale=scale,
        created=created,
        counts=counts,
        users=listed_users(plans),
        seconds=time.perf_counter() - started,
        expected_engagements=sum(plan.engagements for plan in plans),
    )


async def _seed_once(driver: _Driver, plans: Sequence[OrgPlan]) -> bool:
    """In one transaction: seed everything, or nothing when the demo organization exists."""
    async with driver.transaction():
        await driver.execute("SET LOCAL statement_timeout = 0", timeout=DB_TIMEOUT_SECONDS)
        await driver.execute(
            "SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK_KEY, timeout=DB_TIMEOUT_SECONDS
        )
        exists = await driver.fetchval(
            "SELECT EXISTS (SELECT FROM organizations WHERE id = $1)", DEMO_ORG_ID
        )
        if exists:
            return False
        await _require_rls_bypass(driver)
        data = await asyncio.to_thread(build_dataset, plans)
        await _write(driver, data)
        return True


async def _require_rls_bypass(driver: _Driver) -> None:
    bypass = await driver.fetchval(BYPASSES_ROW_LEVEL_SECURITY)
    if not bypass:
        raise SeedError(
            "Seeding writes every organization at once and needs the owner connection "
            "(a superuser or a BYPASSRLS role) in DATABASE_URL."
        )


async def _write(driver: _Driver, data: Dataset) -> None:
    for table, columns in TABLE_COLUMNS.items():
        rows = data.rows[table]
        if rows:
            await driver.copy_records_to_table(
                table, records=rows, columns=columns, timeout=DB_TIMEOUT_SECONDS
            )
    if data.conversions:
        proposals, orders, engagements = (
            list(column) for column in zip(*data.conversions, strict=True)
        )
        await driver.execute(
            """
            UPDATE proposals p
            SET converted_order_id = c.order_id, converted_engagement_id = c.engagement_id
            FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS c(id, order_id, engagement_id)
            WHERE p.id = c.id
            """,
            proposals,
            orders,
            engagements,
            timeout=DB_TIMEOUT_SECONDS,
        )


async def _count_rows(driver: _Driver) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in SEEDED_TABLES:
        value = await driver.fetchval(f"SELECT count(*) FROM {table}", timeout=DB_TIMEOUT_SECONDS)
        counts[table] = int(value)
    return counts


def token_hint(settings: Settings) -> str:
    """How to get a token for a listed user, as it works in a shell with these settings."""
    if settings.jwt_algorithm != "HS256":
        algorithm = settings.jwt_algorithm
        return f"their tokens come from the identity provider: JWT_ALGORITHM is {algorithm}"
    command = "engagement-api token --email EMAIL [--org ORG]"
    # ENVIRONMENT is production unless set: a secret production refuses (the development
    # one) mints only under ENVIRONMENT=development, which a new shell does not have.
    production = settings.model_copy(update={"environment": "production"})
    return f"ENVIRONMENT=development {command}" if production.startup_error() else command


def format_summary(summary: SeedSummary, settings: Settings | None = None) -> str:
    """A few lines for the terminal: what happened, row counts, the demo logins."""
    if summary.created:
        head = f"Seeded scale {summary.scale} in {summary.seconds:.1f}s."
    else:
        head = f"{DEMO_ORG_NAME} already exists: nothing added."
    counts = ", ".join(f"{table} {count:,}" for table, count in summary.counts.items())
    hint = token_hint(settings or get_settings())
    lines = [head, f"Rows: {counts}.", f"Users ({hint}):"]
    width = max(len(user.email) for user in summary.users)
    for user in summary.users:
        lines.append(
            f"  {user.email:<{width}}  {user.role.name:<6}  {user.organization:<12}  {user.id}"
        )
    return "\n".join(lines)


async def _seed_url(database_url: str, scale: int) -> SeedSummary:
    options = EngineOptions(pool_size=1, max_overflow=0, statement_timeout_ms=600_000)
    engine = create_engine(database_url, options)
    try:
        return await seed_database(engine, scale)
    finally:
        await engine.dispose()


def run_seed(scale: int = 1, *, database_url: str | None = None) -> int:
    """CLI entry: migrate to head, seed, print a summary. 0 on success, 1 or 2 on errors."""
    if scale < 1:
        print("engagement-api: --scale must be at least 1", file=sys.stderr)
        return 2
    url = database_url or resolve_database_url(get_settings())
    migrate.upgrade(url)
    try:
        summary = asyncio.run(_seed_url(url, scale))
    except SeedError as error:
        print(f"engagement-api: {error}", file=sys.stderr)
        return 1
    print(format_summary(summary))
    if not summary.matches_scale:
        print(
            f"warning: the database holds {summary.counts['engagements']:,} engagements, "
            f"scale {scale} creates {summary.expected_engagements:,}; it was seeded at another "
            "scale. Seed a fresh database for this one.",
            file=sys.stderr,
        )
        return 1
    return 0
