"""Plans: what each selection of an operation reads and how each value completes, made once
per operation from the syntax tree and the schema's types, fields and Strawberry field
definitions (public API only)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    is_object_type,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from engagement_api.compiler.batch import LevelResolver, level_resolver
from engagement_api.compiler.collect import UnsupportedDocumentError, collect_fields
from engagement_api.compiler.leaves import (
    coercion,
    enum_table,
    is_int,
    passthrough_class,
    written_by_encoder,
)

BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF

TYPENAME = 0
"""`__typename`: the parent type's name."""
READ = 1
"""A field Strawberry resolves by reading an attribute (no resolver, permission or extension)."""
CALL = 2
"""A field with a resolver: called as graphql-core calls it, with its resolve info and arguments."""


@dataclass(slots=True, eq=False)
class FieldPlan:
    """One response key of a selection on one object type."""

    index: int
    key: str
    name: str
    nodes: list[FieldNode]
    parent_type: GraphQLObjectType
    how: int
    definition: GraphQLField | None = None
    attribute: str = ""
    resolve: Callable[..., Any] | None = None
    has_arguments: bool = False
    level: LevelResolver | None = None
    """A resolver field resolved for all rows of a level at once (`batch.py`)."""
    python_names: dict[str, str] = field(default_factory=dict)
    """With `level`: each argument's Python name, by GraphQL name."""
    return_type: GraphQLOutputType | None = None
    non_null: bool = False
    is_list: bool = False
    item_type: GraphQLOutputType | None = None
    item_non_null: bool = False
    # leaves
    is_leaf: bool = False
    coerce: Callable[[Any], Any] = str
    passthrough: type | None = None
    is_int: bool = False
    enum_class: type | None = None
    enum_names: dict[Any, str] = field(default_factory=dict)
    written_by_encoder: tuple[type, object] | None = None
    """(class, tzinfo) of the values left for the response's JSON encoder (`leaves.py`)."""
    # objects: one plan, or one per possible type of an interface
    variants: "list[SelectionPlan]" = field(default_factory=list)
    interface: GraphQLInterfaceType | None = None
    slots: dict[str, int] = field(default_factory=dict)
    """For an interface: the variant of each possible type, by name."""
    typename: str = ""

    @property
    def description(self) -> str:
        return f"{self.parent_type.name}.{self.name}"


@dataclass(slots=True, eq=False)
class SelectionPlan:
    """The fields selected on one object type at one place of the operation."""

    object_type: GraphQLObjectType
    fields: list[FieldPlan]
    calls: list[FieldPlan]
    objects: list[FieldPlan]
    checked_classes: set[type] = field(default_factory=set)
    """Classes whose values the type's `is_type_of` accepted (it decides by class)."""
    check: Any = None
    """The type check the execution made for this plan (`execute._type_check`)."""
    rows: Any = None
    """The generated builder of its result dicts (`rows.row_builder`), False if none."""
    size: Any = None
    """What a row takes in the answer at most (`answer_size.level_size`), False if unknown."""


@dataclass(slots=True, eq=False)
class OperationPlan:
    operation: OperationDefinitionNode
    root: SelectionPlan


def plan_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> OperationPlan:
    """The operation's plan; `UnsupportedDocumentError` for what is not planned. A
    subscription's plan is that of one event's execution (graphql-core executes the
    operation once per event, the event as the root value)."""
    if operation.directives:
        raise UnsupportedDocumentError("operation")
    if operation.operation is OperationType.QUERY:
        root = schema.query_type
    elif operation.operation is OperationType.SUBSCRIPTION:
        root = schema.subscription_type
    else:
        raise UnsupportedDocumentError("operation")
    if root is None:
        raise UnsupportedDocumentError("schema")
    return OperationPlan(
        operation, _plan_selection(schema, root, [operation.selection_set], fragments)
    )


