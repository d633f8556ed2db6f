"""Parse and validate each distinct document once per process (docs/performance.md).

Parsing depends on the document text (and the parser's limits) only, and the GraphQL
specification's validation rules on the schema and the document only, never on variables
or the viewer; together they cost 1.5-3 ms for the benchmark's documents. A document that
parsed and passed every rule is remembered: later requests with the same text reuse its
syntax tree and run only the project's own rules (query cost, depth, aliases...: those may
read variables, so they run every time). A document that failed anything is never
remembered, so its errors are produced, and coded, as the first time.
"""

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass

from graphql import DocumentNode, specified_rules
from strawberry.extensions import SchemaExtension

SPECIFIED = frozenset(specified_rules)

MAX_DOCUMENTS = 512
"""Distinct documents remembered per process (least recently used first out)."""


@dataclass(slots=True)
class _Known:
    document: DocumentNode
    valid: bool = False


_known: OrderedDict[Hashable, _Known] = OrderedDict()


def _remember(key: Hashable, document: DocumentNode) -> None:
    _known[key] = _Known(document)
    while len(_known) > MAX_DOCUMENTS:
        _known.popitem(last=False)


class DocumentCache(SchemaExtension):
    """Reuses the syntax tree of a known document and skips the specification's rules for
    one that already passed them."""

    def _key(self) -> Hashable | None:
        context = self.execution_context
        if context.query is None:
            return None
        return context.query, tuple(sorted(context.parse_options.items()))

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        key = self._key()
        known = _known.get(key) if key is not None else None
        if known is not None and context.graphql_document is None:
            _known.move_to_end(key)
            context.graphql_document = known.document
        yield
        document = context.graphql_document
        parsed = document is not None and not context.pre_execution_errors
        if known is None and key is not None and parsed:
            _remember(key, document)  # type: ignore[arg-type]

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        key = self._key()
        known = _known.get(key) if key is not None else None
        if known is not None and known.document is not context.graphql_document:
            known = None  # another extension supplied its own tree
        if known is not None and known.valid:
            context.validation_rules = tuple(
                rule for rule in context.validation_rules if rule not in SPECIFIED
            )
        yield
        if known is not None and not context.pre_execution_errors:
            known.valid = True
