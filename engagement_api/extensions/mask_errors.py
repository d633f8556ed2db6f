"""Unexpected errors are masked for the client and logged with traceback and request id."""

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from engagement_api.errors import ClientError

logger = logging.getLogger("engagement_api.errors")

MASKED_MESSAGE = "Unexpected server error."


class MaskUnexpectedErrors(SchemaExtension):
    """Replace every error that is not a `ClientError` (or a GraphQL validation error)
    with a generic message carrying the request id; log the original."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        request_id = getattr(self.execution_context.context, "request_id", None)
        result.errors = [self._public(error, request_id) for error in result.errors]

    @staticmethod
    def _is_expected(error: GraphQLError) -> bool:
        original = error.original_error
        if original is None:
            return True  # parse and validation errors describe the client's document
        return isinstance(original, ClientError)

    def _public(self, error: GraphQLError, request_id: Any) -> GraphQLError:
        if self._is_expected(error):
            return error
        logger.error(
            "unexpected error in %s",
            ".".join(str(part) for part in error.path or ()),
            exc_info=error.original_error,
            extra={"request_id": request_id},
        )
        return GraphQLError(
            MASKED_MESSAGE,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )
