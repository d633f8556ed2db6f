"""Writes run on the driver (`DatabaseSession.execute`, compiled by `db/prepared.py`) do
what SQLAlchemy's own execution of the same statement does: the same rows back (values,
types, names), the same rows left in the table, the same refusal.

Statement shapes are generated: INSERT, UPDATE and DELETE on tables with the column types
the API writes (UUID, text, big integers, CHAR, integer enums, timestamps, booleans,
JSONB), values inline or SQL expressions, every kind of RETURNING. Each statement runs
twice, each time in a transaction that is rolled back: once through the session, once
through SQLAlchemy's `AsyncConnection.execute`, both as the same viewer.
"""

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, Text, cast, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db import visibility, writes
from engagement_api.db.engine import EngineOptions, create_engine
from engagement_api.db.enums import ProposalStatus, Role
from engagement_api.db.models import Message, Proposal
from engagement_api.db.prepared import _prepared as prepared_statements
from engagement_api.db.scope import Scope
from engagement_api.db.session import VIEWER_STATEMENT, DatabaseSession
from engagement_api.errors import ServiceUnavailableError
from tests.factories import Made, World


@dataclass
class Place:
    """An organization with rows to write next to and over."""

    org: Made
    staff: Made
    client: Made
    conversation: Made
    proposals: list[uuid.UUID]
    messages: list[uuid.UUID]


@pytest.fixture
async def place(world: World) -> Place:
    org = await world.organization("Prepared writes")
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    engagement = await world.engagement(org, client)
    conversation = await world.conversation(engagement)
    proposals = [
        (await world.proposal(org, client, status)).id
        for status in (ProposalStatus.DRAFT, ProposalStatus.SENT)
    ]
    messages = [
        (await world.message(conversation, staff, "plain")).id,
        (await world.message(conversation, client, "files", attachments=[{"n": 1}])).id,
    ]
    return Place(org, staff, client, conversation, proposals, messages)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


PROPOSALS, MESSAGES = _table(Proposal), _table(Message)
MOMENTS = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)
TEXT = st.text(st.characters(exclude_characters="\x00", codec="utf-8"), max_size=40)
JSON_VALUES = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT
ATTACHMENTS = st.none() | st.lists(st.dictionaries(TEXT, JSON_VALUES, max_size=3), max_size=3)
NOW = st.sampled_from([writes.NOW, func.now()])
"""The transaction's time: the one a template holds inline, or another expression (the
statement is then built per call)."""
Values = Callable[[Place], dict[str, Any]]


@st.composite
def proposal_values(draw: st.DrawFn, *, inserting: bool) -> Values:
    """Values for a proposal, chosen now, resolved against the place when run."""
    chosen: dict[str, Any] = {}
    optional = {
        "title": TEXT.filter(bool),
        "amount_cents": st.integers(-(2**63), 2**63 - 1),
        "currency": st.text("ABCDEFXYZ", min_size=3, max_size=4),  # 4: too long, refused
        "status": st.sampled_from(ProposalStatus),
        "signed_at": st.none() | MOMENTS | NOW,
        "updated_at": MOMENTS | NOW,
    }
    for name, strategy in optional.items():
        if (inserting and name in ("title", "amount_cents", "currency")) or draw(st.booleans()):
            chosen[name] = draw(strategy)
    if not inserting and not chosen:
        chosen["amount_cents"] = PROPOSALS.c.amount_cents + draw(st.integers(-5, 5))
    new_id = draw(st.uuids() | st.none())  # None: an existing row's id, refused

    def resolve(place: Place) -> dict[str, Any]:
        if not inserting:
            return dict(chosen)
        row_id = place.proposals[0] if new_id is None else new_id
        return {**chosen, "id": row_id, "org_id": place.org.id, "client_id": place.client.id}

    return resolve


@st.composite
def message_values(draw: st.DrawFn, *, inserting: bool) -> Values:
    chosen: dict[str, Any] = {}
    optional = {
        "content": TEXT,
        "is_internal": st.booleans(),
        "attachments": ATTACHMENTS,
        "deleted_at": st.none() | MOMENTS | NOW,
    }
    for name, strategy in optional.items():
        if (inserting and name == "content") or draw(st.booleans()):
            chosen[name] = draw(strategy)
    if not inserting and not chosen:
        chosen["is_internal"] = ~MESSAGES.c.is_internal
    new_id = draw(st.uuids())

    def resolve(place: Place) -> dict[str, Any]:
        if not inserting:
            return dict(chosen)
        return {
            **chosen,
            "id": new_id,
            "org_id": place.org.id,
            "conversation_id": place.conversation.id,
            "sender_id": place.staff.id,
        }

    return resolve


