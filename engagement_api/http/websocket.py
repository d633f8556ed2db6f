"""The WebSocket side of `/graphql`: graphql-transport-ws only, authenticated once per
connection, with idle keep-alive pings (see README, "Live feed")."""

import asyncio
import logging
import time
from contextlib import suppress
from functools import cached_property

from graphql import GraphQLError, OperationType, parse
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from engagement_api.auth import AuthenticationError, bearer_token
from engagement_api.context import RequestContext
from engagement_api.errors import ClientError, ServiceUnavailableError, UnauthenticatedError
from engagement_api.http.persisted_documents import PersistedDocuments
from engagement_api.http.rate import PacedBucket
from engagement_api.http.request_limits import check_query_length
from engagement_api.http.websocket_frames import (
    TextFrameWebSocketAdapter,
    message_problem,
    next_frame,
)
from engagement_api.resolvers.event_scope import release_current_event_scope
from engagement_api.schema.event_execution import shared_result
from engagement_api.schema.event_frames import FrameSink, current_sink, open_sink
from engagement_api.schema.extensions.operation_selection import select_operation
from engagement_api.settings import Settings

SUBSCRIPTION_LIMIT = "SUBSCRIPTION_LIMIT_REACHED"
TRY_AGAIN_LATER = 1013
"""WebSocket close code (RFC 6455 registry): the server cannot serve now; reconnect later."""
UNAUTHORIZED = 4401
"""graphql-ws's close code for a connection that may not go on without credentials."""

logger = logging.getLogger(__name__)

NO_QUERY = "No GraphQL query found in the request"
"""What Strawberry answers an HTTP request without a document (400 BAD_REQUEST)."""
ONLY_SUBSCRIPTIONS = "Only subscriptions run over WebSocket; send queries and mutations over HTTP."


async def authenticate_connection(context: RequestContext) -> None:
    """`connection_init` may carry `{"Authorization": "Bearer …"}`, which replaces the
    upgrade request's header. Credentials that are present but invalid refuse the
    connection (close 4403); a connection without any is accepted, and each of its
    subscriptions is then refused with UNAUTHENTICATED."""
    context.of_connection = True
    params = context.connection_params or {}
    value = next((v for k, v in params.items() if k.lower() == "authorization"), None)
    if value is not None:
        try:
            context.use_credentials(bearer_token(str(value)), None)
        except AuthenticationError as error:
            raise ConnectionRejectionError({"message": str(error)}) from error
    if not context.has_credentials:
        return
    try:
        await context.check_viewer()
    except UnauthenticatedError as error:
        raise ConnectionRejectionError({"message": error.message}) from error


def is_subscription(message: SubscribeMessage, max_tokens: int) -> bool:
    """Whether the document's operation is a subscription (unparsable documents, and those
    over `max_tokens`, are left to Strawberry, which closes the connection with the syntax
    error); ClientError when the document has no operation of the requested name, or
    several and none named. The parser stops at the token limit, as for every document."""
    payload = message.get("payload") or {}
    try:
        document = parse(
            payload.get("query") or "", max_lexical_tokens=max_tokens, max_comments=max_tokens
        )
    except GraphQLError:
        return True
    operation = select_operation(document, payload.get("operationName"))
    return operation.operation is OperationType.SUBSCRIPTION


