"""Errors a client is meant to see, each with a stable `extensions.code`.

Anything else raised while executing an operation is unexpected: it is masked for the
client and logged with its traceback and the request id (see `schema/extensions/mask_errors.py`).
"""

from typing import Any

from graphql import GraphQLError

METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
"""The code of an operation type the request's method may not carry (a mutation over GET)."""


class ClientError(GraphQLError):
    """Base of every error shown to clients as it is."""

    code = "INTERNAL_SERVER_ERROR"
    default_message = "Internal server error."

    def __init__(self, message: str | None = None, **extensions: Any) -> None:
        super().__init__(
            message or self.default_message, extensions={"code": self.code, **extensions}
        )


class UnauthenticatedError(ClientError):
    code = "UNAUTHENTICATED"
    default_message = "Authentication required: send 'Authorization: Bearer <token>'."


class BadUserInputError(ClientError):
    code = "BAD_USER_INPUT"
    default_message = "Invalid argument."


class ServiceUnavailableError(ClientError):
    code = "SERVICE_UNAVAILABLE"
    default_message = "The database is unavailable; retry shortly."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, retryable=True)


class CommitOutcomeUnknownError(ClientError):
    """The connection was lost as the transaction committed, and whether it did cannot be
    learnt: neither a success nor a failure may be claimed (a retry could write twice)."""

    code = "COMMIT_OUTCOME_UNKNOWN"
    default_message = (
        "The database stopped answering as the change was being saved: it may or may not "
        "have been saved. Read it back before retrying."
    )

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, retryable=False)


class QueryTooLongError(ClientError):
    code = "QUERY_TOO_LONG"
    default_message = "The query document is too long."


class RequestTimeoutError(ClientError):
    code = "REQUEST_TIMEOUT"
    default_message = "The request took too long and was cancelled; nothing was changed."
