"""`HookRunner` (schema/extensions/hook_runner.py) runs extension hooks exactly as Strawberry's own
runner does: the same hooks, in the same order, around the same phases, for every kind of
hook (generator, async generator, plain function, coroutine function)."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types.execution import ExecutionContext

from engagement_api.fastpath.hook_runner import HookRunner

events: list[str] = []


class Outer(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        events.append("outer operation in")
        yield
        events.append("outer operation out")

    async def on_parse(self) -> AsyncIterator[None]:
        events.append("outer parse in")
        yield
        events.append("outer parse out")

    def on_validate(self) -> None:  # type: ignore[override]
        events.append("outer validate (plain)")


class Inner(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        events.append("inner operation in")
        try:
            yield
        finally:
            events.append("inner operation out")

    async def on_execute(self) -> None:  # type: ignore[override]
        events.append("inner execute (coroutine)")


class FailingOnTheWayOut(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        events.append("failing execute in")
        yield
        raise RuntimeError("failed on the way out")


class Swallowing(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except RuntimeError as error:
            events.append(f"swallowed {error}")


@strawberry.type
class Query:
    @strawberry.field
    def fine(self) -> str:
        return "fine"

    @strawberry.field
    def broken(self) -> str:
        raise ValueError("broken")


class RunnerSchema(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return HookRunner(execution_context=execution_context, extensions=extensions)


async def recorded(schema: strawberry.Schema, document: str) -> tuple[list[str], Any]:
    events.clear()
    try:
        result = await schema.execute(document)
    except Exception as error:  # the same exception from both runners, or the same result
        return list(events), repr(error)
    errors = [error.message for error in result.errors or []]
    return list(events), (result.data, errors)


@pytest.mark.parametrize("document", ["{ fine }", "{ broken }", "{ nonsense }", "{"])
async def test_hooks_run_as_under_strawberrys_runner(document: str) -> None:
    reference = strawberry.Schema(query=Query, extensions=[Outer, Inner])
    fast = RunnerSchema(query=Query, extensions=[Outer, Inner])
    expected = await recorded(reference, document)
    assert await recorded(fast, document) == expected
    assert expected[0][0] == "outer operation in"


@pytest.mark.parametrize(
    "extensions",
    [[Outer, FailingOnTheWayOut, Inner], [Swallowing, Outer, FailingOnTheWayOut]],
    ids=["raised", "swallowed"],
)
async def test_an_exception_raised_on_the_way_out_passes_through_the_outer_hooks(
    extensions: list[type[SchemaExtension]],
) -> None:
    reference = strawberry.Schema(query=Query, extensions=extensions)
    fast = RunnerSchema(query=Query, extensions=extensions)
    expected = await recorded(reference, "{ fine }")
    assert await recorded(fast, "{ fine }") == expected
    assert "failing execute in" in expected[0]


def test_hooks_run_as_under_strawberrys_runner_in_a_sync_execution() -> None:
    extensions: list[type[SchemaExtension]] = [Swallowing, FailingOnTheWayOut]
    outcomes = []
    for schema_class in (strawberry.Schema, RunnerSchema):
        events.clear()
        result = schema_class(query=Query, extensions=extensions).execute_sync("{ fine }")
        outcomes.append((list(events), result.data, [e.message for e in result.errors or []]))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][2] == ["failed on the way out"]
