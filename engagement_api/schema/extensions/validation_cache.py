"""Parse and validate each distinct document once per process (docs/performance.md).

Parsing depends on the document text (and the parser's limits) only, and the GraphQL
specification's validation rules on the schema and the document only, never on variables
or the viewer; together they cost 1.5-3 ms for the benchmark's documents. So do the
project's limits marked `judging_the_document_only` (depth, aliases, directives: keyed by
their code and limit). A document that parsed and passed every rule is remembered: later
requests with the same text reuse its syntax tree and skip the rules it already passed; when
no rule is left, graphql-core does not walk the document at all (Strawberry's own two rules,
added to every validation, passed with the rest). What reads variables or the viewer is no
cached rule: the query cost is computed by its extension, and the introspection refusal is
added, for a text that names `__schema`/`__type`, on every request. A document that failed
anything is never remembered, so its errors are produced, and coded, as the first time.
"""

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field

from graphql import ASTValidationRule, DocumentNode, specified_rules
from strawberry.extensions import SchemaExtension

from engagement_api.schema.extensions.coded_rules import verdict_key

SPECIFIED = frozenset(specified_rules)

MAX_DOCUMENTS = 512
"""Distinct documents remembered per process (least recently used first out)."""
MAX_RULE_SETS = 8
"""Sets of rules whose remainder is remembered per document."""


Rules = tuple[type[ASTValidationRule], ...]


@dataclass(slots=True)
class _Known:
    document: DocumentNode
    passed: set[Hashable] = field(default_factory=set)
    """The verdict keys of the rules this document passed."""
    left: dict[Rules, Rules] = field(default_factory=dict)
    """For a request's rules, those still to run (worked out once while `passed` holds)."""

    def rules_left(self, rules: Rules) -> Rules:
        left = self.left.get(rules)
        if left is None:
            if len(self.left) >= MAX_RULE_SETS:  # refusals add a rule made per request
                self.left.clear()
            left = self.left[rules] = tuple(
                rule for rule in rules if _key_of(rule) not in self.passed
            )
        return left

    def record_passed(self, ran: Rules) -> None:
        """The rules that ran on this document found nothing."""
        new = {key for key in map(_key_of, ran) if key is not None} - self.passed
        if new:
            self.passed |= new
            self.left.clear()


def _key_of(rule: type[ASTValidationRule]) -> Hashable | None:
    """What identifies the rule's verdict on a document, or None when it must run every time."""
    if rule in SPECIFIED:
        return rule.__name__
    return verdict_key(rule)


_known: OrderedDict[Hashable, _Known] = OrderedDict()


def _remember(key: Hashable, document: DocumentNode) -> None:
    _known[key] = _Known(document)
    while len(_known) > MAX_DOCUMENTS:
        _known.popitem(last=False)


class DocumentCache(SchemaExtension):
    """Reuses the syntax tree of a known document and skips the rules it already passed."""

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
        running = tuple(context.validation_rules)
        if known is not None and known.passed:
            running = context.validation_rules = known.rules_left(running)
        yield
        if known is not None and not context.pre_execution_errors:
            known.record_passed(running)