Statement = Callable[[Place], tuple[writes.Write, Table]]
"""The write for a place, and the table it writes."""


@st.composite
def returning(draw: st.DrawFn, table: Table) -> tuple[Any, ...] | None:
    """None (no RETURNING), or the columns (all, or some in any order, or an expression)."""
    kind = draw(st.sampled_from(["none", "all", "some", "expression"]))
    if kind == "none":
        return None
    if kind == "all":
        return tuple(table.c)
    if kind == "some":
        columns = draw(st.lists(st.sampled_from(list(table.c)), min_size=1, max_size=4))
        return tuple(dict.fromkeys(columns))
    return (table.c.id, func.length(cast(table.c.id, Text)).label("id_length"))


@st.composite
def statements(draw: st.DrawFn) -> Statement:
    table, model = draw(st.sampled_from([(PROPOSALS, Proposal), (MESSAGES, Message)]))
    values = proposal_values if table is PROPOSALS else message_values
    kind = draw(
        st.sampled_from(
            [
                "insert",
                "writes.create",
                "update",
                "writes.update",
                "writes.locked",
                "delete",
                "other",
            ]
        )
    )
    target = draw(st.sampled_from([0, 1, None]))  # an existing row, or none
    returned = draw(returning(table))
    inserted = draw(values(inserting=True))
    changed = draw(values(inserting=False))
    narrowed = draw(st.sampled_from(["no", "compared", "listed"]))
    lock = draw(st.sampled_from(writes.Lock))
    # By id, or by a list of ids (an expanding IN: existing rows, a missing one, or none).
    listed = draw(st.none() | st.lists(st.sampled_from([0, 1, None]), max_size=3))
    statuses = draw(st.lists(st.sampled_from(ProposalStatus), max_size=3))

    def build(place: Place) -> tuple[writes.Write, Table]:
        return write(place), table

    def write(place: Place) -> writes.Write:
        existing = place.proposals if table is PROPOSALS else place.messages
        row_id = uuid.uuid4() if target is None else existing[target]
        where = [table.c.id == row_id]
        if listed is not None:
            ids = [uuid.uuid4() if at is None else existing[at] for at in listed]
            where = [table.c.id.in_(ids)]
        if narrowed == "compared":  # a condition on another column, bound like the mutations'
            where.append(
                table.c.status != ProposalStatus.SIGNED
                if table is PROPOSALS
                else table.c.deleted_at.is_(None)
            )
        elif narrowed == "listed":
            where.append(
                table.c.status.in_(statuses)
                if table is PROPOSALS
                else table.c.is_internal.in_([False])
            )
        statement: Any
        if kind == "insert":
            statement = insert(table).values(inserted(place))
        elif kind == "update":
            statement = update(table).where(*where).values(changed(place))
        elif kind == "delete":
            statement = delete(table).where(*where)
        elif kind == "writes.create":  # the mutations' writes: templates, values bound
            return writes.create(model, **inserted(place))
        elif kind == "writes.update":
            return writes.update(model, row_id, **changed(place))
        elif kind == "writes.locked":
            visible = visibility.proposals if table is PROPOSALS else visibility.messages
            scope = Scope(place.org.id, place.staff.id, Role.STAFF)
            return writes.locked(model, visible, scope, row_id, lock)
        elif table is MESSAGES:
            return writes.soft_delete(model, row_id)
        else:  # every row the viewer may see
            statement = delete(table).where(table.c.org_id == place.org.id)
        return (statement if returned is None else statement.returning(*returned)), None

    return build


def _normalized(rows: list[Any], now: datetime) -> list[tuple[Any, ...]]:
    """Rows with the transaction's time as a marker (each run has its own `now()`)."""
    return [tuple("now()" if value == now else value for value in row) for row in rows]


@dataclass
class Outcome:
    rows: list[tuple[Any, ...]]
    types: list[list[type]]
    fields: tuple[str, ...] | None
    table: list[tuple[Any, ...]]
    refused: str | None = None


def _outcome(rows: list[Any], after: list[Any], now: datetime) -> Outcome:
    return Outcome(
        rows=_normalized(rows, now),
        types=[list(map(type, row)) for row in rows],
        fields=tuple(rows[0]._fields) if rows else None,
        table=_normalized(after, now),
    )


def _snapshot(table: Table, place: Place) -> Any:
    return select(table).where(table.c.org_id == place.org.id).order_by(table.c.id)


