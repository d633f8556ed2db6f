"""Field errors of a compiled execution, reported as graphql-core reports them: each error
once, unless an earlier one already nulled its position or an ancestor of it. The response
then orders them, and leaves out those below another's position, by one rule for both
executions (`schema/extensions/field_error_order.py`); the order here still decides which
error of a position two fields null is the one reported."""

from dataclasses import dataclass, field

from graphql import GraphQLError

Order = tuple[int, ...]
"""When and where an error arose: after how many awaited values from the root, whether the
failing field's own value was awaited (1) or not (0), then its place in document order
(field indexes and list indexes from the root)."""

Position = tuple[str | int, ...]
"""The path nulled by an error (the nearest nullable position); () is the whole data."""


class Nulled:
    """A non-null value that could not be completed: its parent is nulled in turn. Holds the
    errors that caused it, until a nullable position takes them."""

    __slots__ = ("errors",)

    def __init__(self, errors: list[tuple[Order, GraphQLError]]) -> None:
        self.errors = errors


@dataclass(slots=True)
class ErrorLog:
    entries: list[tuple[Order, GraphQLError, Position]] = field(default_factory=list)

    def nulled(self, errors: list[tuple[Order, GraphQLError]], position: Position) -> None:
        """`errors` made the value at `position` null."""
        self.entries.extend((order, error, position) for order, error in errors)

    def reported(self) -> list[GraphQLError]:
        """The errors a response reports, in the order graphql-core reports them; an error
        whose position (or an ancestor of it) an earlier error nulled is left out, as
        graphql-core leaves it out.

        graphql-core reports an error when its nullable position takes it. Errors arise
        in turn of the awaits that lead to them: what completes synchronously after an
        await arises, in document order, before anything awaited below it; a synchronous
        failure of a non-null field stops its object's other fields, whose errors then
        fall under the position it nulled. Of errors arising from awaited values after as
        many awaits, the nullable ones are reported at once and the non-null ones once
        raised through the awaiting parents. A level runs all its rows at once, so the
        errors are put in that order: by awaits, unpropagated awaited failures before
        propagated ones, then in document order."""
        nulled: set[Position] = set()
        reported = []
        for _order, error, position in sorted(self.entries, key=_reporting_order):
            if any(position[:length] in nulled for length in range(len(position) + 1)):
                continue
            nulled.add(position)
            reported.append(error)
        return reported


def _reporting_order(entry: tuple[Order, GraphQLError, Position]) -> tuple[int, bool, Order]:
    order, error, position = entry
    awaits, awaited, *place = order
    propagated = len(position) < len(error.path or ())
    return awaits, bool(awaited) and propagated, tuple(place)
