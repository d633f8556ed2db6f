"""Which subscription selections resolve the same for every member of an audience.

A live event is shared by the subscribers of one audience (resolvers/event_audience.py):
the organization's staff, or one engagement's CLIENT. A selection whose fields read only
the event's rows and the audience's visibility rules gives every member the same result,
so it is executed once per event, audience, operation and variables. A field that depends
on the individual viewer makes the selection per subscriber: one guarded by a permission
class other than `IsAuthenticated` (a staff audience mixes STAFF and ADMIN), or one whose
metadata says `PER_VIEWER`. The set is derived from the schema when it is built.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import strawberry
from graphql import (
    ArgumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    get_named_type,
    is_abstract_type,
    visit,
)
from graphql.language import Node
from strawberry.types.base import StrawberryObjectDefinition

from engagement_api.schema.permissions import IsAuthenticated
from engagement_api.schema.served_types import served_types

PER_VIEWER = "per_viewer"
"""Field metadata key: `strawberry.field(metadata={PER_VIEWER: True})` for a field whose
value depends on the individual viewer beyond its permission classes."""

AUDIENCE_INVARIANT_PERMISSIONS: frozenset[type[Any]] = frozenset({IsAuthenticated})
"""Permission classes that every member of an audience passes alike."""

MAX_KNOWN_OPERATIONS = 1024

ViewerDependent = frozenset[tuple[str, str]]
"""(type name, field name) pairs whose value depends on the individual viewer."""


def viewer_dependent_fields(schema: strawberry.Schema) -> ViewerDependent:
    """Every object or interface field of `schema` that depends on the individual viewer:
    each served type (by name, `served_types`) and its Strawberry definition (Strawberry's
    public `Schema.get_type_by_name`)."""
    converter = schema.config.name_converter
    found: set[tuple[str, str]] = set()
    for name in served_types(schema).type_map:
        definition = schema.get_type_by_name(name)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for field in definition.fields:
            permissions = set(field.permission_classes) - AUDIENCE_INVARIANT_PERMISSIONS
            metadata: Mapping[str, Any] = field.metadata or {}
            if permissions or metadata.get(PER_VIEWER):
                found.add((name, converter.get_graphql_name(field)))
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Sharing:
    """How an operation's event results are shared: the variables its selection reads
    (the root field's own arguments, such as `after`, only choose the stream)."""

    variables: tuple[str, ...]

    def key(self, operation: OperationDefinitionNode, values: Mapping[str, Any]) -> Any:
        used = {name: values.get(name) for name in self.variables}
        return (id(operation), orjson.dumps(used, option=orjson.OPT_SORT_KEYS, default=str))


class _Reading(Visitor):
    """Collects the variables read below the root field, and whether any field read
    depends on the viewer."""

    def __init__(
        self, schema: GraphQLSchema, type_info: TypeInfo, dependent: ViewerDependent
    ) -> None:
        super().__init__()
        self.schema = schema
        self.type_info = type_info
        self.dependent = dependent
        self.variables: set[str] = set()
        self.per_viewer = False

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        parent = self.type_info.get_parent_type()
        if parent is None:
            self.per_viewer = True  # unknown: validation refuses it anyway
            return
        named = get_named_type(parent)
        owners = (
            [t.name for t in self.schema.get_possible_types(named)]
            if is_abstract_type(named)
            else [named.name]
        )
        owners.append(named.name)
        if any((owner, node.name.value) in self.dependent for owner in owners):
            self.per_viewer = True

    def enter_argument(
        self, node: ArgumentNode, key: Any, parent: Any, path: Any, ancestors: list[Any]
    ) -> Any:
        root_field = bool(ancestors) and isinstance(ancestors[-1], FieldNode)
        if root_field and self.type_info.get_parent_type() is self.schema.subscription_type:
            return self.SKIP  # the root field's own arguments (conversationId, after)
        return None

    def enter_variable_definition(self, *_: Any) -> Any:
        return self.SKIP  # declared is not read

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.variables.add(node.name.value)


def _sharing(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    dependent: ViewerDependent,
) -> Sharing | None:
    type_info = TypeInfo(schema)
    reading = _Reading(schema, type_info, dependent)
    nodes: list[Node] = [operation, *fragments.values()]
    for node in nodes:
        visit(node, TypeInfoVisitor(type_info, reading))
    if reading.per_viewer:
        return None
    return Sharing(tuple(sorted(reading.variables)))


_known: dict[int, tuple[OperationDefinitionNode, Sharing | None]] = {}


def sharing(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    dependent: ViewerDependent,
) -> Sharing | None:
    """The operation's sharing, found on its first event; None when it is per viewer.
    The document cache hands back the same syntax tree for a known document; each entry
    holds its operation, so the id keying it is never reused while it lives."""
    known = _known.get(id(operation))
    if known is not None and known[0] is operation:
        return known[1]
    found = _sharing(schema, operation, fragments, dependent)
    if len(_known) >= MAX_KNOWN_OPERATIONS:
        _known.clear()
    _known[id(operation)] = (operation, found)
    return found
