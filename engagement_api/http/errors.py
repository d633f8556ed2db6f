"""Errors of the HTTP layer (before any GraphQL work), answered as GraphQL errors in JSON.

Every refusal of a request the transport could carry (a body that is not JSON, of the wrong
shape, of an unsupported media type, a batch, a wrong method) answers
`{"errors": [{"message": ..., "extensions": {"code": ...}}]}` with a 4xx status, and the
connection stays usable. The message names what is accepted.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from engagement_api.errors import METHOD_NOT_ALLOWED
from engagement_api.http.conformance import negotiate_media_type
from engagement_api.json_levels import json_levels

ACCEPTED_MEDIA_TYPE = "application/json"

MALFORMED_JSON = "MALFORMED_JSON"
BAD_REQUEST = "BAD_REQUEST"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
BATCHING_NOT_SUPPORTED = "BATCHING_NOT_SUPPORTED"
NOT_FOUND = "NOT_FOUND"

MAX_VARIABLES_DEPTH = 64
"""Nesting of `variables`/`extensions` values accepted (coercion recurses per level)."""
MAX_VARIABLE_VALUES = 10_000
"""List items and object members, at every level, of `variables`/`extensions`: graphql-core
coerces each one before any resolver, the authentication check included, can refuse it."""

CODES_BY_STATUS = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 415: UNSUPPORTED_MEDIA_TYPE}


JSON_UTF8 = "application/json; charset=utf-8"


class HttpRefusalError(Exception):
    """A request refused by the HTTP layer, with its status, code and extra headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Args:
        status: the HTTP status (4xx).
        code: the error's `extensions.code`.
        message: what was wrong and what is accepted instead.
        headers: response headers to add (`Allow`, `Accept-Post`).
        """
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def response(self, media_type: str = JSON_UTF8) -> Response:
        return refusal_response(self.status, self.code, self.message, self.headers, media_type)


def refusal_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    media_type: str = JSON_UTF8,
) -> Response:
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    return Response(body, status_code=status, headers=dict(headers or {}), media_type=media_type)


def code_for_status(status: int) -> str:
    return CODES_BY_STATUS.get(status, BAD_REQUEST)


def malformed_json(error: Exception, what: str) -> HttpRefusalError:
    return HttpRefusalError(
        400,
        MALFORMED_JSON,
        f"{what} is not valid JSON (UTF-8, nested at most 1024 levels): {str(error)[:200]}",
    )


def unsupported_media_type(content_type: str | None) -> HttpRefusalError:
    return HttpRefusalError(
        415,
        UNSUPPORTED_MEDIA_TYPE,
        (f"Unsupported content type {content_type[:100]!r}" if content_type else "No content type")
        + f": send the GraphQL request as {ACCEPTED_MEDIA_TYPE} (UTF-8) over POST, or as query"
        " parameters over GET.",
        {"accept-post": ACCEPTED_MEDIA_TYPE},
    )


def batching_not_supported() -> HttpRefusalError:
    return HttpRefusalError(
        400,
        BATCHING_NOT_SUPPORTED,
        "Batched requests (a JSON array) are not supported: send one operation per request.",
    )


def check_request_object(data: object) -> Mapping[str, Any]:
    """The decoded body, if it is a GraphQL request object; HttpRefusalError otherwise."""
    if isinstance(data, list):
        raise batching_not_supported()
    if not isinstance(data, dict):
        raise HttpRefusalError(
            400,
            BAD_REQUEST,
            "The request body must be a JSON object with `query` (a string), and optionally "
            "`operationName` (a string), `variables` and `extensions` (objects).",
        )
    for key, kinds, described in (
        ("query", (str,), "a string"),
        ("operationName", (str,), "a string"),
        ("variables", (dict,), "an object"),
        ("extensions", (dict,), "an object"),
    ):
        value = data.get(key)
        if value is not None and not isinstance(value, kinds):
            raise HttpRefusalError(400, BAD_REQUEST, f"`{key}` must be {described} or null.")
    for key in ("variables", "extensions"):
        problem = oversized(data.get(key))
        if problem is not None:
            raise HttpRefusalError(400, BAD_REQUEST, f"`{key}` {problem}.")
    return data


def check_query_string(query_string: bytes) -> None:
    """A GET request's parameters must be UTF-8 once percent-decoded: Starlette reads a byte
    that is not as U+FFFD, a value the client never sent."""
    for parameter in query_string.split(b"&"):
        name, _, value = parameter.partition(b"=")
        for part in (name, value):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode()
            except UnicodeDecodeError as error:
                shown = unquote_to_bytes(name).decode(errors="replace")[:50]
                raise HttpRefusalError(
                    400,
                    BAD_REQUEST,
                    f"The query parameter `{shown}` is not UTF-8 once percent-decoded"
                    f" (byte {error.start}: {error.reason}).",
                ) from None


def oversized(value: object) -> str | None:
    """What makes a request's `variables` or `extensions` too large to coerce, if anything."""
    depth, values = json_shape(value)
    if depth > MAX_VARIABLES_DEPTH:
        return f"is nested more than {MAX_VARIABLES_DEPTH} levels"
    if values > MAX_VARIABLE_VALUES:
        return f"holds more than {MAX_VARIABLE_VALUES} values (items and members at every level)"
    return None


def json_shape(value: object) -> tuple[int, int]:
    """How deeply lists and objects nest in `value`, and how many items and members they
    hold. Past either limit it stops, over that limit."""
    depth = values = 0
    for _, containers in json_levels(value):
        if not containers:
            break
        depth += 1
        values += sum(map(len, containers))
        if depth > MAX_VARIABLES_DEPTH or values > MAX_VARIABLE_VALUES:
            break
    return depth, values


async def starlette_http_error(request: Request, error: Exception) -> Response:
    """Starlette's own refusals (no such route, a method the route does not take), as JSON."""
    assert isinstance(error, HTTPException)
    status = error.status_code
    message = error.detail
    if status == 405:
        allowed = (error.headers or {}).get("Allow", "GET, POST")
        message = f"{request.method[:20]} is not allowed here; allowed: {allowed}."
    media_type = refusal_media_type(request.headers.get("accept"))
    return refusal_response(status, code_for_status(status), message, error.headers, media_type)


def refusal_media_type(accept: str | None) -> str:
    """A refusal is in the JSON type the client accepts (its `Accept` header), as an
    executed request's answer."""
    return f"{negotiate_media_type(accept)}; charset=utf-8"