async def _through_session(
    engine: AsyncEngine, place: Place, write: writes.Write, table: Table
) -> Outcome:
    statement: Any = write[0]
    session = DatabaseSession(engine)
    try:
        await session.open_for_viewer(place.staff.id)
        now = (await session.execute(select(func.now()))).one()[0]
        try:
            async with session.savepoint():
                rows = (await session.execute(*write)).all()
                if not statement.exported_columns:
                    # No RETURNING asked for: a bare INSERT's implicit one (its new key, as
                    # SQLAlchemy's `inserted_primary_key` has it) is no row to SQLAlchemy.
                    rows = []
        except asyncpg.PostgresError as error:
            return Outcome([], [], None, [], refused=error.sqlstate)
        after = (await session.execute(_snapshot(table, place))).all()
        return _outcome(rows, after, now)
    finally:
        await session.close(commit=False)


async def _through_sqlalchemy(
    engine: AsyncEngine, place: Place, write: writes.Write, table: Table
) -> Outcome:
    statement: Any = write[0]
    async with engine.connect() as connection:
        try:
            await connection.execute(VIEWER_STATEMENT, {"viewer_id": place.staff.id})
            now = (await connection.execute(select(func.now()))).scalar_one()
            try:
                async with connection.begin_nested():
                    result = await connection.execute(statement, write[1])
                    rows: list[Any] = list(result.all()) if result.returns_rows else []
            except DBAPIError as error:
                return Outcome([], [], None, [], refused=getattr(error.orig, "sqlstate", None))
            after = list((await connection.execute(_snapshot(table, place))).all())
            return _outcome(rows, after, now)
        finally:
            await connection.rollback()


@settings(max_examples=max(settings().max_examples, 120))
@given(build=statements())
async def test_a_write_does_on_the_driver_what_it_does_through_sqlalchemy(
    owner_engine: AsyncEngine, place: Place, build: Statement
) -> None:
    write, table = build(place)
    expected = await _through_sqlalchemy(owner_engine, place, write, table)
    found = await _through_session(owner_engine, place, write, table)
    assert found == expected


async def test_only_a_template_run_with_parameters_is_kept_compiled(
    owner_engine: AsyncEngine, place: Place
) -> None:
    """A template (one statement object, values bound by name) is compiled once and kept;
    a write built per call is not kept (it would never run again, and would push the read
    templates out of the cache)."""
    template = text("UPDATE proposals SET title = :title WHERE id = :id RETURNING title")
    row = PROPOSALS.c.id == place.proposals[0]
    built = [update(PROPOSALS).where(row).values(title=title) for title in "ab"]
    session = DatabaseSession(owner_engine)
    try:
        await session.open_for_viewer(place.staff.id)
        for title in ("first", "second"):
            parameters = {"title": title, "id": place.proposals[0]}
            assert (await session.execute(template, parameters)).one().title == title
        for statement in built:
            await session.execute(statement)
    finally:
        await session.close(commit=False)
    kept = {id(statement) for statement, _ in prepared_statements.values()}
    assert id(template) in kept
    assert not kept & {id(statement) for statement in built}


async def test_a_write_that_deadlocks_is_service_unavailable_and_the_other_goes_on(
    owner_engine: AsyncEngine, place: Place
) -> None:
    """Two requests lock two rows in opposite orders: PostgreSQL breaks the deadlock by
    failing one (40P01), which answers the retryable SERVICE_UNAVAILABLE; the other commits."""
    first, second = DatabaseSession(owner_engine), DatabaseSession(owner_engine)
    await first.open_for_viewer(place.staff.id)
    await second.open_for_viewer(place.staff.id)
    a, b = place.proposals

    async def lock(session: DatabaseSession, one: uuid.UUID, other: uuid.UUID) -> str:
        await session.execute(*writes.update(Proposal, one, title="locked"))
        await asyncio.sleep(0.2)  # both hold their first row before asking for the second
        try:
            await session.execute(*writes.update(Proposal, other, title="locked"))
        except ServiceUnavailableError:
            await session.close(commit=False)
            return "unavailable"
        await session.close(commit=True)
        return "committed"

    outcomes = await asyncio.gather(lock(first, a, b), lock(second, b, a))
    assert sorted(outcomes) == ["committed", "unavailable"]


async def test_a_write_over_the_statement_timeout_is_service_unavailable(
    database_url: str, place: Place
) -> None:
    engine = create_engine(database_url, EngineOptions(statement_timeout_ms=100))
    session = DatabaseSession(engine)
    try:
        await session.open_for_viewer(place.staff.id)
        slow = (
            update(PROPOSALS)
            .where(PROPOSALS.c.id == place.proposals[0])
            .values(title=func.concat("slow", func.pg_sleep(1)))
        )
        with pytest.raises(ServiceUnavailableError):
            await session.execute(slow)
    finally:
        await session.close(commit=False)
        await engine.dispose()
