"""Maximum number of aliases in a document (domain rules §4), with a stable code."""

from functools import cache

from graphql import ASTValidationRule
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter

from engagement_api.extensions.coded_rules import document_limit_rules

CODE = "TOO_MANY_ALIASES"


class AliasLimit(AddValidationRules):
    def __init__(self, max_aliases: int) -> None:
        """Args:
        max_aliases: the most aliased fields a document may contain (fragments included).
        """
        super().__init__(_rules(max_aliases))


@cache
def _rules(max_aliases: int) -> list[type[ASTValidationRule]]:
    """Built once per limit, not per request (a request only reads them)."""
    limiter = MaxAliasesLimiter(max_alias_count=max_aliases)
    return document_limit_rules(limiter.validation_rules, CODE, max_aliases)
