"""Validation rules whose errors carry a stable `extensions.code`.

graphql-core's and Strawberry's rules report bare errors; clients need a code to act on.
`with_code(rule, code)` subclasses a rule and hands it a validation context whose
`report_error` stamps the code on every error the rule reports.
"""

from collections.abc import Hashable, Sequence
from typing import Any

from graphql import ASTValidationRule, GraphQLError, ValidationContext


class _CodingContext:
    """A validation context that adds `extensions.code` to every reported error."""

    def __init__(self, context: ValidationContext, code: str) -> None:
        """Args:
        context: the real validation context (everything else is delegated to it).
        code: the `extensions.code` of the errors reported through this context.
        """
        self._context = context
        self._code = code

    def report_error(self, error: GraphQLError) -> None:
        self._context.report_error(coded(error, self._code))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def coded(error: GraphQLError, code: str, **extensions: Any) -> GraphQLError:
    """A copy of `error` with `extensions.code` (and any further extensions) set."""
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), **extensions, "code": code},
    )


def with_code(rule: type[ASTValidationRule], code: str) -> type[ASTValidationRule]:
    """`rule`, reporting its errors with `extensions.code` = `code`."""

    class CodedRule(rule):  # type: ignore[valid-type,misc]
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(_CodingContext(context, code))

    CodedRule.__name__ = CodedRule.__qualname__ = f"{rule.__name__}[{code}]"
    return CodedRule


def all_with_code(
    rules: Sequence[type[ASTValidationRule]], code: str
) -> list[type[ASTValidationRule]]:
    return [with_code(rule, code) for rule in rules]


VERDICT_KEY = "verdict_key"


def judging_the_document_only(
    rules: Sequence[type[ASTValidationRule]], *key: Hashable
) -> list[type[ASTValidationRule]]:
    """Marks rules whose verdict depends on the document alone (not on variables, the
    viewer or the time): a document that passed a rule with the same `key` (the rule's
    code and limit) passes it again, so `DocumentCache` skips it for a known document."""
    for rule in rules:
        setattr(rule, VERDICT_KEY, key)
    return list(rules)


def document_limit_rules(
    rules: Sequence[type[ASTValidationRule]], code: str, limit: int
) -> list[type[ASTValidationRule]]:
    """A document limit's rules, reporting `code` and judging the document only."""
    return judging_the_document_only(all_with_code(rules, code), code, limit)


def reporting(error: GraphQLError) -> type[ASTValidationRule]:
    """A rule that reports `error` once, wherever it runs (a verdict reached elsewhere)."""

    class Reporting(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            context.report_error(error)

    return Reporting


def verdict_key(rule: type[ASTValidationRule]) -> Hashable | None:
    key: Hashable | None = getattr(rule, VERDICT_KEY, None)
    return key
