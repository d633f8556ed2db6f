"""A finished request's rows are freed when its response is ready, not by a full collection.

A request's loaders point back at its context, so everything they cached (rows, pages,
futures) sits in a reference cycle until the view lets go of them. Left there, a dashboard
leaves about 6,600 objects for the cyclic garbage collector, whose generation-2 passes then
walk every other request in flight. This is a property of the server process's memory, not
of its answers, so the app runs in this process (through httpx's ASGI transport, against the
test database) where its garbage can be inspected.
"""

import gc
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio

from engagement_api.http.app import create_app
from engagement_api.loaders.base import Loader
from engagement_api.settings import Settings
from tests.factories import Made, World

DASHBOARD = """{ engagements(first: 10) { edges { node { id name
  projects(first: 10) { edges { node { id name } } }
  conversations(first: 10) { edges { node { id subject
    messages(last: 10) { edges { node { id content sender { id name } } } } } } }
  orders(first: 10) { edges { node { id amountCents } } } } } } }"""


@pytest_asyncio.fixture
async def staff(world: World) -> Made:
    return await world.dashboard_of(3)


@pytest_asyncio.fixture
async def app_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=database_url, log_level="WARNING"))
    async with app.router.lifespan_context(app):
        gc.unfreeze()  # the lifespan froze this test process's objects, as a worker's
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def _loaded(item: Any, viewer: Made) -> bool:
    """A loader, or a row a loader read. The viewer's own row is not one: the context holds
    it, and graphql-core's execution context (a cycle of its own, through its bound
    methods: a few hundred objects) holds the context."""
    if isinstance(item, Loader):
        return True
    return type(item).__name__ == "PreparedRow" and getattr(item, "id", None) != viewer.id


async def test_a_dashboard_leaves_no_rows_or_loaders_in_reference_cycles(
    staff: Made, app_client: httpx.AsyncClient
) -> None:
    headers = {"authorization": f"Bearer {staff.token}"}
    warm_up = await app_client.post("/graphql", json={"query": DASHBOARD}, headers=headers)
    assert len(warm_up.json()["data"]["engagements"]["edges"]) == 3
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        response = await app_client.post("/graphql", json={"query": DASHBOARD}, headers=headers)
        gc.collect()
        left = [type(item).__name__ for item in gc.garbage if _loaded(item, staff)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert "errors" not in response.json()
    assert left == []
