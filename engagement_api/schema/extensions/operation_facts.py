"""What the observability extensions report about one finished (or failed) operation."""

import asyncio
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError, get_operation_ast
from strawberry.types import ExecutionContext

from engagement_api.errors import METHOD_NOT_ALLOWED, ClientError, RequestTimeoutError

ANONYMOUS = "anonymous"
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class OperationFacts:
    """Name, type, outcome, error codes, duration and runs of an operation, read from its
    execution context."""

    name: str
    type: str
    status: str
    error_codes: list[str]
    seconds: float
    """Of every run of the operation (see `context.Runs`)."""
    attempts: int

    @classmethod
    def of(cls, execution_context: ExecutionContext, seconds: float) -> "OperationFacts | None":
        """The facts of the run that took `seconds`; None when that run is undone and the
        operation run again after a conflict: the client is told a later run's outcome."""
        context = execution_context.context
        runs = getattr(context, "runs", None)
        if runs is not None and context.runs_again:
            return None
        result = execution_context.result
        errors = list((result.errors if result else None) or ())
        errors = errors or list(execution_context.pre_execution_errors or ())
        data = result.data if result else None
        codes = [error_code(error) for error in errors]
        if not errors:
            status = "ok" if result is not None else "error"
            if result is None:  # raised past the extensions: the view answers it
                codes = _answered_by_the_view(execution_context)
        else:
            status = "partial" if data else "error"
        return cls(
            name=operation_name(execution_context),
            type=operation_type(execution_context),
            status=status,
            error_codes=codes,
            seconds=seconds + (runs.undone_seconds if runs is not None else 0.0),
            attempts=runs.count if runs is not None else 1,
        )

    @classmethod
    def refused(cls, error: ClientError, seconds: float) -> "OperationFacts":
        """The facts of a request refused before it had a document (too long, an unknown
        persisted query)."""
        return cls(UNKNOWN, UNKNOWN, "error", [error_code(error)], seconds, 1)


def _answered_by_the_view(execution_context: ExecutionContext) -> list[str]:
    """The code the view answers for an operation that raised instead of returning."""
    if _out_of_time(execution_context.context):
        return [RequestTimeoutError.code]
    try:
        allowed = execution_context.operation_type in execution_context.allowed_operations
    except RuntimeError:  # no operation to run
        return []
    return [] if allowed else [METHOD_NOT_ALLOWED]


def _out_of_time(context: Any) -> bool:
    deadline = getattr(getattr(context, "runs", None), "deadline", None)
    return deadline is not None and asyncio.get_running_loop().time() >= deadline


def operation_name(execution_context: ExecutionContext) -> str:
    """The name of the operation that ran, as written in the document: a requested
    `operationName` that the document does not define is not reported."""
    document = execution_context.graphql_document
    if document is None:
        return UNKNOWN
    operation = get_operation_ast(document, execution_context.operation_name)
    if operation is None:
        return UNKNOWN
    return operation.name.value if operation.name else ANONYMOUS


def operation_type(execution_context: ExecutionContext) -> str:
    try:
        return str(execution_context.operation_type.value)
    except Exception:  # no document: it did not parse, or there was none
        return "unknown"


def error_code(error: GraphQLError) -> str:
    code: Any = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "INTERNAL_SERVER_ERROR"
