"""GraphQL over HTTP: response media type negotiation and the status of request errors.

A client that accepts `application/graphql-response+json` (Apollo Client 4, graphql-http,
GraphiQL) gets that media type, and a *request error* (the document does not parse, does
not validate, its variables do not coerce, or a persisted document is unknown) is answered
`400` without a `data` entry. A legacy client that only accepts `application/json` (or sends
`*/*` or no Accept header at all) gets `application/json` and `200` for every well-formed
request, as the spec requires for that media type. Field errors are `200` either way.
"""

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from graphql import GraphQLError

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
SERVER_SIDE_STATUS = {
    "SERVICE_UNAVAILABLE": 503,
    "REQUEST_TIMEOUT": 504,
    "COMMIT_OUTCOME_UNKNOWN": 504,  # the database did not say in time
}
"""Request errors that are the server's condition, not a bad request."""


class OperationResult(Protocol):
    """graphql-core's or Strawberry's execution result."""

    @property
    def data(self) -> Any: ...

    @property
    def errors(self) -> Sequence[GraphQLError] | None: ...


ResultT = TypeVar("ResultT", bound=OperationResult)


def negotiate_media_type(accept: str | None) -> str:
    """The response media type for an `Accept` header: the accepted one of the two JSON types
    with the highest q-value (ties favour `application/graphql-response+json`); anything else,
    including a missing header or `*/*`, gets `application/json`."""
    best, best_q = APPLICATION_JSON, 0.0
    for media_range, quality in _ranges(accept or ""):
        if media_range == GRAPHQL_RESPONSE_JSON and quality > 0 and quality >= best_q:
            best, best_q = GRAPHQL_RESPONSE_JSON, quality
        elif media_range == APPLICATION_JSON and quality > best_q:
            best, best_q = APPLICATION_JSON, quality
    return best


def declared_charset(content_type: str) -> str | None:
    """The `charset` parameter of a Content-Type header, lower-cased and unquoted; None
    without one."""
    for parameter in _parameters(content_type):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def _parameters(content_type: str) -> list[str]:
    """The parameters after the media type, split at semicolons outside quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for character in content_type:
        if character == '"':
            quoted = not quoted
        if character == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(character)
    parts.append("".join(current))
    return parts[1:]


def is_request_error(result: OperationResult) -> bool:
    """True when execution never started: no data and only errors without a path."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def request_error_status(result: OperationResult) -> int:
    """400 for a client's bad request; 503 when the database could not be reached, 504 when
    the request ran out of time or its commit's outcome could not be learnt."""
    statuses = [
        SERVER_SIDE_STATUS.get(str((error.extensions or {}).get("code")), 400)
        for error in result.errors or ()
    ]
    return max(statuses, default=400)


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media_range, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                quality = _quality(value)
        ranges.append((media_range.lower(), quality))
    return ranges


def _quality(value: str) -> float:
    try:
        return max(0.0, min(1.0, float(value)))
    except ValueError:
        return 0.0
