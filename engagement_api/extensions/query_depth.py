"""Maximum query depth (domain rules §4): Strawberry's limiter, with a stable code.

Introspection fields (`__schema`, `__type`) are not counted, so GraphiQL and codegen work.
"""

from functools import cache

from graphql import ASTValidationRule
from strawberry.extensions import AddValidationRules, QueryDepthLimiter

from engagement_api.extensions.coded_rules import document_limit_rules

CODE = "QUERY_TOO_DEEP"


class QueryDepthLimit(AddValidationRules):
    def __init__(self, max_depth: int) -> None:
        """Args:
        max_depth: the deepest nesting of fields an operation may select.
        """
        super().__init__(_rules(max_depth))


@cache
def _rules(max_depth: int) -> list[type[ASTValidationRule]]:
    """Built once per limit, not per request (a request only reads them)."""
    limiter = QueryDepthLimiter(max_depth=max_depth)
    return document_limit_rules(limiter.validation_rules, CODE, max_depth)
