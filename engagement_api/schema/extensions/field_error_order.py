"""A response's field errors, the same whatever order its fields happened to fail in.

graphql-core reports field errors in the order they arise, and leaves out an error whose
position an earlier error had already nulled; which failure comes first depends on how the
event loop interleaved the fields. Here the answer depends on the operation and the data
only: an error is reported unless another error nulled a position above its own, and the
errors are in document order (by location, then path).
"""

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from graphql import GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension

from engagement_api.schema.fragments import fragments_of
from engagement_api.schema.nulled_positions import NulledPositions, Position
from engagement_api.schema.served_types import served_types


class FieldErrorOrder(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors and len(result.errors) > 1:
            result.errors = self._ordered(result.errors)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        yield
        errors = getattr(result, "errors", None)
        if errors and len(errors) > 1:
            result.errors = self._ordered(errors)

    def _ordered(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if document is None or operation is None:
            return errors
        schema = served_types(context.schema)
        positions = NulledPositions(schema, operation, fragments_of(document))
        return field_errors_in_order(errors, positions.of)


def field_errors_in_order(
    errors: Sequence[GraphQLError], nulled_by: Callable[[Sequence[str | int]], Position]
) -> list[GraphQLError]:
    """`errors` with their field errors (those with a path; `nulled_by` tells the position
    an error at a path nulled) reported as the module says; the others stay in place."""
    located = [(error, nulled_by(error.path)) for error in errors if error.path]
    if len(located) < 2:
        return list(errors)
    nulled = {position for _, position in located}
    kept: dict[Position, GraphQLError] = {}
    for error, position in sorted(located, key=lambda entry: _document_order(entry[0])):
        above = any(position[:length] in nulled for length in range(len(position)))
        if not above and position not in kept:
            kept[position] = error
    reported = iter(kept.values())
    ordered = []
    for error in errors:
        if not error.path:
            ordered.append(error)
        elif (field_error := next(reported, None)) is not None:
            ordered.append(field_error)
    return ordered


def _document_order(error: GraphQLError) -> tuple[Any, ...]:
    where = [(location.line, location.column) for location in error.locations or ()]
    return (where, [(isinstance(step, str), step) for step in error.path or ()])