def _plan_selection(
    schema: GraphQLSchema,
    object_type: GraphQLObjectType,
    selection_sets: Sequence[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
) -> SelectionPlan:
    grouped = collect_fields(schema, object_type, selection_sets, fragments)
    fields = [
        _plan_field(schema, object_type, index, key, nodes, fragments)
        for index, (key, nodes) in enumerate(grouped.items())
    ]
    return SelectionPlan(
        object_type,
        fields,
        calls=[plan for plan in fields if plan.how == CALL],
        objects=[plan for plan in fields if plan.variants],
    )


def _plan_field(
    schema: GraphQLSchema,
    parent_type: GraphQLObjectType,
    index: int,
    key: str,
    nodes: list[FieldNode],
    fragments: dict[str, FragmentDefinitionNode],
) -> FieldPlan:
    name = nodes[0].name.value
    if name == "__typename":
        return FieldPlan(index, key, name, nodes, parent_type, TYPENAME, typename=parent_type.name)
    definition = parent_type.fields.get(name)
    if definition is None or name.startswith("__"):
        raise UnsupportedDocumentError("field")  # introspection, or no such field
    plan = FieldPlan(index, key, name, nodes, parent_type, CALL, definition=definition)
    plan.has_arguments = bool(definition.args) or any(node.arguments for node in nodes)
    attribute = _attribute_of(definition)
    if attribute is not None and not plan.has_arguments:
        plan.how, plan.attribute = READ, attribute
    else:
        plan.resolve = definition.resolve
        if plan.resolve is None:
            raise UnsupportedDocumentError("default resolver")
        _plan_level(plan, definition)
    plan.return_type = definition.type
    inner = definition.type
    if isinstance(inner, GraphQLNonNull):
        plan.non_null, inner = True, inner.of_type
    if isinstance(inner, GraphQLList):
        plan.is_list, plan.item_type = True, inner.of_type
        inner = inner.of_type
        if isinstance(inner, GraphQLNonNull):
            plan.item_non_null, inner = True, inner.of_type
        if isinstance(inner, GraphQLList):
            raise UnsupportedDocumentError("nested list")
    if is_leaf_type(inner):
        plan.is_leaf = True
        plan.coerce = coercion(inner)
        plan.passthrough = passthrough_class(inner)
        plan.is_int = is_int(inner)
        plan.enum_class, plan.enum_names = enum_table(inner)
        plan.written_by_encoder = written_by_encoder(inner)
        return plan
    selection_sets = [node.selection_set for node in nodes if node.selection_set is not None]
    if is_object_type(inner):
        plan.variants = [_plan_selection(schema, inner, selection_sets, fragments)]
        return plan
    if not isinstance(inner, GraphQLInterfaceType):
        raise UnsupportedDocumentError("union")
    plan.interface = inner
    for slot, object_type in enumerate(schema.get_possible_types(inner)):
        plan.variants.append(_plan_selection(schema, object_type, selection_sets, fragments))
        plan.slots[object_type.name] = slot
    return plan


def _plan_level(plan: FieldPlan, definition: GraphQLField) -> None:
    """Records the field's level resolver when it has one and its arguments reach it as
    graphql-core coerces them (scalars and enums: input objects need Strawberry's own
    conversion, which the resolver call gives)."""
    strawberry_field = (definition.extensions or {}).get(BACKREF)
    if not isinstance(strawberry_field, StrawberryField):
        return
    level = level_resolver(strawberry_field)
    if level is None:
        return
    names = {}
    for name, argument in definition.args.items():
        argument_definition = (argument.extensions or {}).get(BACKREF)
        if argument_definition is None or not is_leaf_type(get_named_type(argument.type)):
            return
        names[name] = argument_definition.python_name
    plan.level, plan.python_names = level, names


def _attribute_of(definition: GraphQLField) -> str | None:
    """The attribute Strawberry reads for a field without a resolver of its own (nor
    permission classes or extensions, with the default `getattr` resolver), else None."""
    strawberry_field = (definition.extensions or {}).get(BACKREF)
    if not isinstance(strawberry_field, StrawberryField):
        return None
    if (
        strawberry_field.base_resolver is not None
        or strawberry_field.permission_classes
        or strawberry_field.extensions
        or strawberry_field.default_resolver is not getattr
    ):
        return None
    return strawberry_field.python_name
