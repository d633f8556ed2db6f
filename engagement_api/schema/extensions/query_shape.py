"""Depth, aliases and size of an operation, measured in one pass over the document
(domain rules §4).

Fragments are what make a small document expensive: 40 fragments that each spread the next
one twice are 1.5 KB of text and 2^40 fields once expanded. Walking the spread tree (as
graphql-core's and Strawberry's limiters do) takes time in the expansion, not in the text.
Here each fragment is measured once and its measure reused wherever it is spread, so the
pass is linear in the document; the expanded field count is then an exact figure, refused
over `max_fields`. A fragment that spreads itself (directly or not) is refused at once.

The check runs before validation, and a refused document is not validated further: the
specification's rules would otherwise walk the same expansion.

- depth: a field with a selection is one deeper than its deepest child, a leaf is 0, and
  introspection fields (`__schema`, `__type`) count 0, so GraphiQL and codegen work;
- aliases and fields: counted in the expansion of each operation, summed over operations.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from engagement_api.schema.extensions.coded_rules import reporting
from engagement_api.schema.fragments import fragments_of

DEPTH_CODE = "QUERY_TOO_DEEP"
ALIASES_CODE = "TOO_MANY_ALIASES"
SIZE_CODE = "QUERY_TOO_LARGE"
CYCLE_CODE = "FRAGMENT_CYCLE"


@dataclass(frozen=True, slots=True)
class Shape:
    """The measure of a selection set once every fragment spread in it is expanded."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0

    def beside(self, other: "Shape") -> "Shape":
        """Two selections side by side."""
        return Shape(
            max(self.depth, other.depth), self.aliases + other.aliases, self.fields + other.fields
        )


class FragmentCycleError(Exception):
    """A fragment spreads itself, directly or through others."""

    def __init__(self, name: str) -> None:
        """Args:
        name: a fragment on the cycle.
        """
        super().__init__(name)
        self.name = name


class ShapeMeter:
    """Measures a document's selections, each fragment once."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        """Args:
        fragments: the document's fragment definitions by name.
        """
        self.fragments = fragments
        self._measured: dict[str, Shape] = {}
        self._visiting: set[str] = set()

    def selection_set(self, selection_set: SelectionSetNode) -> Shape:
        shape = Shape()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                shape = shape.beside(self._field(selection))
            elif isinstance(selection, InlineFragmentNode):
                shape = shape.beside(self.selection_set(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                shape = shape.beside(self.fragment(selection.name.value))
        return shape

    def _field(self, node: FieldNode) -> Shape:
        alias = 1 if node.alias is not None else 0
        if node.selection_set is None:
            return Shape(0, alias, 1)
        inner = self.selection_set(node.selection_set)
        depth = 0 if node.name.value.startswith("__") else inner.depth + 1
        return Shape(depth, inner.aliases + alias, inner.fields + 1)

    def fragment(self, name: str) -> Shape:
        known = self._measured.get(name)
        if known is not None:
            return known
        if name in self._visiting:
            raise FragmentCycleError(name)
        fragment = self.fragments.get(name)
        if fragment is None:
            return Shape()  # unknown: validation reports it
        self._visiting.add(name)
        shape = self._measured[name] = self.selection_set(fragment.selection_set)
        self._visiting.discard(name)
        return shape


def measure(document: DocumentNode) -> Shape:
    """The document's shape: the deepest operation's depth, the aliases and fields of every
    operation's expansion; FragmentCycleError when a fragment spreads itself."""
    fragments = fragments_of(document)
    meter = ShapeMeter(fragments)
    shape = Shape()
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            shape = shape.beside(meter.selection_set(definition.selection_set))
    for name in fragments:  # a cycle among fragments no operation spreads is refused too
        meter.fragment(name)
    return shape


@dataclass(frozen=True, slots=True)
class ShapeLimits:
    max_depth: int
    max_aliases: int
    max_fields: int


def refusals(document: DocumentNode, limits: ShapeLimits) -> list[GraphQLError]:
    """The errors of a document over any of the limits (none when it is within them)."""
    try:
        shape = measure(document)
    except FragmentCycleError as cycle:
        return [
            GraphQLError(
                f"Fragment '{cycle.name}' spreads itself; fragments may not form cycles.",
                extensions={"code": CYCLE_CODE},
            )
        ]
    errors = []
    if shape.depth > limits.max_depth:
        errors.append(
            GraphQLError(
                f"The operation is {shape.depth} fields deep; at most {limits.max_depth} allowed.",
                extensions={"code": DEPTH_CODE, "limit": limits.max_depth},
            )
        )
    if shape.aliases > limits.max_aliases:
        errors.append(
            GraphQLError(
                f"{shape.aliases} aliases found (fragments expanded); "
                f"at most {limits.max_aliases} allowed.",
                extensions={"code": ALIASES_CODE, "limit": limits.max_aliases},
            )
        )
    if shape.fields > limits.max_fields:
        errors.append(
            GraphQLError(
                f"The document selects {shape.fields} fields once its fragments are expanded; "
                f"at most {limits.max_fields} allowed.",
                extensions={"code": SIZE_CODE, "limit": limits.max_fields},
            )
        )
    return errors


MAX_PASSED_DOCUMENTS = 1024
"""Documents known to be within the limits, per process (the document cache hands back the
same syntax tree for a known document; each entry holds its document, so its id is not
reused)."""
_passed: dict[tuple[int, ShapeLimits], DocumentNode] = {}


class QueryShape(SchemaExtension):
    """Refuses a document over the depth, alias or expanded-size limit, or with a fragment
    cycle, before validation; a refused document is not validated further."""

    def __init__(self, *, max_depth: int, max_aliases: int, max_fields: int) -> None:
        """Args:
        max_depth: the deepest nesting of fields an operation may select.
        max_aliases: the most aliased fields a document may select, fragments expanded.
        max_fields: the most fields a document may select, fragments expanded.
        """
        self.limits = ShapeLimits(max_depth, max_aliases, max_fields)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and _passed.get((id(document), self.limits)) is not document:
            errors = refusals(document, self.limits)
            if errors:
                context.validation_rules = tuple(reporting(error) for error in errors)
            else:  # the shape is the document's alone: measured once
                if len(_passed) >= MAX_PASSED_DOCUMENTS:
                    _passed.clear()
                _passed[(id(document), self.limits)] = document
        yield
