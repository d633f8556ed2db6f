"""Field collection over the syntax tree (the spec's CollectFields), for one object type."""

from collections.abc import Iterable

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    is_abstract_type,
)


class UnsupportedDocumentError(Exception):
    """The document uses something the compiler does not plan: stock execution runs it."""


def collect_fields(
    schema: GraphQLSchema,
    object_type: GraphQLObjectType,
    selection_sets: Iterable[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
) -> dict[str, list[FieldNode]]:
    """The fields `selection_sets` select on `object_type`, by response key, in document
    order. Any directive makes the document unsupported (`@skip`/`@include` depend on the
    variables, others are custom)."""
    grouped: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()
    for selection_set in selection_sets:
        _collect(schema, object_type, selection_set, fragments, grouped, visited)
    return grouped


def _collect(
    schema: GraphQLSchema,
    object_type: GraphQLObjectType,
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    grouped: dict[str, list[FieldNode]],
    visited: set[str],
) -> None:
    for selection in selection_set.selections:
        if selection.directives:
            raise UnsupportedDocumentError("directive")
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            grouped.setdefault(key, []).append(selection)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            if condition is None or _applies(schema, condition.name.value, object_type):
                _collect(schema, object_type, selection.selection_set, fragments, grouped, visited)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visited:
                continue
            visited.add(name)
            fragment = fragments.get(name)
            if fragment is None or fragment.variable_definitions:
                raise UnsupportedDocumentError("fragment")
            if fragment.directives:
                raise UnsupportedDocumentError("directive")
            if _applies(schema, fragment.type_condition.name.value, object_type):
                _collect(schema, object_type, fragment.selection_set, fragments, grouped, visited)
        else:  # pragma: no cover - the AST has no other selection
            raise UnsupportedDocumentError("selection")


def _applies(schema: GraphQLSchema, condition: str, object_type: GraphQLObjectType) -> bool:
    conditional = schema.get_type(condition)
    if conditional is object_type:
        return True
    if conditional is not None and is_abstract_type(conditional):
        return schema.is_sub_type(conditional, object_type)
    return False
