"""The GraphQL HTTP/WebSocket view: Strawberry's ASGI view, with the request's context,
its database transaction, and orjson responses."""

import asyncio
import contextlib
import dataclasses
import logging
import time
from typing import TYPE_CHECKING, Any, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.types import HTTPMethod
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.unset import UNSET

from engagement_api.auth import AuthenticationError, bearer_token
from engagement_api.broadcast import Broadcaster
from engagement_api.context import RequestContext, new_request_id
from engagement_api.errors import METHOD_NOT_ALLOWED, ClientError, RequestTimeoutError
from engagement_api.http.conformance import (
    GRAPHQL_RESPONSE_JSON,
    ResultT,
    declared_charset,
    is_request_error,
    negotiate_media_type,
    request_error_status,
)
from engagement_api.http.errors import (
    ACCEPTED_MEDIA_TYPE,
    HttpRefusalError,
    check_query_string,
    check_request_object,
    code_for_status,
    malformed_json,
    refusal_media_type,
    refusal_response,
    unsupported_media_type,
)
from engagement_api.http.persisted_documents import PersistedDocuments
from engagement_api.http.request_limits import check_query_length
from engagement_api.http.websocket import TransportWSHandler, authenticate_connection
from engagement_api.http.websocket_frames import TextFrameWebSocketAdapter
from engagement_api.observability.metrics import Metrics
from engagement_api.schema.extensions.mask_errors import public_errors
from engagement_api.schema.extensions.operation_facts import OperationFacts, error_code
from engagement_api.schema.extensions.operation_log import log_operation
from engagement_api.settings import Settings

if TYPE_CHECKING:  # the names Strawberry's own signatures use, for the overrides below
    from strawberry.http.base import BaseRequestProtocol
    from strawberry.types.unset import UnsetType


UTF8 = (None, "utf-8")
"""The charsets a body may declare: JSON is UTF-8 (RFC 8259)."""
logger = logging.getLogger(__name__)

CONFLICT_ATTEMPTS = 3
"""Runs of an operation whose transaction met a conflicting one (deadlock, serialization
failure) before its last answer is sent as it is."""


