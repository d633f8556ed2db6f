"""`engagement-api serve`: Uvicorn on the project's database (embedded when none is set)."""

import asyncio
import importlib.util
import logging
import os
import signal
import sys

import uvicorn

from engagement_api.cli.tokens import DEMO_LOGINS, UserLookupError, demo_tokens
from engagement_api.db.engine import create_engine, resolve_database_url
from engagement_api.http.protocol import http_options, websocket_protocol
from engagement_api.observability.logs import configure_logging
from engagement_api.settings import get_settings

logger = logging.getLogger(__name__)


def serve(*, host: str, port: int, workers: int, demo: bool = False) -> int:
    settings = get_settings()
    refusal = settings.startup_error()
    if refusal is not None:
        print(f"engagement-api: refusing to start: {refusal}", file=sys.stderr)
        return 2
    database_url = resolve_database_url(settings)
    os.environ["DATABASE_URL"] = database_url  # worker processes use the same server
    if settings.database_url is None:
        # Uvicorn ends a SIGTERM by raising it again under the handler it found: this one
        # exits through Python, so the embedded server's exit hook stops it.
        signal.signal(signal.SIGTERM, _exit_on_terminate)
    if demo:
        _prepare_demo(database_url, host, port)
    configure_logging(settings)  # Uvicorn's own lines too: it is given no config of its own
    if workers > 1 and settings.metrics_enabled and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        logger.warning(
            "%d workers and no PROMETHEUS_MULTIPROC_DIR: each scrape of /metrics reports the"
            " one worker that answers it; set it to an empty directory to sum them all",
            workers,
        )
    uvicorn.run(
        "engagement_api.http.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        **http_options(settings.max_header_bytes),
        ws=websocket_protocol(),
        ws_max_size=settings.max_body_bytes,  # a WebSocket message is bounded like a body
        ws_per_message_deflate=settings.websocket_per_message_deflate,
        access_log=False,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
        limit_concurrency=settings.http_max_connections,
        lifespan="on",  # a failed startup ends the worker, never leaves one answering 500
    )
    return 0


def _exit_on_terminate(signum: int, _frame: object) -> None:
    sys.exit(128 + signum)


def _prepare_demo(database_url: str, host: str, port: int) -> None:
    """Migrate, seed the demo organization (idempotent) and print ready-to-paste tokens."""
    from engagement_api.cli.seed import run_seed

    run_seed(scale=1, database_url=database_url)
    try:
        tokens = asyncio.run(_demo_tokens(database_url))
    except UserLookupError as refusal:  # RS256: tokens come from the identity provider
        print(f"\nGraphiQL: http://{host}:{port}/graphql (no demo tokens: {refusal})", flush=True)
        return
    print(f"\nGraphiQL: http://{host}:{port}/graphql")
    print("Paste one of these into GraphiQL's Headers tab:")
    for role, email in DEMO_LOGINS.items():
        print(f'  {role:6} ({email}): {{"Authorization": "Bearer {tokens[role]}"}}')
    print(flush=True)


async def _demo_tokens(database_url: str) -> dict[str, str]:
    engine = create_engine(database_url)
    try:
        return await demo_tokens(engine)
    finally:
        await engine.dispose()
