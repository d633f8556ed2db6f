"""The reported field errors do not depend on the order in which fields failed.

graphql-core reports errors as they arise, leaving out one whose position (or one above it)
an earlier error had already nulled. A reference model of that rule meets the errors of a
response in any arrival order; after `field_errors_in_order`, every order gives one error per
topmost nulled position, in document order, and exactly the same errors when no two of them
null the same position.
"""

from collections.abc import Sequence
from random import Random

from graphql import GraphQLError, Source
from hypothesis import given
from hypothesis import strategies as st

from engagement_api.schema.extensions.field_error_order import field_errors_in_order

Position = tuple[str | int, ...]
SOURCE = Source("{ " + "x " * 200 + "}")

steps = st.one_of(st.sampled_from("abc"), st.integers(0, 2))
positions = st.lists(steps, max_size=3).map(tuple)


@st.composite
def raw_errors(draw: st.DrawFn) -> list[tuple[GraphQLError, Position]]:
    """Errors with the position each nulled: a path at or below that position (below it,
    only non-null steps x, y, z), placed somewhere in the document."""
    made = []
    for number, position in enumerate(draw(st.lists(positions, min_size=1, max_size=8))):
        below = tuple(draw(st.lists(st.sampled_from("xyz"), max_size=2))) or (
            () if position else ("x",)  # a non-null root field nulls the whole data
        )
        error = GraphQLError(
            f"e{number}",
            source=SOURCE,
            positions=[draw(st.integers(2, 400))],
            path=[*position, *below],
        )
        made.append((error, position))
    return made


def as_graphql_core_reports(arrived: Sequence[tuple[GraphQLError, Position]]) -> list[GraphQLError]:
    """graphql-core's rule: an error is left out when its position, or one above it, was
    nulled by an error that arose before it."""
    nulled: set[Position] = set()
    reported = []
    for error, position in arrived:
        if any(position[:length] in nulled for length in range(len(position) + 1)):
            continue
        nulled.add(position)
        reported.append(error)
    return reported


@given(raw_errors(), st.randoms(use_true_random=False), st.randoms(use_true_random=False))
def test_any_arrival_order_reports_the_same_errors(
    raw: list[tuple[GraphQLError, Position]], one: Random, other: Random
) -> None:
    nulled_by = {tuple(error.path or ()): position for error, position in raw}
    first, second = list(raw), list(raw)
    one.shuffle(first)
    other.shuffle(second)
    answers = [
        field_errors_in_order(as_graphql_core_reports(arrived), lambda path: nulled_by[tuple(path)])
        for arrived in (first, second)
    ]
    every = {position for _, position in raw}
    topmost = sorted(
        {p for p in every if not any(p[:length] in every for length in range(len(p)))},
        key=_path_order,
    )
    for answer in answers:
        reported = [nulled_by[tuple(error.path or ())] for error in answer]
        assert sorted(reported, key=_path_order) == topmost
        places = [([(loc.line, loc.column) for loc in e.locations or ()], e.path) for e in answer]
        assert places == sorted(places, key=lambda place: (place[0], _path_order(place[1])))
    untied = len({position for _, position in raw}) == len(raw)
    if untied:
        assert answers[0] == answers[1]


def _path_order(path: Sequence[str | int] | None) -> list[tuple[bool, str | int]]:
    return [(isinstance(step, str), step) for step in path or ()]


def test_errors_without_a_path_keep_their_place() -> None:
    refusal = GraphQLError("too large")
    late = GraphQLError("late", source=SOURCE, positions=[30], path=["b"])
    early = GraphQLError("early", source=SOURCE, positions=[10], path=["a"])
    nulled_by: dict[Position, Position] = {("a",): ("a",), ("b",): ("b",)}
    answer = field_errors_in_order([late, refusal, early], lambda path: nulled_by[tuple(path)])
    assert answer == [early, refusal, late]
