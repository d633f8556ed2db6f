"""GraphiQL served by this server: the page at `GET /graphql` (a browser asking for HTML) and
its scripts and styles under `/graphiql/`, all from this package (`static/graphiql/`, copied
from the npm packages pinned in clients/package.json by `python3 dev.py graphiql`). The
browser fetches nothing from elsewhere, so it works offline and behind a proxy."""

import functools
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from engagement_api.http.view import GraphQLView

STATIC = Path(__file__).resolve().parent.parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql"


@functools.cache
def page() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


class GraphiQLView(GraphQLView):
    """The GraphQL view with this package's GraphiQL page instead of Strawberry's CDN one
    (`render_graphql_ide` is Strawberry's hook for a custom page)."""

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(page())


def graphiql_routes() -> list[BaseRoute]:
    return [Mount(ASSETS_PATH, app=StaticFiles(directory=STATIC), name="graphiql")]
