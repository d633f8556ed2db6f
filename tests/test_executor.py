"""`AttributeReadingExecutor` answers exactly what graphql-core's own executor answers: the
same data and the same errors (message, path, locations), for good values and for each kind
of bad one, at every nesting, under sync and async parents."""

from enum import IntEnum
from typing import Any

import pytest
import strawberry
from graphql import parse
from strawberry.extensions import SchemaExtension

from engagement_api.fastpath.executor import AttributeReadingExecutor
from engagement_api.fastpath.field_plans import plan_field
from engagement_api.fastpath.plain_fields import resolve_plain_fields_directly
from engagement_api.schema.direct import direct
from engagement_api.schema.extensions.validation_cache import DocumentCache


@strawberry.enum
class Shade(IntEnum):
    LIGHT = 1
    DARK = 2


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Item(Named):
    count: int
    tags: list[str]
    shade: Shade = Shade.DARK


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


def item(name: str = "a", count: int = 1, shade: Any = Shade.DARK) -> Item:
    return Item(name=name, count=count, tags=["x", "y"], shade=shade)


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
}


@strawberry.type
class Query:
    @strawberry.field
    def holder(self, case: str) -> Holder:
        return CASES[case]

    @strawberry.field
    async def later(self, case: str) -> Holder | None:
        return CASES[case]


def schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    reference = strawberry.Schema(query=Query)
    fast = strawberry.Schema(query=Query, execution_context_class=AttributeReadingExecutor)
    resolve_plain_fields_directly(fast)
    return reference, fast


REFERENCE, FAST = schemas()
SELECTION = """title note item { name count tags shade } maybeItem { name count shade }
  items { name count } looseItems { name } buddy { name count } laterBuddy { name count }"""


def outcome(result: Any) -> tuple[Any, list[tuple[Any, ...]]]:
    errors = [(e.message, e.path, e.locations) for e in result.errors or []]
    return result.data, errors


@pytest.mark.parametrize("case", CASES)
async def test_answers_as_graphql_core_under_a_sync_parent(case: str) -> None:
    document = f'{{ holder(case: "{case}") {{ {SELECTION} }} }}'
    expected = outcome(await REFERENCE.execute(document))
    assert outcome(await FAST.execute(document)) == expected


@pytest.mark.parametrize("case", CASES)
async def test_answers_as_graphql_core_under_an_async_parent(case: str) -> None:
    document = f'{{ later(case: "{case}") {{ {SELECTION} }} a: holder(case: "good") {{ title }} }}'
    expected = outcome(await REFERENCE.execute(document))
    assert outcome(await FAST.execute(document)) == expected


def cached_schema() -> strawberry.Schema:
    schema = strawberry.Schema(
        query=Query, execution_context_class=AttributeReadingExecutor, extensions=[DocumentCache]
    )
    resolve_plain_fields_directly(schema)
    return schema


async def test_a_known_document_answers_each_case_as_graphql_core_with_its_plans_reused() -> None:
    schema = cached_schema()
    document = f"query Known($case: String!) {{ holder(case: $case) {{ {SELECTION} }} }}"
    for case in CASES:  # the first request plans; every later one reuses the plans
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
async def test_a_known_document_with_a_directive_collects_its_fields_per_request(
    document: str,
) -> None:
    schema = cached_schema()
    for include in (True, False, True, False):  # the same document, other variables
        expected = outcome(await REFERENCE.execute(document, {"with": include}))
        assert outcome(await schema.execute(document, {"with": include})) == expected


async def test_good_values_complete_without_errors() -> None:
    result = await FAST.execute('{ holder(case: "good") { items { name count } } }')
    assert result.errors is None
    items = [{"name": "b", "count": 2}, {"name": "c", "count": 3}]
    assert result.data == {"holder": {"items": items}}


@pytest.mark.parametrize(
    ("field", "planned"),
    [
        ("title", "leaf"),
        ("item", "object"),
        ("items", "list"),
        ("looseItems", "list"),
        ("buddy", "object"),
    ],
)
def test_attribute_fields_get_a_plan(field: str, planned: str) -> None:
    schema = FAST._schema
    node = parse(f"{{ {field} }}").definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    plan = plan_field(schema, schema.type_map["Holder"], [node])  # type: ignore[arg-type]
    assert plan is not None
    kind = "leaf" if plan.coerce else "list" if plan.item_non_null is not None else "object"
    assert kind == planned


def test_a_field_with_its_own_resolver_gets_no_plan() -> None:
    schema = FAST._schema
    node = parse('{ holder(case: "good") }').definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    assert plan_field(schema, schema.type_map["Query"], [node]) is None  # type: ignore[arg-type]


def test_a_field_with_a_directive_gets_no_plan() -> None:
    schema = FAST._schema
    node = parse("{ title @include(if: true) }").definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    assert plan_field(schema, schema.type_map["Holder"], [node]) is None  # type: ignore[arg-type]


class CountingResolves(SchemaExtension):
    calls = 0

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        CountingResolves.calls += 1
        return _next(root, info, *args, **kwargs)


async def test_an_extension_that_hooks_each_resolver_sees_every_field() -> None:
    document = f'{{ holder(case: "good") {{ {SELECTION} }} }}'
    counts = []
    for execution_context_class in (None, AttributeReadingExecutor):
        schema = strawberry.Schema(
            query=Query,
            extensions=[CountingResolves],
            execution_context_class=execution_context_class,
        )
        resolve_plain_fields_directly(schema)
        CountingResolves.calls = 0
        assert (await schema.execute(document)).errors is None
        counts.append(CountingResolves.calls)
    assert counts[1] == counts[0] > 10
