"""Plain attribute fields resolve with one `getattr` (docs/performance.md).

Strawberry resolves a field without a resolver of its own through two wrappers (its basic
result function, then `StrawberryField.get_result`) before reading the attribute: three
Python calls for each of the ~10,000 leaves of a dashboard. Once the schema is built, each
such field (Strawberry marks their resolver `_is_default`) gets a resolver that reads the
attribute directly; what it returns is the same. Resolvers marked `@direct` are called by
graphql-core as they are. Fields with arguments, permissions or field extensions are left
as Strawberry built them.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, get_named_type, is_leaf_type
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
F = TypeVar("F", bound=Callable[..., Any])


ATTRIBUTE = "_reads_attribute"


def _attribute(name: str) -> Callable[..., Any]:
    def resolve(source: Any, _info: Any, **_arguments: Any) -> Any:
        return getattr(source, name)

    setattr(resolve, ATTRIBUTE, name)
    return resolve


def attribute_of(resolve: Callable[..., Any] | None) -> str | None:
    """The attribute a resolver set by `resolve_plain_fields_directly` reads, else None."""
    return getattr(resolve, ATTRIBUTE, None)


def direct_function_of(resolve: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """The `@direct` function `(self, info)` a resolver set by `resolve_plain_fields_directly`
    calls (one without arguments), else None."""
    return getattr(resolve, CALLS, None)


DIRECT = "_resolved_directly"


def direct(function: F) -> F:
    """Marks a resolver `(self, info, **arguments)` without permissions or field extensions
    that graphql-core may call as it is, when its arguments are scalars, enums or lists of
    them (graphql-core's coerced values are then what Strawberry would pass: Python enum
    members, ints, strings): it gets graphql-core's `info` (with the same `context` and
    `root_value` as Strawberry's), its arguments by their Python names, and returns a value
    or an awaitable. Strawberry's resolver wrapper (an `Info` object, argument conversion,
    the extension chain) costs a few us per call: 600 message senders and 180 connections
    per dashboard."""
    setattr(function, DIRECT, True)
    return function


CALLS = "_calls_directly"


def _method(function: Callable[..., Any], names: dict[str, str]) -> Callable[..., Any]:
    if not names:

        def resolve(source: Any, info: Any, **_arguments: Any) -> Any:
            return function(source, info)

        setattr(resolve, CALLS, function)
        return resolve

    def resolve_with_arguments(source: Any, info: Any, **arguments: Any) -> Any:
        return function(source, info, **{names[name]: value for name, value in arguments.items()})

    return resolve_with_arguments


def resolve_plain_fields_directly(schema: GraphQLSchema) -> None:
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
                    field.resolve = _method(function, names)


def _direct_function(definition: StrawberryField) -> Callable[..., Any] | None:
    resolver = definition.base_resolver
    if resolver is None or definition.permission_classes or definition.extensions:
        return None
    function = resolver.wrapped_func
    if isinstance(function, (staticmethod, classmethod)):
        return None
    return function if getattr(function, DIRECT, False) else None


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
