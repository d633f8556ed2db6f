"""A cost limit that multiplies connection page sizes down the tree (domain rules §4).

Cost of an operation, computed before execution:
- a scalar or enum field costs 0; `__typename`, `__schema` and `__type` cost 0;
- a field of object, interface or union type costs `multiplier * (1 + cost of its selection)`;
- the multiplier of a connection field (one taking `first`/`last`) is its page size:
  `first`, else `last`, else the default page size, clamped to 0..maximum page size
  (a larger value is refused by the resolver before it reads anything);
  of a field taking a list of `ids` it is the number of ids; otherwise 1.
Fragments count wherever they are spread (each fragment is costed once and memoized).
An operation over the limit fails validation, with the document's other validation errors.

Alongside, the most characters of text the operation's answer may hold (every leaf
`LEAF_CHARACTERS`, the long ones of domain rules §4 more, each key its length, times the
same multipliers), and the most bytes of JSON they may take (each character escaped to 6
bytes, with the quotes, colons, commas and brackets around them). A subscription whose
worst case is over `MAX_EVENT_CHARACTERS`, or a mutation whose worst case is over
`MAX_RESPONSE_BYTES`, fails validation (a mutation's payload is read after its write is
kept); a query's answer is measured, as the bytes of its JSON, after execution only when
its worst case is over `MAX_RESPONSE_BYTES`, and refused RESPONSE_TOO_LARGE if it really
is (objects repeated through aliases, ids or cycles hold one string many times).

Every response reports `extensions.cost = {"requested": n, "limit": m}` (as Saleor does);
an operation over the limit is refused with `extensions.code` QUERY_TOO_COMPLEX.
"""

from collections.abc import Iterator, Mapping
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInt,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    is_composite_type,
    type_from_ast,
    value_from_ast,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from engagement_api.json_levels import ESCAPED_BYTES, json_over
from engagement_api.schema.extensions.coded_rules import reporting
from engagement_api.schema.fragments import fragments_of
from engagement_api.schema.served_types import served_types

CODE = "QUERY_TOO_COMPLEX"
TOO_LARGE = "RESPONSE_TOO_LARGE"

Cost = tuple[int, int, int]
"""(objects, characters, bytes): the objects an operation may answer (what the limit
counts), the most characters of text they may hold, and the most bytes of JSON they may
take."""
LEAF_CHARACTERS = 256
"""A leaf's characters at most, but for `LONG_LEAVES` (names, ids, times, numbers)."""
LONG_LEAVES = {
    ("Message", "content"): 20_000,
    ("Project", "description"): 20_000,
    ("Service", "description"): 20_000,
    ("Attachment", "url"): 2_048,
    ("User", "email"): 320,
}
"""Leaves that may hold more (domain rules §4; the text columns of the model)."""
LIST_ITEMS = {("Message", "attachments"): 20}
"""Lists of objects that are no connection and hold several (domain rules §4)."""


