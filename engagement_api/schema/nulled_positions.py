"""Where a field error's null lands in the response: the nearest nullable position at or
above the error's path, read off the operation and the schema.

Validation makes every field of one response key have the same shape (nullability and
lists), whatever fragment or type condition selects it, so a path's response keys alone
tell which of its positions may be null.
"""

from collections.abc import Iterator, Mapping, Sequence

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)

Position = tuple[str | int, ...]
Scope = list[tuple[SelectionSetNode, GraphQLObjectType | GraphQLInterfaceType]]
"""The selection sets that select below one position, each with its parent type."""


class NulledPositions:
    """The nulled positions of one operation's errors; a path's shape is read once."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self._nullable: dict[tuple[str | None, ...], list[bool] | None] = {}

    def of(self, path: Sequence[str | int]) -> Position:
        """The position an error at `path` nulled; `path` itself when the operation does
        not select it (then nothing is assumed about its nullability)."""
        shape = tuple(None if isinstance(step, int) else step for step in path)
        if shape not in self._nullable:
            self._nullable[shape] = self._read(path)
        nullable = self._nullable[shape]
        if nullable is None:
            return tuple(path)
        for length in range(len(path), 0, -1):
            if nullable[length - 1]:
                return tuple(path[:length])
        return ()

    def _read(self, path: Sequence[str | int]) -> list[bool] | None:
        """Whether each position along `path` may be null."""
        root = self.schema.get_root_type(self.operation.operation)
        if root is None:
            return None
        scope: Scope = [(self.operation.selection_set, root)]
        output: GraphQLOutputType | None = None
        nullable = []
        for step in path:
            if isinstance(step, int):
                listed = output.of_type if isinstance(output, GraphQLNonNull) else output
                if not isinstance(listed, GraphQLList):
                    return None
                output = listed.of_type
            else:
                fields = list(self._fields(scope, step))
                if not fields:
                    return None
                node, parent = fields[0]
                definition = parent.fields.get(node.name.value)
                if definition is None:
                    return None
                output = definition.type
                named = get_named_type(output)
                scope = []
                if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
                    scope = [
                        (field.selection_set, named)
                        for field, _ in fields
                        if field.selection_set is not None
                    ]
            nullable.append(not isinstance(output, GraphQLNonNull))
        return nullable

    def _fields(
        self, scope: Scope, key: str
    ) -> Iterator[tuple[FieldNode, GraphQLObjectType | GraphQLInterfaceType]]:
        """The fields of response key `key` in `scope`, each with the type it is read on."""
        for selection_set, parent in scope:
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    if (selection.alias or selection.name).value == key:
                        yield selection, parent
                    continue
                if isinstance(selection, InlineFragmentNode):
                    inner: SelectionSetNode = selection.selection_set
                    condition = selection.type_condition
                else:
                    assert isinstance(selection, FragmentSpreadNode)
                    fragment = self.fragments.get(selection.name.value)
                    if fragment is None:
                        continue
                    inner, condition = fragment.selection_set, fragment.type_condition
                typed = self.schema.get_type(condition.name.value) if condition else parent
                if isinstance(typed, GraphQLObjectType | GraphQLInterfaceType):
                    yield from self._fields([(inner, typed)], key)
