"""`engagement-api serve`: Uvicorn on the project's database (embedded when none is set)."""

import importlib.util
import os

import uvicorn

from engagement_api.db.engine import resolve_database_url
from engagement_api.settings import get_settings


def serve(*, host: str, port: int, workers: int, demo: bool = False) -> int:
    settings = get_settings()
    database_url = resolve_database_url(settings)
    os.environ["DATABASE_URL"] = database_url  # worker processes use the same server
    if demo:
        _prepare_demo(database_url, host, port)
    uvicorn.run(
        "engagement_api.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        ws="websockets",
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )
    return 0


def _prepare_demo(database_url: str, host: str, port: int) -> None:
    from engagement_api.db import migrate
    from engagement_api.seed import run_seed
    from engagement_api.tokens import print_demo_tokens

    migrate.upgrade(database_url)
    run_seed(scale=1, database_url=database_url)
    print(f"\nGraphiQL: http://{host}:{port}/graphql\n")
    print_demo_tokens(database_url)