class TransportWSHandler(BaseGraphQLTransportWSHandler[RequestContext, None]):
    """Strawberry's graphql-transport-ws handler, plus:

    - keep-alive: when the server has sent nothing for `keep_alive_interval` seconds it
      sends `{"type": "ping"}` (the client answers `pong`);
    - subscriptions only: a query or mutation gets an `error` message (they would share
      the connection's context, which holds no transaction).
    """

    _keep_alive_task: asyncio.Task[None] | None = None
    _anonymous_task: asyncio.Task[None] | None = None
    _last_sent: float = 0.0

    def on_request_accepted(self) -> None:
        super().on_request_accepted()

        self._last_sent = time.monotonic()
        if self.view.keep_alive and self.view.keep_alive_interval:
            self._keep_alive_task = asyncio.create_task(self._keep_alive())

    async def shutdown(self) -> None:
        for task in (self._keep_alive_task, self._anonymous_task):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        await super().shutdown()

    async def send_message(self, message: Message) -> None:
        await release_current_event_scope()  # a slow reader must not hold a connection
        self._last_sent = time.monotonic()
        if message["type"] == "next":
            sink = current_sink()  # the operation's, when sent from its task
            if sink is not None:
                sink.adopt(message["payload"])
        frame = self._shared_frame(message)
        try:
            if frame is None:
                await super().send_message(message)
            else:
                assert isinstance(self.websocket, TextFrameWebSocketAdapter)
                await self.websocket.send_text(frame)
        except WebSocketDisconnected:
            # The client left (an everyday event, no server error): the handler's shutdown,
            # which its reading side starts, ends the operations.
            logger.debug("a message to a closed WebSocket was dropped")

    def _shared_frame(self, message: Message) -> str | None:
        """A `next` whose payload is an audience's shared result: its encoding, made once
        for the audience, with this operation's id spliced in."""
        if message["type"] != "next" or not isinstance(self.websocket, TextFrameWebSocketAdapter):
            return None
        payload = message["payload"]
        if "errors" in payload or list(payload)[:1] != ["data"]:
            return None
        shared = shared_result(payload["data"])
        if shared is None:
            return None
        text = shared.payload_text(payload, self.view.encode_json_string)
        return next_frame(message["id"], text)

    async def handle_message(self, message: Message) -> None:
        """A malformed message closes the connection with 4400 and the reason, as the
        protocol says (Strawberry would fail on some of them and drop the socket). A
        subscribe waits for its turn (`WEBSOCKET_SUBSCRIBE_RATE`); the connection's next
        message is read only after it."""
        problem = message_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        if message["type"] == "subscribe" and not self._over_the_limit(message):
            # One refused anyway does not wait its turn.
            await self._subscribes.take()
        await super().handle_message(message)

    @property
    def _settings(self) -> Settings:
        settings: Settings = self.view.settings  # type: ignore[attr-defined]
        return settings

    @cached_property
    def _subscribes(self) -> PacedBucket:
        settings = self._settings
        return PacedBucket(
            settings.websocket_subscribe_rate, settings.max_subscriptions_per_connection
        )

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        """Credentials that cannot be checked now (the database is unavailable) close the
        connection with 1013, Try Again Later, and the cause: clients reconnect, as after a
        restart."""
        if "payload" in message and message["payload"] is None:  # allowed: no credentials
            message = {"type": "connection_init"}
        try:
            await super().handle_connection_init(message)
        except ServiceUnavailableError as error:
            logger.warning("closed a connection at its connection_init: %s", error.message)
            await self.websocket.close(code=TRY_AGAIN_LATER, reason=error.message)
            return
        if self.connection_acknowledged and not self.context.has_credentials:
            self._anonymous_task = asyncio.create_task(self._close_anonymous())

    async def _close_anonymous(self) -> None:
        """A connection without credentials can only be refused subscriptions: it is not
        kept, or idle sockets would fill the worker's connections (`HTTP_MAX_CONNECTIONS`)."""
        seconds = self._settings.websocket_anonymous_seconds
        await asyncio.sleep(seconds)
        with suppress(Exception):  # the socket is gone already: shutdown follows
            await self.websocket.close(code=UNAUTHORIZED, reason=f"No credentials in {seconds:g} s")

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self._over_the_limit(message):
            error: GraphQLError | None = GraphQLError(
                "Subscription limit reached",  # Strawberry's message, now with a code
                extensions={
                    "code": SUBSCRIPTION_LIMIT,
                    "limit": self.max_subscriptions_per_connection,
                },
            )
        else:
            error = self._refusal(message) if self.connection_acknowledged else None
        if error is not None:
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        operation_id = message["id"]
        bound: list[Operation[RequestContext, None]] = []
        sink = self._frame_sink(operation_id, bound)
        close = open_sink(sink)
        try:
            await super().handle_subscribe(message)  # creates the operation's task
        finally:
            close()
        operation = self.operations.get(operation_id)
        if operation is not None:
            bound.append(operation)

    def _frame_sink(
        self, operation_id: str, bound: list[Operation[RequestContext, None]]
    ) -> FrameSink | None:
        """The operation's direct way to the socket (schema/event_frames.py), when on;
        `bound` receives the operation once it is registered."""
        settings = getattr(self.context, "settings", None)
        if not getattr(settings, "live_feed_direct_frames", False):
            return None
        websocket = self.websocket
        if not isinstance(websocket, TextFrameWebSocketAdapter):
            return None

        async def send(text: str) -> bool:
            operation = bound[0] if bound else None
            if (
                operation is None
                or operation.completed
                or self.operations.get(operation_id) is not operation
            ):
                return False  # completed, or the id now names another operation
            await release_current_event_scope()
            self._last_sent = time.monotonic()
            try:
                await websocket.send_text(next_frame(operation_id, text))
            except WebSocketDisconnected:
                return False  # the client left: as completed
            return True

        return FrameSink(send, self.view.encode_json_string)

    def _over_the_limit(self, message: SubscribeMessage) -> bool:
        limit = self.max_subscriptions_per_connection
        return (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and limit is not None
            and len(self.operations) >= limit
        )

    def _refusal(self, message: SubscribeMessage) -> GraphQLError | None:
        """A connection without credentials (its every subscription is refused: its
        documents are not worth parsing and validating), a document too long, not trusted
        (http/persisted_documents.py), empty, or not a subscription."""
        if not self.context.has_credentials:
            return UnauthenticatedError()
        settings = self._settings
        payload = message["payload"]
        try:
            check_query_length(payload.get("query"), settings.max_query_length)
        except ClientError as error:
            return error
        documents: PersistedDocuments | None = getattr(self.view, "documents", None)
        if documents is not None:
            try:
                query = documents.resolve(payload.get("query"), payload.get("extensions"))
            except ClientError as error:
                return error
            if query is not None:
                payload["query"] = query
        if not payload.get("query"):
            return GraphQLError(NO_QUERY, extensions={"code": "BAD_REQUEST"})
        try:
            if not is_subscription(message, settings.max_tokens):
                return GraphQLError(ONLY_SUBSCRIPTIONS, extensions={"code": "BAD_REQUEST"})
        except ClientError as error:
            return error
        return None

    async def _keep_alive(self) -> None:
        interval = float(self.view.keep_alive_interval or 0)
        with suppress(Exception):  # the socket is gone: shutdown follows
            while True:
                idle = time.monotonic() - self._last_sent
                if idle < interval:
                    await asyncio.sleep(interval - idle)
                elif self.connection_acknowledged:
                    await self.send_message({"type": "ping"})
                else:
                    self._last_sent = time.monotonic()
