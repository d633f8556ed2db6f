"""Plain attribute fields resolve with one `getattr` (docs/performance.md).

Strawberry resolves a field without a resolver of its own through two wrappers (its basic
result function, then `StrawberryField.get_result`) before reading the attribute: three
Python calls for each of the ~10,000 leaves of a dashboard. Once the schema is built, each
such field (Strawberry marks their resolver `_is_default`) gets a resolver that reads the
attribute directly; what it returns is the same, and fields with a resolver, arguments,
permissions or field extensions are left as Strawberry built them.
"""

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


def _attribute(name: str) -> Callable[..., Any]:
    def resolve(source: Any, _info: Any, **_arguments: Any) -> Any:
        return getattr(source, name)

    return resolve


def resolve_plain_fields_directly(schema: GraphQLSchema) -> None:
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            definition = (field.extensions or {}).get(BACKREF)
            plain = getattr(field.resolve, "_is_default", False)
            if plain and isinstance(definition, StrawberryField):
                field.resolve = _attribute(definition.python_name)
