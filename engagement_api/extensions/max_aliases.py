"""Maximum number of aliases in a document (domain rules §4), with a stable code."""

from strawberry.extensions import MaxAliasesLimiter

from engagement_api.extensions.coded_rules import all_with_code, judging_the_document_only

CODE = "TOO_MANY_ALIASES"


class AliasLimit(MaxAliasesLimiter):
    def __init__(self, max_aliases: int) -> None:
        """Args:
        max_aliases: the most aliased fields a document may contain (fragments included).
        """
        super().__init__(max_alias_count=max_aliases)
        coded = all_with_code(self.validation_rules, CODE)
        self.validation_rules = judging_the_document_only(coded, CODE, max_aliases)
