"""A smaller validation budget for a request without valid credentials.

graphql-core bounds the work of its field-merging rule with a budget
(`MAX_COMPLEXITY_BUDGET`, 500,000 comparisons: a Relay-style document of 40 fragments on
one type spends 28,000). A few kilobytes of repeated fields can spend the whole budget,
80-280 ms of CPU, before a request without credentials is answered UNAUTHENTICATED. Such
a request can ask nothing but `__typename` and introspection, which spend next to nothing:
its rule runs with `ANONYMOUS_BUDGET`. The budget is graphql-core's public module
attribute, read when the rule starts; it is set for that moment only.
"""

from collections.abc import Iterator

from graphql import ValidationContext
from graphql.validation.rules import overlapping_fields_can_be_merged as merging
from strawberry.extensions import SchemaExtension

from engagement_api.context import RequestContext

ANONYMOUS_BUDGET = 5_000


class AnonymousFieldsMerging(merging.OverlappingFieldsCanBeMergedRule):
    """The specification's rule, started with the anonymous budget."""

    def __init__(self, context: ValidationContext) -> None:
        usual = merging.MAX_COMPLEXITY_BUDGET
        merging.MAX_COMPLEXITY_BUDGET = ANONYMOUS_BUDGET
        try:
            super().__init__(context)
        finally:
            merging.MAX_COMPLEXITY_BUDGET = usual


class AnonymousValidationBudget(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        request = context.context
        if isinstance(request, RequestContext) and not request.token_is_valid():
            context.validation_rules = tuple(
                AnonymousFieldsMerging if rule is merging.OverlappingFieldsCanBeMergedRule else rule
                for rule in context.validation_rules
            )
        yield
