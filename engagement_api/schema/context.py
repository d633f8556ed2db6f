"""Typed access to the request context from a resolver's `info`."""

from typing import Any

import strawberry

from engagement_api.context import RequestContext


def request_context(info: strawberry.Info[Any, Any]) -> RequestContext:
    context: RequestContext = info.context
    return context
