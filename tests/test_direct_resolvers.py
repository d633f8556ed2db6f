"""`@direct` resolvers (`schema/direct.py`, `fastpath/plain_fields.py`) answer what
Strawberry's wrapper answers: they receive a `strawberry.Info` either way; their arguments
arrive by Python name with the values Strawberry would pass (enum members, lists,
defaults), and a resolver taking an input object keeps Strawberry's conversion."""

import inspect
from collections.abc import Iterator
from enum import Enum
from types import FrameType
from typing import Any

import strawberry

from engagement_api.fastpath.plain_fields import resolve_plain_fields_directly
from engagement_api.schema.direct import direct


def caller(info: strawberry.Info) -> str:
    """Who called the resolver: graphql-core directly, or Strawberry's wrapper (whose frames
    are then on the stack). Either way the resolver holds a `strawberry.Info`."""
    assert isinstance(info, strawberry.Info)
    assert [getattr(field, "name", None) for field in info.selected_fields] == [info.field_name]
    wrapped = any(
        frame.f_code.co_filename.endswith("schema_converter.py")
        for frame in _frames(inspect.currentframe())
    )
    return "strawberry" if wrapped else "graphql-core"


def _frames(frame: FrameType | None) -> Iterator[FrameType]:
    while frame is not None:
        yield frame
        frame = frame.f_back


@strawberry.enum
class Color(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.input
class Window:
    first: int


@strawberry.type
class Shelf:
    @strawberry.field
    @direct
    def picked(
        self,
        info: strawberry.Info,
        first_count: int | None = None,
        colors: list[Color] | None = None,
        after: str = "start",
    ) -> str:
        names = [color.name for color in colors or ()]
        return f"{caller(info)} {first_count} {names} {after}"

    @strawberry.field
    @direct
    def windowed(self, info: strawberry.Info, window: Window) -> str:
        return f"{caller(info)} {type(window).__name__} {window.first}"


@strawberry.type
class Query:
    @strawberry.field
    def shelf(self) -> Shelf:
        return Shelf()


def answer(schema: strawberry.Schema, document: str) -> Any:
    result = schema.execute_sync(document)
    assert result.errors is None, result.errors
    return result.data


REFERENCE = strawberry.Schema(query=Query)
DIRECT = strawberry.Schema(query=Query)
resolve_plain_fields_directly(DIRECT)

PICKED = '{ shelf { a: picked(firstCount: 2, colors: [RED, BLUE], after: "x") b: picked } }'


def test_a_direct_resolver_gets_its_arguments_by_python_name_as_strawberry_passes_them() -> None:
    reference, direct_answer = answer(REFERENCE, PICKED), answer(DIRECT, PICKED)
    assert direct_answer["shelf"]["a"] == "graphql-core 2 ['RED', 'BLUE'] x"
    assert direct_answer["shelf"]["b"] == "graphql-core None [] start"
    assert reference["shelf"]["a"] == "strawberry 2 ['RED', 'BLUE'] x"
    assert reference["shelf"]["b"] == "strawberry None [] start"


def test_a_resolver_taking_an_input_object_keeps_strawberrys_conversion() -> None:
    document = "{ shelf { windowed(window: {first: 3}) } }"
    assert answer(DIRECT, document) == {"shelf": {"windowed": "strawberry Window 3"}}