class CostEstimator:
    """The cost of one document's operations, given the request's variables."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        *,
        default_page_size: int,
        max_page_size: int,
    ) -> None:
        """Args:
        schema: the schema the document is validated against.
        fragments: the document's fragment definitions by name.
        variables: the request's variable values (uncoerced; non-integers are ignored).
        default_page_size: the page size of a connection field without first/last.
        max_page_size: the largest page size a connection field serves.
        """
        self.schema = schema
        self.fragments = fragments
        self.provided = variables
        self.variables = variables
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        self._fragment_costs: dict[str, Cost] = {}
        self._visiting: set[str] = set()
        self.read: set[str] = set()
        """The variables the costs computed so far depend on (the same for every request
        of the document: the arguments that hold them)."""

    def operation(self, operation: OperationDefinitionNode) -> Cost:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return (0, 0, 0)
        self.variables = {**self._defaults(operation), **self.provided}
        self._fragment_costs.clear()
        return self._selection(operation.selection_set, root)

    def _defaults(self, operation: OperationDefinitionNode) -> dict[str, Any]:
        """The operation's variable defaults (`$first: Int = 10`)."""
        defaults = {}
        for definition in operation.variable_definitions or ():
            kind = type_from_ast(self.schema, definition.type)
            if definition.default_value is not None and kind is not None:
                value = value_from_ast(definition.default_value, kind)  # type: ignore[arg-type]
                defaults[definition.variable.name.value] = value
        return defaults

    def _selection(self, selection_set: SelectionSetNode, parent: GraphQLNamedType) -> Cost:
        objects = characters = size = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                cost = self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                cost = self._selection(selection.selection_set, on or parent)
            elif isinstance(selection, FragmentSpreadNode):
                cost = self._fragment(selection.name.value)
            else:
                continue
            objects += cost[0]
            characters += cost[1]
            size += cost[2]
        return objects, characters, size

    def _fragment(self, name: str) -> Cost:
        if name in self._fragment_costs:
            return self._fragment_costs[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self._visiting:
            return (0, 0, 0)  # unknown or cyclic: other validation rules report it
        on = self.schema.get_type(fragment.type_condition.name.value)
        if on is None:
            return (0, 0, 0)
        self._visiting.add(name)
        cost = self._fragment_costs[name] = self._selection(fragment.selection_set, on)
        self._visiting.discard(name)
        return cost

    def _field(self, node: FieldNode, parent: GraphQLNamedType) -> Cost:
        fields: Mapping[str, GraphQLField] = getattr(parent, "fields", {})
        definition = fields.get(node.name.value)
        where = (parent.name, node.name.value)
        key = len(node.alias.value if node.alias else node.name.value)  # a long alias repeats
        member = key + 4  # `"key":` and a comma: response names need no escape
        if definition is None:  # `__typename`, introspection, unknown fields
            return (0, key + LEAF_CHARACTERS, member + _leaf_bytes(LEAF_CHARACTERS))
        returned = get_named_type(definition.type)
        if node.selection_set is None or not is_composite_type(returned):
            leaf = LONG_LEAVES.get(where, LEAF_CHARACTERS)
            return (0, key + leaf, member + _leaf_bytes(leaf))
        objects, characters, size = self._selection(node.selection_set, returned)
        multiplier = self._multiplier(node, definition)
        items = LIST_ITEMS.get(where, 1)
        # Each object in braces, followed by a comma; a list in brackets.
        each, each_size = items * characters, items * (size + 3) + 2
        return (
            multiplier * (1 + objects),
            key + multiplier * each,
            member + 2 + multiplier * each_size,
        )

    def _multiplier(self, node: FieldNode, definition: GraphQLField) -> int:
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        for name in ("ids", "first", "last"):
            if name in arguments and name in definition.args:
                self.read.update(_variables_in(arguments[name]))
        if "ids" in definition.args:
            ids = arguments.get("ids")
            value = value_from_ast(ids, definition.args["ids"].type, self.variables) if ids else []
            return len(value) if isinstance(value, list) else 1
        if "first" not in definition.args and "last" not in definition.args:
            return 1
        sizes = [self._int(arguments.get(name)) for name in ("first", "last")]
        given = [size for size in sizes if size is not None]
        size = max(given) if given else self.default_page_size
        return min(max(size, 0), self.max_page_size)

    def _int(self, node: Any) -> int | None:
        if node is None:
            return None
        value = value_from_ast(node, GraphQLInt, self.variables)
        return value if isinstance(value, int) else None


def _leaf_bytes(characters: int) -> int:
    """A leaf of so many characters at most, as JSON: each escaped, between quotes."""
    return ESCAPED_BYTES * characters + 2


def _variables_in(value: ValueNode) -> Iterator[str]:
    if isinstance(value, VariableNode):
        yield value.name.value
    elif isinstance(value, ListValueNode):
        for item in value.values:
            yield from _variables_in(item)
    elif isinstance(value, ObjectValueNode):
        for field in value.fields:
            yield from _variables_in(field.value)


MAX_COSTED_DOCUMENTS = 1024
"""Documents whose costs are kept per process (the document cache hands back the same syntax
tree for a known document; each entry holds its document, so its id is not reused)."""

MAX_COSTS_PER_DOCUMENT = 16
MAX_KEPT_VALUES_BYTES = 1024
"""Costs kept per document, for values of at most this size: variables are the client's
choice, so a document sent with ever new id lists must not grow what the process keeps."""

Costs = dict[bytes, Cost]
"""An operation's cost by the values of the variables it depends on (JSON)."""
CostKey = tuple[int, int, str | None, int, int]
"""The document's and schema's ids, the operation's name, the page sizes."""
_costs: dict[CostKey, tuple[DocumentNode, GraphQLSchema, tuple[str, ...], Costs]] = {}


class QueryCost(SchemaExtension):
    """Computes each operation's cost before validation, refuses it over `limit` (as a
    validation error), and reports it in the response's extensions.

    The cost is computed directly, not by a validation rule: a rule would make graphql-core
    walk the whole document with its type information on every request, which is what
    `DocumentCache` saves for a known document."""

    def __init__(
        self,
        *,
        limit: int,
        default_page_size: int,
        max_page_size: int,
        max_response_bytes: int,
        max_event_characters: int,
    ) -> None:
        """Args:
        limit: the highest cost an operation may have.
        default_page_size: the page size of a connection field without first/last.
        max_page_size: the largest page size a connection field serves.
        max_response_bytes: the most bytes an answer's JSON may take.
        max_event_characters: the most a subscription's event may hold, at worst.
        """
        self.limit = limit
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        self.max_response_bytes = max_response_bytes
        self.max_event_characters = max_event_characters
        self.requested: int | None = None
        self.worst_characters = self.worst_bytes = 0

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            self.requested, self.worst_characters, self.worst_bytes = self._measure(
                context.graphql_document
            )
            refusal = self._refusal()
            if refusal is not None:
                context.validation_rules = (*context.validation_rules, reporting(refusal))
            over = self.worst_bytes > self.max_response_bytes
            if over and self._operation_type() is OperationType.QUERY and context.context:
                context.context.answer_size_wanted = True
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        limit = self.max_response_bytes
        if self.worst_bytes <= limit or result is None or result.data is None:
            return
        bound = getattr(self.execution_context.context, "answer_bytes_at_most", None)
        if bound is not None and bound <= limit:
            return  # the planned execution's bound (`compiler/answer_size.py`)
        if json_over(result.data, limit):
            result.data = None
            result.errors = [*(result.errors or ()), self._too_large(limit, "bytes of JSON")]

    def get_results(self) -> dict[str, Any]:
        if self.requested is None:
            return {}
        return {"cost": {"requested": self.requested, "limit": self.limit}}

    def _measure(self, document: DocumentNode) -> Cost:
        """The cost, computed once per document, operation and values of the variables it
        depends on (page sizes and id lists)."""
        variables = self.execution_context.variables or {}
        schema = served_types(self.execution_context.schema)
        name = self.execution_context.operation_name
        key = (id(document), id(schema), name, self.default_page_size, self.max_page_size)
        known = _costs.get(key)
        if known is None or known[0] is not document or known[1] is not schema:
            cost, read = self._compute(document, schema)
            if len(_costs) >= MAX_COSTED_DOCUMENTS:
                _costs.clear()
            known = _costs[key] = (document, schema, tuple(sorted(read)), {})
        else:
            cost = None
        try:
            # absent and null differ: an absent variable takes its default
            values = orjson.dumps([[v in variables, variables.get(v)] for v in known[2]])
        except TypeError:  # a value JSON cannot hold: computed, not kept
            return cost if cost is not None else self._compute(document, schema)[0]
        costs = known[3]
        if cost is None:
            cost = costs.get(values)
            if cost is None:
                cost = self._compute(document, schema)[0]
        if len(values) <= MAX_KEPT_VALUES_BYTES:
            if len(costs) >= MAX_COSTS_PER_DOCUMENT and values not in costs:
                costs.clear()
            costs[values] = cost
        return cost

    def _compute(self, document: DocumentNode, schema: GraphQLSchema) -> tuple[Cost, set[str]]:
        estimator = CostEstimator(
            schema,
            fragments_of(document),
            self.execution_context.variables or {},
            default_page_size=self.default_page_size,
            max_page_size=self.max_page_size,
        )
        costs = [estimator.operation(operation) for operation in self._operations(document)]
        worst = tuple(max((cost[n] for cost in costs), default=0) for n in range(3))
        return (worst[0], worst[1], worst[2]), estimator.read

    def _refusal(self) -> GraphQLError | None:
        """Why the operation is refused before it runs, if it is."""
        cost = self.requested or 0
        if cost > self.limit:
            return GraphQLError(
                f"Query cost {cost} exceeds the limit of {self.limit}; "
                "ask for smaller pages (first/last) or fewer nested connections.",
                extensions={"code": CODE, "cost": cost, "limit": self.limit},
            )
        kind = self._operation_type()
        if kind is OperationType.SUBSCRIPTION and self.worst_characters > self.max_event_characters:
            return self._too_large(
                self.max_event_characters, "characters of text", "An event of this subscription"
            )
        if kind is OperationType.MUTATION and self.worst_bytes > self.max_response_bytes:
            return self._too_large(
                self.max_response_bytes, "bytes of JSON", "This mutation's payload"
            )
        return None

    def _operation_type(self) -> OperationType | None:
        try:
            return self.execution_context.operation_type
        except Exception:  # no such operation: OperationSelection reports it
            return None

    @staticmethod
    def _too_large(limit: int, unit: str, what: str = "The answer") -> GraphQLError:
        return GraphQLError(
            f"{what} could hold more than {limit} {unit}; ask for smaller pages,"
            " fewer aliases or fewer repeated ids.",
            extensions={"code": TOO_LARGE, "limit": limit},
        )

    def _operations(self, document: DocumentNode) -> list[OperationDefinitionNode]:
        """The operation that will run (by name), or every operation when unnamed."""
        name = self.execution_context.operation_name
        return [
            definition
            for definition in document.definitions
            if isinstance(definition, OperationDefinitionNode)
            and (name is None or (definition.name is not None and definition.name.value == name))
        ]
