"""The served schema: the root types, the types reachable only through interfaces, extensions."""

from collections.abc import Callable, Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types.execution import ExecutionContext

from engagement_api.compiler.choice import ExecutionName, execution_context_class
from engagement_api.extensions.hook_runner import HookRunner
from engagement_api.schema.mutation import Mutation
from engagement_api.schema.plain_fields import resolve_plain_fields_directly
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
    unexpected ones are logged once, with the request id, by `MaskUnexpectedErrors`), and
    with hooks looked up once per extension class (`HookRunner`)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return HookRunner(execution_context=execution_context, extensions=extensions)


def build_schema(
    extensions: Sequence[type[SchemaExtension] | Callable[[], SchemaExtension]] = (),
    execution: ExecutionName = "compiled",
) -> strawberry.Schema:
    schema = EngagementSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        extensions=extensions,
        execution_context_class=execution_context_class(execution),
        scalar_overrides=SCALAR_OVERRIDES,
    )
    resolve_plain_fields_directly(schema._schema)
    return schema


schema = build_schema()
