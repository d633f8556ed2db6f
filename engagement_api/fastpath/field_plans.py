"""How `AttributeReadingExecutor` completes a field that only reads an attribute, or calls a
`@direct` resolver without arguments."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    is_leaf_type,
)
from strawberry.schema.schema_converter import CustomGraphQLEnumType
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.cast import get_strawberry_type_cast

from engagement_api.fastpath.plain_fields import BACKREF, attribute_of, direct_function_of


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One selected field: which attribute to read (or which `@direct` resolver to call) and
    what its value completes to.

    A leaf has `coerce` (the scalar's or enum's output coercion); an object or a list of
    objects has `object_type` and `is_type_of`, and a list also `item_type` and
    `item_non_null`. A field resolved by a call has `call`, `field` and `nodes` (what its
    resolve info is built from)."""

    attribute: str
    field_name: str
    return_type: GraphQLOutputType
    non_null: bool
    coerce: Callable[[Any], Any] | None = None
    object_type: GraphQLObjectType = None  # type: ignore[assignment]
    is_type_of: Callable[[Any], bool] = bool
    item_type: GraphQLOutputType = None  # type: ignore[assignment]
    item_non_null: bool | None = None
    call: Callable[[Any, Any], Any] | None = None
    field: GraphQLField = None  # type: ignore[assignment]
    nodes: list[FieldNode] = None  # type: ignore[assignment]


def plan_field(
    schema: GraphQLSchema, parent_type: GraphQLObjectType, nodes: Sequence[FieldNode]
) -> FieldPlan | None:
    """The plan of a field without arguments or directives whose resolver reads an
    attribute or calls a `@direct` function returning objects, or None for any other field
    (graphql-core executes those)."""
    name = nodes[0].name.value
    field = schema.get_field(parent_type, name)
    if field is None or field.args or any(node.arguments or node.directives for node in nodes):
        return None
    attribute = attribute_of(field.resolve)
    call = direct_function_of(field.resolve) if attribute is None else None
    if attribute is None and call is None:
        return None
    field_name = f"{parent_type.name}.{name}"
    non_null, inner = _unwrapped(field.type)
    common: dict[str, Any] = {
        "attribute": attribute or name,
        "field_name": field_name,
        "return_type": field.type,
        "non_null": non_null,
    }
    if call is not None:
        common.update(call=call, field=field, nodes=list(nodes))
    if is_leaf_type(inner):
        if call is not None:
            return None  # leaves are completed inline, by reading an attribute only
        return FieldPlan(**common, coerce=_coercion(inner))
    if isinstance(inner, GraphQLList):
        item_non_null, item = _unwrapped(inner.of_type)
        is_type_of = _is_type_of(item)
        if is_type_of is None:
            return None
        return FieldPlan(
            **common,
            object_type=item,  # type: ignore[arg-type]
            is_type_of=is_type_of,
            item_type=inner.of_type,
            item_non_null=item_non_null,
        )
    is_type_of = _is_type_of(inner)
    if is_type_of is None:
        return None
    return FieldPlan(**common, object_type=inner, is_type_of=is_type_of)  # type: ignore[arg-type]


def _coercion(leaf: GraphQLOutputType) -> Callable[[Any], Any]:
    """The leaf type's output coercion; for a Strawberry enum, its members' names by a table
    (Strawberry scans the values and reads each member's `value` property every time)."""
    coerce: Callable[[Any], Any] = leaf.coerce_output_value  # type: ignore[union-attr]
    if not isinstance(leaf, CustomGraphQLEnumType):
        return coerce
    members: type[Any] = leaf.wrapped_cls
    names = {member: coerce(member) for member in members}

    def coerce_member(value: Any) -> Any:
        return names[value] if type(value) is members else coerce(value)

    return coerce_member


def _unwrapped(output_type: GraphQLOutputType) -> tuple[bool, GraphQLOutputType]:
    if isinstance(output_type, GraphQLNonNull):
        return True, output_type.of_type
    return False, output_type


def _is_type_of(output_type: GraphQLOutputType) -> Callable[[Any], bool] | None:
    """The object type's runtime check without a resolve info, or None when the type is no
    Strawberry object type or brings its own check (which may read the info)."""
    if not isinstance(output_type, GraphQLObjectType):
        return None
    definition = (output_type.extensions or {}).get(BACKREF)
    if not isinstance(definition, StrawberryObjectDefinition) or definition.is_type_of:
        return None
    generated = output_type.is_type_of
    if generated is None:
        return _always
    return _by_class(generated)


def _by_class(generated: Callable[[Any, Any], Any]) -> Callable[[Any], bool]:
    """Strawberry's check, remembered per class: it decides by the value's class alone
    (its definition, `isinstance`) unless the value was `strawberry.cast`, whose mark is on
    the value itself, so a marked value is always checked again."""
    passed: set[type] = set()

    def is_type_of(value: Any) -> bool:
        if type(value) in passed and get_strawberry_type_cast(value) is None:
            return True
        verdict = bool(generated(value, None))  # reads no info
        if verdict and get_strawberry_type_cast(value) is None:
            passed.add(type(value))
        return verdict

    return is_type_of


def _always(_value: Any) -> bool:
    return True
