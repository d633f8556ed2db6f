"""`@direct`: a resolver the fast path may call without Strawberry's per-call wrapper.

The mark changes nothing by itself: under stock execution Strawberry calls the resolver as
any other; under the fast path (`fastpath/plain_fields.py`) graphql-core calls it with a
`strawberry.Info` made around its own resolve info. Either way the resolver receives what
its `info: strawberry.Info` annotation says."""

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

DIRECT = "_resolved_directly"


def direct(function: F) -> F:
    """Marks a resolver `(self, info, **arguments)` without permissions or field extensions
    that the fast path may call as it is when its arguments are scalars, enums or lists of
    them (graphql-core's coerced values are then what Strawberry would pass: Python enum
    members, ints, strings). Strawberry's resolver wrapper (argument conversion, the
    extension chain) costs a few us per call: 600 message senders and 180 connections per
    dashboard."""
    setattr(function, DIRECT, True)
    return function


def is_direct(function: object) -> bool:
    return bool(getattr(function, DIRECT, False))
