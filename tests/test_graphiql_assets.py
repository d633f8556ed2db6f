"""The GraphiQL files the server ships are those of the npm packages pinned in
clients/package.json (copied by `python3 dev.py graphiql`), so a version bump in the lockfile
without a fresh copy, or an edited copy, fails here."""

import json

import pytest

from engagement_api.http.graphiql import STATIC
from tests.node_clients import CLIENTS, ensure_installed

PACKAGES = ("graphiql", "@graphiql/plugin-explorer", "react", "react-dom", "graphql-ws")
VENDORED = {
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "plugin-explorer.umd.js": "@graphiql/plugin-explorer/dist/index.umd.js",
    "plugin-explorer.css": "@graphiql/plugin-explorer/dist/style.css",
    "graphql-ws.min.js": "graphql-ws/umd/graphql-ws.min.js",
}


def test_graphiql_packages_are_pinned_exactly() -> None:
    wanted = json.loads((CLIENTS / "package.json").read_text())["devDependencies"]
    for package in PACKAGES:
        assert wanted[package][0].isdigit(), f"{package} {wanted[package]} is a range"


@pytest.mark.parametrize(("served", "source"), sorted(VENDORED.items()))
def test_served_file_is_the_pinned_package_file(served: str, source: str) -> None:
    ensure_installed()
    shipped = (STATIC / "vendor" / served).read_bytes()
    assert shipped == (CLIENTS / "node_modules" / source).read_bytes(), (
        f"{served} differs from {source}: run `python3 dev.py graphiql`"
    )


def test_every_served_vendor_file_is_accounted_for() -> None:
    assert {path.name for path in (STATIC / "vendor").iterdir()} == set(VENDORED)


def test_page_loads_nothing_but_served_files() -> None:
    page = (STATIC / "index.html").read_text()
    for name in VENDORED:
        assert f"/graphiql/vendor/{name}" in page
    assert "//" not in page.replace("/graphiql/", "").replace("<!--", "")
