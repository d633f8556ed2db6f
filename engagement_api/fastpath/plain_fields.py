"""Plain attribute fields resolve with one `getattr` (docs/performance.md).

Strawberry resolves a field without a resolver of its own through two wrappers (its basic
result function, then `StrawberryField.get_result`) before reading the attribute: three
Python calls for each of the ~10,000 leaves of a dashboard. Once the schema is built, each
such field (Strawberry marks their resolver `_is_default`) gets a resolver that reads the
attribute directly; what it returns is the same. Resolvers marked `@direct`
(`schema/direct.py`) are called by graphql-core with a `strawberry.Info` made around its
resolve info (what Strawberry would pass), without the rest of Strawberry's wrapper. Fields
with arguments, permissions or field extensions are left as Strawberry built them.
"""

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLField, GraphQLObjectType, get_named_type, is_leaf_type
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from engagement_api.schema.direct import is_direct

BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


ATTRIBUTE = "_reads_attribute"


def _attribute(name: str) -> Callable[..., Any]:
    def resolve(source: Any, _info: Any, **_arguments: Any) -> Any:
        return getattr(source, name)

    setattr(resolve, ATTRIBUTE, name)
    return resolve


def attribute_of(resolve: Callable[..., Any] | None) -> str | None:
    """The attribute a resolver set by `resolve_plain_fields_directly` reads, else None."""
    return getattr(resolve, ATTRIBUTE, None)


def _strawberry_info(info: Any, definition: StrawberryField) -> strawberry.Info:
    """What Strawberry's wrapper passes as `info`, made without the dataclass `__init__`
    (half the cost; about 800 per dashboard): its two fields, set directly."""
    made: strawberry.Info = _new(_INFO)
    made._raw_info = info
    made._field = definition
    return made


_new = object.__new__
_INFO = strawberry.Info


def _method(
    function: Callable[..., Any], names: dict[str, str], definition: StrawberryField
) -> Callable[..., Any]:
    if not names:

        def resolve(source: Any, info: Any, **_arguments: Any) -> Any:
            return function(source, _strawberry_info(info, definition))

        return resolve

    def resolve_with_arguments(source: Any, info: Any, **arguments: Any) -> Any:
        python_arguments = {names[name]: value for name, value in arguments.items()}
        return function(source, _strawberry_info(info, definition), **python_arguments)

    return resolve_with_arguments


def resolve_plain_fields_directly(strawberry_schema: strawberry.Schema) -> None:
    """Give `strawberry_schema`'s plain attribute fields and `@direct` fields their direct
    resolvers (in place, once, after the schema is built)."""
    schema = strawberry_schema._schema
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            definition = (field.extensions or {}).get(BACKREF)
            if not isinstance(definition, StrawberryField):
                continue
            if getattr(field.resolve, "_is_default", False):
                field.resolve = _attribute(definition.python_name)
            elif (function := _direct_function(definition)) is not None:
                names = _python_names(field)
                if names is not None:
                    field.resolve = _method(function, names, definition)


def _direct_function(definition: StrawberryField) -> Callable[..., Any] | None:
    resolver = definition.base_resolver
    if resolver is None or definition.permission_classes or definition.extensions:
        return None
    function = resolver.wrapped_func
    if isinstance(function, (staticmethod, classmethod)):
        return None
    return function if is_direct(function) else None


def _python_names(field: GraphQLField) -> dict[str, str] | None:
    """The Python name of each GraphQL argument, or None when one needs Strawberry's own
    conversion (an input object becomes a Python object only through it)."""
    names = {}
    for name, argument in field.args.items():
        definition = (argument.extensions or {}).get(BACKREF)
        if definition is None or not is_leaf_type(get_named_type(argument.type)):
            return None
        names[name] = definition.python_name
    return names
