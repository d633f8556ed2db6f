"""The served schema: the root types, the types reachable only through interfaces, extensions."""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.execution import ExecutionContext
from strawberry.types.graphql import OperationType

from engagement_api.compiler.choice import ExecutionName, execution_context_class
from engagement_api.schema.event_execution import shared_events
from engagement_api.schema.event_sharing import viewer_dependent_fields
from engagement_api.schema.extensions.operation_selection import REQUESTED, Requested
from engagement_api.schema.mutation import Mutation
from engagement_api.schema.query import Query
from engagement_api.schema.scalars import SCALAR_OVERRIDES
from engagement_api.schema.subscription import Subscription
from engagement_api.schema.types.message import Message
from engagement_api.schema.types.organization import Organization
from engagement_api.schema.types.project import Project
from engagement_api.schema.types.service import Service
from engagement_api.schema.types.user import User

NODE_TYPES = [Message, Organization, Project, Service, User]


class EngagementSchema(strawberry.Schema):
    """Strawberry's schema without its per-error log line (client errors are expected, and
    unexpected ones are logged once, with the request id, by `MaskUnexpectedErrors`). `execute`
    records the requested operation name for `OperationSelection` (Strawberry fills in the
    first one's)."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        token = REQUESTED.set(Requested(operation_name))
        try:
            return await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed_operation_types,
                operation_extensions,
            )
        finally:
            REQUESTED.reset(token)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


def build_schema(
    extensions: Sequence[type[SchemaExtension] | Callable[[], SchemaExtension]] = (),
    *,
    fast_path: bool = False,
    execution: ExecutionName = "stock",
) -> strawberry.Schema:
    """The schema. `execution="compiled"` runs the queries the compiler plans by their plan
    (`engagement_api/compiler/`), the rest on graphql-core's executor. With `fast_path` (the
    server passes `fastpath.enabled(settings)`) the fast path's direct resolvers and hook
    runner (`engagement_api/fastpath/`) serve every operation. Live-feed events of one
    audience share one execution either way (`shared_events`)."""
    options: dict[str, Any] = {
        "query": Query,
        "mutation": Mutation,
        "subscription": Subscription,
        "types": NODE_TYPES,
        "extensions": extensions,
        "scalar_overrides": SCALAR_OVERRIDES,
    }
    executor = shared_events(execution_context_class(execution))
    options["execution_context_class"] = executor
    built = _fast(options) if fast_path else EngagementSchema(**options)
    executor.viewer_dependent = viewer_dependent_fields(built)
    return built


def _fast(options: dict[str, Any]) -> strawberry.Schema:
    # Imported only when the installed versions are the verified ones: it reaches into the
    # libraries' internals.
    from engagement_api.fastpath.schema import fast_schema

    return fast_schema(EngagementSchema, options)


schema = build_schema()
"""The schema's definition (export, contract checks); the server builds its own."""
