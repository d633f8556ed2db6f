"""Which operation of a document runs (GraphQL spec, GetOperation): the one named by
`operationName`; with no name, the only operation. A document of several operations without
a name answers OPERATION_NAME_REQUIRED, a name the document does not define
OPERATION_NOT_FOUND, and a subscription sent over HTTP SUBSCRIPTION_OVER_HTTP (they stream
over the WebSocket): nothing runs.

Strawberry treats a missing name as the name of the first operation, so the requested name
(or its absence) is recorded by the schema's `execute` in `REQUESTED`, read here. WebSocket
subscriptions do not go through `execute`; http/websocket.py applies `select_operation` to them.
"""

from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from graphql import DocumentNode, OperationDefinitionNode, OperationType
from strawberry.extensions import SchemaExtension

from engagement_api.errors import ClientError


class OperationNameRequiredError(ClientError):
    code = "OPERATION_NAME_REQUIRED"
    default_message = (
        "The document defines several operations: name the one to run in `operationName`."
    )


class OperationNotFoundError(ClientError):
    code = "OPERATION_NOT_FOUND"
    default_message = "The document defines no operation of that name."


class SubscriptionOverHttpError(ClientError):
    code = "SUBSCRIPTION_OVER_HTTP"
    default_message = (
        "Subscriptions run over WebSocket (graphql-transport-ws) at /graphql, not over HTTP."
    )


@dataclass(frozen=True, slots=True)
class Requested:
    """The `operationName` a request sent to the schema's `execute` (None: none sent)."""

    name: str | None


REQUESTED: ContextVar[Requested | None] = ContextVar("requested_operation", default=None)


def select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    """The operation `name` selects in `document`, or the ClientError that says why none."""
    operations = [
        definition
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    ]
    if name is None:
        if len(operations) == 1:
            return operations[0]
        if not operations:
            raise OperationNotFoundError("The document defines no operation.")
        names = ", ".join(operation.name.value for operation in operations if operation.name)
        raise OperationNameRequiredError(
            f"{OperationNameRequiredError.default_message} Defined: {names or 'none named'}."
        )
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    raise OperationNotFoundError(
        f"The document defines no operation named {name[:100]!r}.",
    )


class OperationSelection(SchemaExtension):
    """Refuses, before validation, a request whose operation is ambiguous, unknown, or a
    subscription over HTTP."""

    def on_parse(self) -> Iterator[None]:
        yield
        requested = REQUESTED.get()
        document = self.execution_context.graphql_document
        if requested is None or document is None:
            return  # not through `execute` (a WebSocket subscription), or not parsed
        operation = select_operation(document, requested.name)
        if operation.operation is OperationType.SUBSCRIPTION:
            raise SubscriptionOverHttpError()
