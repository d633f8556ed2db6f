"""The operation compiler (`CompiledExecutor`) answers exactly what graphql-core's own
executor answers: the same data and the same errors (message, path, locations), for good
values and for each kind of bad one a resolver can hand it, at every nesting, under sync and
async parents, with and without the fast path's direct resolvers."""

from datetime import UTC, date, datetime, timedelta, timezone
from enum import IntEnum
from typing import Any

import orjson
import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from engagement_api.compiler.executor import CompiledExecutor
from engagement_api.fastpath.plain_fields import resolve_plain_fields_directly
from engagement_api.schema.direct import direct
from engagement_api.schema.extensions.validation_cache import DocumentCache
from engagement_api.schema.scalars import SCALAR_OVERRIDES


@strawberry.enum
class Shade(IntEnum):
    LIGHT = 1
    DARK = 2


@strawberry.interface
class Named:
    name: str


AT = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


@strawberry.type
class Item(Named):
    count: int
    tags: list[str]
    shade: Shade = Shade.DARK
    at: datetime = AT
    """The service's `DateTime` (`SCALAR_OVERRIDES`), which built rows leave to the encoder."""


def _given(value: Any) -> Any:
    if isinstance(value, Exception):
        raise value
    return value


async def _given_later(value: Any) -> Any:
    return _given(value)


@strawberry.type
class Holder:
    title: str
    note: str | None
    item: Item
    maybe_item: Item | None
    items: list[Item]
    loose_items: list[Item | None] | None
    buddy_value: strawberry.Private[Any] = None

    @strawberry.field
    @direct
    def buddy(self, info: strawberry.Info) -> Item:
        return _given(self.buddy_value)  # type: ignore[no-any-return]

    @strawberry.field
    @direct
    def later_buddy(self, info: strawberry.Info) -> Item | None:
        return _given_later(self.buddy_value)  # type: ignore[return-value]


def item(name: str = "a", count: int = 1, shade: Any = Shade.DARK, at: Any = AT) -> Item:
    return Item(name=name, count=count, tags=["x", "y"], shade=shade, at=at)


def holder(**changes: Any) -> Holder:
    values: dict[str, Any] = {
        "title": "t",
        "note": None,
        "item": item(),
        "maybe_item": item("m"),
        "items": [item("b", 2), item("c", 3)],
        "loose_items": [None, item("d", 4)],
        "buddy_value": item("buddy"),
    }
    values.update(changes)
    return Holder(**values)


CASES: dict[str, Holder] = {
    "good": holder(),
    "null non-null leaf": holder(title=None),
    "refused scalar": holder(item=item(count=2**40)),
    "enum by its value": holder(item=item(shade=1)),
    "refused enum": holder(item=item(shade=7)),
    "null non-null object": holder(item=None),
    "null nullable object": holder(maybe_item=None),
    "null item of non-null list": holder(items=[item(), None]),
    "bad item deep in a list": holder(items=[item(), item(count=2**40)]),
    "not a list": holder(items=item()),
    "wrong object type": holder(maybe_item=holder()),
    "an object cast to another type": holder(maybe_item=strawberry.cast(Holder, item("cast"))),
    "null item of nullable list": holder(loose_items=[None, None]),
    "resolver raises": holder(buddy_value=ValueError("no buddy")),
    "resolver returns null": holder(buddy_value=None),
    "resolver returns a bad object": holder(buddy_value=item(count=2**40)),
    "resolver returns another type": holder(buddy_value=holder()),
    "a whole-second UTC time": holder(item=item(at=AT.replace(microsecond=0))),
    "a time at another offset": holder(item=item(at=AT.astimezone(timezone(timedelta(hours=-5))))),
    "a naive time": holder(item=item(at=AT.replace(tzinfo=None))),
    "a date for a time": holder(item=item(at=date(2026, 3, 4))),
    "text for a time": holder(item=item(at="yesterday")),
    "a null time": holder(item=item(at=None)),
}


@strawberry.type
class Query:
    @strawberry.field
    def holder(self, case: str) -> Holder:
        return CASES[case]

    @strawberry.field
    async def later(self, case: str) -> Holder | None:
        return CASES[case]


def compiled(*, direct: bool, extensions: list[Any] | None = None) -> strawberry.Schema:
    schema = strawberry.Schema(
        query=Query,
        execution_context_class=CompiledExecutor,
        extensions=extensions or [],
        scalar_overrides=SCALAR_OVERRIDES,
    )
    if direct:
        resolve_plain_fields_directly(schema)
    return schema


REFERENCE = strawberry.Schema(query=Query, scalar_overrides=SCALAR_OVERRIDES)
COMPILED = {"direct": compiled(direct=True), "strawberry": compiled(direct=False)}
SELECTION = """title note item { name count tags shade at } maybeItem { name count shade at }
  items { name count } looseItems { name } buddy { name count } laterBuddy { name count }"""
ORDERS = {
    "async field last": SELECTION,
    "async field first": "laterBuddy { name count } "
    + SELECTION.replace(" laterBuddy { name count }", ""),
}
"""The async field after the synchronous ones (graphql-core never resolves it when one of
them fails a non-null field), or before them (it is started, then settled aside)."""


def outcome(result: Any) -> tuple[Any, list[tuple[Any, ...]]]:
    """The data as the response's encoder (orjson) writes it, and the errors."""
    errors = [(e.message, e.path, e.locations) for e in result.errors or []]
    return orjson.dumps(result.data), errors


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("resolvers", COMPILED)
@pytest.mark.parametrize("case", CASES)
async def test_answers_as_graphql_core_under_a_sync_parent(
    case: str, resolvers: str, order: str
) -> None:
    document = f'{{ holder(case: "{case}") {{ {ORDERS[order]} }} }}'
    expected = outcome(await REFERENCE.execute(document))
    assert outcome(await COMPILED[resolvers].execute(document)) == expected


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("resolvers", COMPILED)
@pytest.mark.parametrize("case", CASES)
async def test_answers_as_graphql_core_under_an_async_parent(
    case: str, resolvers: str, order: str
) -> None:
    selection = ORDERS[order]
    document = f'{{ later(case: "{case}") {{ {selection} }} a: holder(case: "good") {{ title }} }}'
    expected = outcome(await REFERENCE.execute(document))
    assert outcome(await COMPILED[resolvers].execute(document)) == expected


def cached_schema() -> strawberry.Schema:
    return compiled(direct=True, extensions=[DocumentCache])


async def test_a_known_document_answers_each_case_as_graphql_core_with_its_plan_reused() -> None:
    schema = cached_schema()
    document = f"query Known($case: String!) {{ holder(case: $case) {{ {SELECTION} }} }}"
    for case in CASES:  # the first request plans; every later one reuses the plan
        expected = outcome(await REFERENCE.execute(document, {"case": case}))
        assert outcome(await schema.execute(document, {"case": case})) == expected


@pytest.mark.parametrize(
    "document",
    [
        """query Q($with: Boolean!) { holder(case: "good") {
          title item { name count @include(if: $with) } items { name @skip(if: $with) } } }""",
        """query Q($with: Boolean!) { holder(case: "good") { title ...Parts } }
        fragment Parts on Holder { item { name tags @include(if: $with) } }""",
    ],
    ids=["in the operation", "in a fragment"],
)
async def test_a_known_document_with_a_directive_answers_as_graphql_core(
    document: str,
) -> None:
    schema = cached_schema()
    for include in (True, False, True, False):  # the same document, other variables
        expected = outcome(await REFERENCE.execute(document, {"with": include}))
        assert outcome(await schema.execute(document, {"with": include})) == expected


async def test_good_values_complete_without_errors() -> None:
    result = await COMPILED["direct"].execute('{ holder(case: "good") { items { name count } } }')
    assert result.errors is None
    items = [{"name": "b", "count": 2}, {"name": "c", "count": 3}]
    assert result.data == {"holder": {"items": items}}


class CountingResolves(SchemaExtension):
    calls = 0

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        CountingResolves.calls += 1
        return _next(root, info, *args, **kwargs)


async def test_an_extension_that_hooks_each_resolver_sees_every_field() -> None:
    document = f'{{ holder(case: "good") {{ {SELECTION} }} }}'
    counts = []
    for schema in (
        strawberry.Schema(query=Query, extensions=[CountingResolves]),
        compiled(direct=True, extensions=[CountingResolves]),
    ):
        CountingResolves.calls = 0
        assert (await schema.execute(document)).errors is None
        counts.append(CountingResolves.calls)
    assert counts[1] == counts[0] > 10


async def test_a_built_row_leaves_a_utc_time_for_the_encoder_to_write_as_the_scalar_does() -> None:
    result = await COMPILED["direct"].execute('{ holder(case: "good") { item { at } } }')
    assert result.errors is None
    assert result.data == {"holder": {"item": {"at": AT}}}  # left as it is
    reference = await REFERENCE.execute('{ holder(case: "good") { item { at } } }')
    assert reference.data == {"holder": {"item": {"at": "2026-03-04T05:06:07.890123+00:00"}}}
    assert orjson.dumps(result.data) == orjson.dumps(reference.data)
