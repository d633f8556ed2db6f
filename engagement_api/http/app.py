"""The ASGI application: Starlette routes, middleware and the GraphQL view."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Route, WebSocketRoute

from engagement_api import fastpath
from engagement_api.broadcast import create_broadcaster
from engagement_api.cli.gc_tuning import tune_for_serving
from engagement_api.db.engine import EngineOptions, create_engine, resolve_database_url
from engagement_api.db.migrate import head_revision
from engagement_api.http.body_limit import BodySizeLimitMiddleware
from engagement_api.http.errors import starlette_http_error
from engagement_api.http.graphiql import GraphiQLView, graphiql_routes
from engagement_api.http.health import healthz, readyz
from engagement_api.http.persisted_documents import manifest_operation_names
from engagement_api.http.request_id import RequestIdMiddleware
from engagement_api.http.slots import HttpSlotsMiddleware
from engagement_api.observability.logs import configure_logging
from engagement_api.observability.metrics import Metrics, metrics_endpoint
from engagement_api.observability.otel import setup_tracing
from engagement_api.schema.extensions.field_error_order import FieldErrorOrder
from engagement_api.schema.extensions.mask_errors import MaskUnexpectedErrors
from engagement_api.schema.extensions.operation_log import OperationLog
from engagement_api.schema.extensions.operation_metrics import OperationMetrics
from engagement_api.schema.extensions.query_safety import query_safety_extensions
from engagement_api.schema.extensions.query_snapshot import QuerySnapshot
from engagement_api.schema.extensions.validation_cache import DocumentCache
from engagement_api.schema.schema import build_schema
from engagement_api.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    configure_logging(settings)
    database_url = settings.database_app_url or resolve_database_url(settings)
    engine = create_engine(database_url, EngineOptions.from_settings(settings))
    metrics = Metrics(engine, operation_names=metrics_operation_names(settings))
    broadcaster = create_broadcaster(settings, database_url)
    schema = build_schema(
        extensions=[
            OperationLog,  # first in, last out: logs and counts the masked errors
            lambda: OperationMetrics(metrics),
            *setup_tracing(settings),
            FieldErrorOrder,  # exits after the masking, which logs every unexpected error
            MaskUnexpectedErrors,
            *query_safety_extensions(settings),
            QuerySnapshot,
            DocumentCache,
        ],
        fast_path=fastpath.enabled(settings),
        execution=settings.execution,
    )
    view = GraphiQLView(
        schema,
        settings=settings,
        engine=engine,
        broadcaster=broadcaster,
        metrics=metrics,
        graphql_ide="graphiql" if settings.graphiql else None,
        keep_alive=True,
        keep_alive_interval=settings.websocket_keepalive_seconds,
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        connection_init_wait_timeout=timedelta(seconds=10),
        allowed_origins=settings.cors_origins,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.engine = engine
        app.state.metrics = metrics
        app.state.metrics_token = settings.metrics_token
        app.state.head_revision = head_revision()
        app.state.broadcaster = broadcaster
        await broadcaster.start()
        tune_for_serving(settings.gc_young_threshold)
        try:
            yield
        finally:
            await broadcaster.stop()
            await engine.dispose()

    return Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *(graphiql_routes() if settings.graphiql else []),
            *([Route("/metrics", metrics_endpoint)] if settings.metrics_enabled else []),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(  # the whole body first: a stalled one must not hold a slot
                BodySizeLimitMiddleware,
                max_bytes=settings.max_body_bytes,
                timeout_seconds=settings.http_body_timeout_seconds,
            ),
            Middleware(
                HttpSlotsMiddleware,
                slots=settings.http_slots_per_worker,
                shed_over=shed_queue_over(settings),
            ),
            *cors_middleware(settings),
            Middleware(GZipMiddleware, minimum_size=settings.gzip_minimum_bytes),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: starlette_http_error},
    )


def metrics_operation_names(settings: Settings) -> list[str]:
    """`METRICS_OPERATION_NAMES` and the names of the registered persisted documents."""
    path = settings.persisted_documents_path
    registered = manifest_operation_names(path) if path else []
    return [*settings.metrics_operation_names, *registered]


def shed_queue_over(settings: Settings) -> int:
    """`HTTP_SHED_QUEUE_OVER`, by default three times the slots (http/slots.py)."""
    if settings.http_shed_queue_over is not None:
        return settings.http_shed_queue_over
    return 3 * settings.http_slots_per_worker


def cors_middleware(settings: Settings) -> list[Middleware]:
    """CORS for the browser apps' origins (bearer tokens, so no credentials)."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=["x-request-id"],
            max_age=600,
        )
    ]


CORS_REQUEST_HEADERS = [
    "authorization",
    "content-type",
    "x-request-id",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
]


def app_from_environment() -> Starlette:
    """Uvicorn's factory for worker processes (`DATABASE_URL` is set by `serve`)."""
    os.environ.setdefault("ENGAGEMENT_API_WORKER", "1")
    return create_app()
