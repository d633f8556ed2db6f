"""Maximum number of directives in a document (GraphQL Armor's "max directives")."""

from functools import cache
from typing import Any

from graphql import DirectiveNode, GraphQLError, ValidationContext, ValidationRule, visit
from graphql.language import Visitor
from strawberry.extensions import AddValidationRules

from engagement_api.schema.extensions.coded_rules import judging_the_document_only

CODE = "TOO_MANY_DIRECTIVES"


class _Counter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.count += 1


@cache
def _rule(max_directives: int) -> type[ValidationRule]:
    class MaxDirectivesRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            counter = _Counter()
            visit(context.document, counter)
            if counter.count > max_directives:
                context.report_error(
                    GraphQLError(
                        f"{counter.count} directives found; at most {max_directives} allowed.",
                        extensions={"code": CODE},
                    )
                )

    return MaxDirectivesRule


class DirectiveLimit(AddValidationRules):
    def __init__(self, max_directives: int) -> None:
        """Args:
        max_directives: the most directives (`@skip`, `@include`, ...) a document may use.
        """
        super().__init__(judging_the_document_only([_rule(max_directives)], CODE, max_directives))
