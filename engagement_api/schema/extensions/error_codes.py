"""Every error a client sees carries a stable `extensions.code`.

Errors raised by the project (`errors.ClientError`) and by the query-safety rules bring
their own code; graphql-core's own errors get one here, by the step that produced them:
GRAPHQL_PARSE_FAILED (syntax), GRAPHQL_VALIDATION_FAILED (the document does not fit the
schema), BAD_USER_INPUT (variables that cannot be coerced, a missing operation name).
Unexpected errors are masked by `mask_errors.py` with INTERNAL_SERVER_ERROR.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"


class StableErrorCodes(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        yield
        _stamp_missing(self.execution_context.pre_execution_errors or (), PARSE_FAILED)

    def on_validate(self) -> Iterator[None]:
        yield
        errors = self.execution_context.pre_execution_errors
        if errors:
            # In place: Strawberry's result already holds this list when the hook exits.
            errors[:] = map(_of_the_document, errors)
            _stamp_missing(errors, VALIDATION_FAILED)

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            _stamp_missing(
                (error for error in result.errors if _is_request_error(error)), BAD_USER_INPUT
            )

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """A subscription's results: its variables are coerced when it starts, and a
        refusal is its first result (the WebSocket `error` message)."""
        errors = getattr(result, "errors", None)
        if errors:
            _stamp_missing((error for error in errors if _is_request_error(error)), BAD_USER_INPUT)
        yield


def _is_request_error(error: GraphQLError) -> bool:
    """graphql-core's own complaint about the request (not an exception of a resolver)."""
    original = error.original_error
    return original is None or (isinstance(original, GraphQLError) and error.path is None)


def _of_the_document(error: GraphQLError) -> GraphQLError:
    """A validation error, as the client's mistake even when a literal's coercion raised
    (an Int literal of more than 4,300 digits is a ValueError of Python's `int`): without
    the exception it quotes as its original error, nothing masks it as a server fault."""
    if error.original_error is None or isinstance(error.original_error, GraphQLError):
        return error
    return GraphQLError(error.message, nodes=error.nodes, extensions=error.extensions)


def _stamp_missing(errors: Iterable[GraphQLError], code: str) -> None:
    for error in errors:
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": code}
