"""The fast path: everything that reaches past a library's public API for speed.

Its modules call what Strawberry keeps private (direct resolvers, a leaner extension
runner, graphql-core's resolve info behind Strawberry's), so they are correct only for the
versions they were verified with (`versions.py`). `enabled` decides once per process, at
start-up, whether they run: the `FAST_PATH` setting is on and every installed version is
the verified one. Otherwise the server runs stock Strawberry and graphql-core execution,
which answers the same, more slowly; a version mismatch is logged once, as a warning. The
modules with private imports are imported only when the fast path is on, so a library
that changed its internals cannot break the stock path.

One module here is a limit, not a speed-up: `uvicorn_headers.py` (header size and time
limits in Uvicorn's httptools protocol). `FAST_PATH` leaves it on; its own version guard
(`versions.UVICORN_HEADER_LIMITS`, http/protocol.py) falls back to Uvicorn's h11 protocol.
"""

import logging
from collections.abc import Mapping
from importlib import metadata
from typing import Any

import strawberry
from graphql import GraphQLResolveInfo

from engagement_api.fastpath.versions import VERIFIED
from engagement_api.settings import Settings

logger = logging.getLogger(__name__)

Mismatch = tuple[str, str | None, str]
"""(package, installed version or None when missing, verified version)."""


def installed_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def mismatches(verified: Mapping[str, str]) -> list[Mismatch]:
    """The packages whose installed version is not the verified one."""
    found = []
    for package, version in sorted(verified.items()):
        installed = installed_version(package)
        if installed != version:
            found.append((package, installed, version))
    return found


_decided: dict[tuple[tuple[str, str], ...], bool] = {}


def enabled(settings: Settings) -> bool:
    """Whether this process runs the fast path (decided, and a mismatch logged, once per
    verified set)."""
    if not settings.fast_path:
        return False
    verified = settings.fast_path_verified_versions or VERIFIED
    key = tuple(sorted(verified.items()))
    decision = _decided.get(key)
    if decision is None:
        found = mismatches(verified)
        if found:
            logger.warning(
                "fast path off, running stock execution: %s",
                "; ".join(
                    f"{package} {installed or 'not installed'} installed, {version} verified"
                    for package, installed, version in found
                ),
                extra={"mismatches": [list(mismatch) for mismatch in found]},
            )
        decision = _decided[key] = not found
    return decision


class FastPathSchema(strawberry.Schema):
    """The base of every schema the fast path executes (`fastpath/schema.py`)."""


def graphql_info(info: strawberry.Info[Any, Any]) -> GraphQLResolveInfo[Any] | None:
    """graphql-core's resolve info behind `info` when the fast path executes its schema
    (Strawberry keeps it in a private field of the verified version); None under stock
    execution, where Strawberry's public `Info` is what there is."""
    if isinstance(info.schema, FastPathSchema):
        raw: GraphQLResolveInfo[Any] = info._raw_info
        return raw
    return None
