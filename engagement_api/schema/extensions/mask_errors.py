"""Unexpected errors are masked for the client and logged with traceback and request id."""

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from engagement_api.errors import ClientError

logger = logging.getLogger("engagement_api.errors")

MASKED_MESSAGE = "Unexpected server error."
MASKED_CODE = "INTERNAL_SERVER_ERROR"
MAX_MESSAGE_LENGTH = 1_000
"""Characters of an error message sent (graphql-core quotes invalid input values back)."""


class MaskUnexpectedErrors(SchemaExtension):
    """Replace every error that is not a `ClientError` (or a GraphQL validation error)
    with a generic message carrying the request id; log the original."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        request_id = getattr(self.execution_context.context, "request_id", None)
        result.errors = public_errors(result.errors, request_id)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each event of a subscription, masked the same way before it is sent."""
        errors = getattr(result, "errors", None)
        if errors:
            request_id = getattr(self.execution_context.context, "request_id", None)
            result.errors = public_errors(errors, request_id)
        yield


def public_errors(errors: Sequence[GraphQLError], request_id: Any) -> list[GraphQLError]:
    """`errors` as a client may see them: expected ones as they are, the rest masked
    (and logged). Idempotent: a masked error is expected."""
    return [_public(error, request_id) for error in errors]


def is_expected(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None:
        return True  # parse and validation errors describe the client's document
    if isinstance(original, GraphQLError) and error.path is None:
        return True  # graphql-core's own errors about the request's variables
    return isinstance(original, ClientError)


def _public(error: GraphQLError, request_id: Any) -> GraphQLError:
    if is_expected(error):
        return _truncated(error)
    logger.error(
        "unexpected error in %s",
        ".".join(str(part) for part in error.path or ()) or "the operation",
        exc_info=error.original_error,
        extra={"request_id": request_id},
    )
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        path=error.path,
        extensions={"code": MASKED_CODE, "requestId": request_id},
    )


def _truncated(error: GraphQLError) -> GraphQLError:
    if len(error.message) <= MAX_MESSAGE_LENGTH:
        return error
    return GraphQLError(
        f"{error.message[:MAX_MESSAGE_LENGTH]}... (truncated)",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )
