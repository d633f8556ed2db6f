"""Typed access to the request context from a resolver's `info`."""

from typing import Any

import strawberry
from graphql import GraphQLResolveInfo

from engagement_api.context import RequestContext

EVENT_CONTEXT_ATTRIBUTE = "event_context"
"""A subscription event (the root value of its execution) may carry its own context: the
subscriber's fresh scope, whose transaction and loaders serve that event's selection."""


def request_context(info: strawberry.Info[Any, Any] | GraphQLResolveInfo[Any]) -> RequestContext:
    """The request's context, from Strawberry's `info` or graphql-core's (a level resolver's)."""
    event_context = getattr(info.root_value, EVENT_CONTEXT_ATTRIBUTE, None)
    if isinstance(event_context, RequestContext):
        return event_context
    context: RequestContext = info.context
    return context
