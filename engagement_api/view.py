"""The GraphQL HTTP/WebSocket view: Strawberry's ASGI view, with the request's context,
its database transaction, and orjson responses."""

from typing import Any

import orjson
from graphql import ExecutionResult
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.http.async_base_view import AsyncHTTPRequestAdapter

from engagement_api.auth import AuthenticationError, bearer_token
from engagement_api.context import RequestContext, new_request_id
from engagement_api.errors import ClientError
from engagement_api.settings import Settings


class GraphQLView(GraphQL[RequestContext, None]):
    def __init__(
        self, schema: Any, *, settings: Settings, engine: AsyncEngine, **options: Any
    ) -> None:
        """Args:
        schema: the Strawberry schema to serve.
        settings: the process settings.
        engine: the engine request transactions run on.
        options: passed on to Strawberry's view (keep-alive, subscription limits, IDE).
        """
        super().__init__(schema, **options)
        self.settings = settings
        self.engine = engine

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
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except BaseException:
            await context.db.close(commit=False)
            raise
        try:
            await context.db.close(commit=True)
        except ClientError as error:
            return ExecutionResult(data=None, errors=[error])
        if self.settings.expose_sql_statements:
            result.extensions = {
                **(result.extensions or {}),
                "sqlStatements": context.db.statements.count,
            }
        return result

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        return orjson.dumps(data)
