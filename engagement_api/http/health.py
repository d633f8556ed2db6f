"""`/healthz` (the process is up) and `/readyz` (database reachable, migrations at head)."""

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse

from engagement_api.schema import event_execution, event_frames

READINESS_TIMEOUT_SECONDS = 2.0


async def healthz(request: Request) -> JSONResponse:
    broadcaster = getattr(request.app.state, "broadcaster", None)
    live_feed = None if broadcaster is None else broadcaster.status()
    if live_feed is not None:
        live_feed.update(event_execution.served())
        live_feed.update(event_frames.written())
    return JSONResponse({"status": "ok", "liveFeed": live_feed})


async def readyz(request: Request) -> JSONResponse:
    engine: AsyncEngine = request.app.state.engine
    expected = request.app.state.head_revision
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            async with engine.connect() as connection:
                revision = (
                    await connection.execute(text("SELECT version_num FROM alembic_version"))
                ).scalar()
    except Exception as error:  # any failure to reach the database means "not ready"
        return JSONResponse(
            {"status": "unavailable", "database": type(error).__name__}, status_code=503
        )
    if revision != expected:
        return JSONResponse(
            {"status": "migrations pending", "database": revision, "expected": expected},
            status_code=503,
        )
    return JSONResponse({"status": "ready", "revision": revision})
