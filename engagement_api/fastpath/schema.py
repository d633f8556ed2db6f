"""A served schema on the fast path: direct resolvers and the hook runner."""

from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types.execution import ExecutionContext

from engagement_api.fastpath import FastPathSchema
from engagement_api.fastpath.hook_runner import HookRunner
from engagement_api.fastpath.plain_fields import resolve_plain_fields_directly


class _HookRunnerSchema(FastPathSchema):
    """Hooks looked up once per extension class (`HookRunner`)."""

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return HookRunner(execution_context=execution_context, extensions=extensions)


def fast_schema(
    schema_class: type[strawberry.Schema], options: Mapping[str, Any]
) -> strawberry.Schema:
    """`schema_class(**options)` with the fast path's resolvers and extension runner; the
    execution context class is the one `options` name (the compiler's or Strawberry's)."""
    fast_class: type[strawberry.Schema] = type(
        f"Fast{schema_class.__name__}", (_HookRunnerSchema, schema_class), {}
    )
    schema = fast_class(**options)
    resolve_plain_fields_directly(schema)
    return schema
