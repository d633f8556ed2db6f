"""Maximum query depth (domain rules §4): Strawberry's limiter, with a stable code.

Introspection fields (`__schema`, `__type`) are not counted, so GraphiQL and codegen work.
"""

from strawberry.extensions import QueryDepthLimiter

from engagement_api.extensions.coded_rules import all_with_code, judging_the_document_only

CODE = "QUERY_TOO_DEEP"


class QueryDepthLimit(QueryDepthLimiter):
    def __init__(self, max_depth: int) -> None:
        """Args:
        max_depth: the deepest nesting of fields an operation may select.
        """
        super().__init__(max_depth=max_depth)
        coded = all_with_code(self.validation_rules, CODE)
        self.validation_rules = judging_the_document_only(coded, CODE, max_depth)