class GraphQLView(GraphQL[RequestContext, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    websocket_adapter_class = TextFrameWebSocketAdapter

    def __init__(
        self,
        schema: Any,
        *,
        settings: Settings,
        engine: AsyncEngine,
        documents: PersistedDocuments | None = None,
        broadcaster: Broadcaster | None = None,
        metrics: Metrics | None = None,
        **options: Any,
    ) -> None:
        """Args:
        schema: the Strawberry schema to serve.
        settings: the process settings.
        engine: the engine request transactions run on.
        documents: persisted documents (APQ and the registered allow-list).
        broadcaster: publishes committed message events; feeds subscriptions.
        metrics: counts the requests refused before execution, by error code.
        options: passed on to Strawberry's view (keep-alive, subscription limits, IDE).
        """
        super().__init__(schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,), **options)
        self.settings = settings
        self.engine = engine
        self.documents = documents or PersistedDocuments.from_settings(settings)
        self.broadcaster = broadcaster
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As Strawberry's, but every refusal of the HTTP layer answers JSON with a code
        (http/errors.py) instead of plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if scope["method"] == "HEAD":  # routed with GET (Starlette): GET's answer, no body
            scope = {**scope, "method": "GET"}
        request = Request(scope=scope, receive=receive)
        try:
            if scope["method"] == "GET":
                check_query_string(scope["query_string"])
            response = await self.run(request)
        except HttpRefusalError as refusal:
            response = refusal.response(refusal_media_type(request.headers.get("accept")))
        except HTTPException as error:
            status = error.status_code
            media_type = refusal_media_type(request.headers.get("accept"))
            response = refusal_response(
                status, code_for_status(status), error.reason, media_type=media_type
            )
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        """orjson: strict UTF-8, no lone surrogates, nesting bounded (1024 levels). Its
        error is a `json.JSONDecodeError`, which Strawberry's WebSocket handlers answer with
        close 4400; the HTTP paths turn it into MALFORMED_JSON."""
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> object:
        """A GET request's `variables` or `extensions` parameter."""
        return _loads(data, "A query parameter (variables or extensions)")

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """A POST carries one JSON request object; a GET its query parameters."""
        if request.method == "GET":
            parsed = await super().parse_http_body(request)
            if isinstance(parsed, GraphQLRequestData):
                if parsed.operation_name == "":  # GraphQL over HTTP: the same as omitted
                    parsed.operation_name = None
                check_request_object(
                    {
                        "operationName": parsed.operation_name,
                        "variables": parsed.variables,
                        "extensions": parsed.extensions,
                    }
                )
            return parsed
        content_type = request.content_type or ""
        media_type = content_type.partition(";")[0].strip().lower()
        if media_type != ACCEPTED_MEDIA_TYPE or declared_charset(content_type) not in UTF8:
            raise unsupported_media_type(request.content_type)
        data = check_request_object(_loads(await request.get_body(), "The request body"))
        return GraphQLRequestData(
            query=data.get("query"),
            variables=data.get("variables"),
            operation_name=data.get("operationName"),
            extensions=data.get("extensions"),
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        token, error = None, None
        try:
            token = bearer_token(request.headers.get("authorization"))
        except AuthenticationError as failure:
            error = str(failure)
        return RequestContext(
            settings=self.settings,
            engine=self.engine,
            request_id=request.scope.get("state", {}).get("request_id") or new_request_id(),
            token=token,
            authentication_error=error,
            broadcaster=self.broadcaster,
        )

    async def on_ws_connect(self, context: RequestContext) -> "UnsetType":
        await authenticate_connection(context)
        return cast("UnsetType", UNSET)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: RequestContext,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        """One operation over HTTP, as Strawberry runs it, within what the request owns:
        its document resolved (length limit, persisted documents), the request timeout, and
        its transaction, committed (then its events published) or rolled back."""
        if not isinstance(request_data, GraphQLRequestData) or request_data.protocol != "http":
            # Batches are off; a streamed transport is Strawberry's own.
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        sub_response.headers["vary"] = "Authorization"
        if request.headers.get("authorization"):
            # The viewer's own answer: no shared cache (a CDN keyed by a persisted query's
            # URL, one phone's HTTP cache for two accounts) may keep it.
            sub_response.headers["cache-control"] = "private, no-store"
        received = time.perf_counter()
        try:
            check_query_length(request_data.query, self.settings.max_query_length)
            query = self.documents.resolve(request_data.query, request_data.extensions)
        except ClientError as error:
            log_operation(OperationFacts.refused(error, time.perf_counter() - received), context)
            if self.metrics is not None:
                self.metrics.errors.labels(error_code(error)).inc()
            return self._answered(ExecutionResult(data=None, errors=[error]), sub_response)
        request_data = dataclasses.replace(request_data, query=query)
        try:
            context.runs.allowed = CONFLICT_ATTEMPTS
            deadline = asyncio.get_running_loop().time() + self.settings.request_timeout_seconds
            context.runs.deadline = deadline
            async with asyncio.timeout_at(deadline):
                while True:
                    started = time.perf_counter()
                    result = await self._execute_refusing_wrong_methods(
                        request, request_adapter, request_data, context, root_value, sub_response
                    )
                    if not context.runs_again:
                        break
                    # A deadlock or serialization failure undid a statement: the whole
                    # operation is undone and run again (nothing was committed or sent).
                    runs = context.runs
                    logger.info("running an operation again after a conflict (%d)", runs.count)
                    await context.close(commit=False)
                    runs.count += 1
                    runs.undone_seconds += time.perf_counter() - started
                    context = context.again()
                    context.runs = runs
        except TimeoutError:
            with contextlib.suppress(Exception):  # the cancelled connection may be broken
                await context.close(commit=False)
            return self._answered(
                ExecutionResult(data=None, errors=[RequestTimeoutError()]), sub_response
            )
        except BaseException:
            await context.close(commit=False)
            raise
        if result.data is None and result.errors:
            # The answer shows no change made (a failed field nulled it, hiding the payloads
            # of those before it), so none is kept.
            await context.close(commit=False)
        else:
            try:
                await context.close(commit=True)
            except ClientError as error:
                # The operation's own line reported how it ran; this is what the client got.
                logger.warning(
                    "the operation ran but did not commit: answered %s", error_code(error)
                )
                if self.metrics is not None:  # the errors counted are those clients are told
                    self.metrics.errors.labels(error_code(error)).inc()
                return self._answered(ExecutionResult(data=None, errors=[error]), sub_response)
            if context.events and self.broadcaster is not None:  # committed: tell subscribers
                self.broadcaster.publish(context.events)
        if result.errors:  # defence in depth: nothing unexpected leaves unmasked
            result.errors = public_errors(result.errors, context.request_id)
        if self.settings.expose_sql_statements:
            result.extensions = {
                **(result.extensions or {}),
                "sqlStatements": context.db.statements.count,
            }
        return self._answered(result, sub_response)

    async def _execute_refusing_wrong_methods(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData,
        context: RequestContext,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult:
        """A mutation over GET answers 405 with the methods that carry it."""
        try:
            result = await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        except HTTPException as error:
            cause = error.__cause__
            if isinstance(cause, InvalidOperationTypeError):
                method: HTTPMethod = request_adapter.method
                raise HttpRefusalError(
                    405,
                    METHOD_NOT_ALLOWED,
                    f"{cause.operation_type.value.capitalize()} operations are not allowed "
                    f"over {method}: send them over POST.",
                    {"allow": "POST"},
                ) from error
            raise
        # One request object over plain HTTP: Strawberry answers one result.
        assert isinstance(result, ExecutionResult)
        return result

    # GraphQL over HTTP conformance (see http/conformance.py).

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate_media_type(request.headers.get("accept"))
        return sub_response

    def _answered(self, result: ResultT, sub_response: Response) -> ResultT:
        """A request error is a 4xx/5xx for clients that accept graphql-response+json."""
        if sub_response.media_type == GRAPHQL_RESPONSE_JSON and is_request_error(result):
            sub_response.status_code = request_error_status(result)
        return result

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        media_type = negotiate_media_type(request.headers.get("accept"))
        if media_type == GRAPHQL_RESPONSE_JSON and is_request_error(result):
            response.pop("data", None)  # execution never started
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = f"{sub_response.media_type}; charset=utf-8"
        return response

    def should_render_graphql_ide(self, request: "BaseRequestProtocol") -> bool:
        """Not for a persisted-query GET (a hash in `extensions` and no `query`)."""
        has_extensions = request.query_params.get("extensions") is not None
        return not has_extensions and super().should_render_graphql_ide(request)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def _loads(data: str | bytes, what: str) -> object:
    """`data` decoded as `decode_json` does; MALFORMED_JSON naming `what` if it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise malformed_json(_not_utf8(data) or error, what) from None


def _not_utf8(data: str | bytes) -> ValueError | None:
    """Where `data` is not UTF-8, if so: orjson reports bytes that are not as a surrogate
    problem ("str is not valid UTF-8: surrogates not allowed")."""
    if isinstance(data, bytes):
        try:
            data.decode()
        except UnicodeDecodeError as error:
            return ValueError(f"byte {error.start} is not UTF-8 ({error.reason})")
    return None
