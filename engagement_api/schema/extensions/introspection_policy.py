"""Who may introspect the schema (domain rules §4).

- `enabled=False` (production setting INTROSPECTION=false): `__schema` and `__type` are
  refused with INTROSPECTION_DISABLED, and graphql-core's "Did you mean ...?" suggestions
  are removed from every error message, so the schema cannot be guessed from them.
- enabled, outside dev mode: introspection is open to any authenticated viewer; an
  anonymous (or badly authenticated) request gets UNAUTHENTICATED for those fields, and
  its errors carry no suggestions either.
- enabled, in dev mode: open to anyone (GraphiQL without a token).
`__typename` is always allowed.
"""

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import FieldNode, GraphQLError, ValidationRule
from strawberry.extensions import SchemaExtension

from engagement_api.context import RequestContext
from engagement_api.errors import ClientError, UnauthenticatedError

CODE = "INTROSPECTION_DISABLED"
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
logger = logging.getLogger(__name__)
_MAY_INTROSPECT = re.compile(r"__(schema|type)\b")
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class IntrospectionPolicy(SchemaExtension):
    def __init__(self, *, enabled: bool, open_to_anonymous: bool) -> None:
        """Args:
        enabled: whether the schema may be introspected at all.
        open_to_anonymous: whether requests without a valid token may introspect (dev mode).
        """
        self.enabled = enabled
        self.open_to_anonymous = open_to_anonymous

    async def on_validate(self) -> AsyncIterator[None]:
        refusal = await self._refusal()
        if refusal is not None:
            context = self.execution_context
            context.validation_rules = (*context.validation_rules, _refusing_rule(refusal))
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors and self._hides_suggestions():
            result.errors = [without_suggestions(error) for error in result.errors]

    def _hides_suggestions(self) -> bool:
        """Suggestions name the schema's fields and values: whoever may not introspect
        may not read them either."""
        if not self.enabled:
            return True
        request = self.execution_context.context
        return (
            not self.open_to_anonymous
            and isinstance(request, RequestContext)
            and not request.token_is_valid()
        )

    async def _refusal(self) -> GraphQLError | None:
        """Why introspection is refused for this request, or None if it is allowed."""
        query = self.execution_context.query
        if query is not None and not _MAY_INTROSPECT.search(query):
            return None  # no `__schema` or `__type` in the text: nothing to refuse
        if not self.enabled:
            return GraphQLError("Introspection is disabled.", extensions={"code": CODE})
        if self.open_to_anonymous:
            return None
        try:
            await self.execution_context.context.check_viewer()
        except ClientError as error:
            return error
        except Exception:  # never let a hook's exception text reach the client
            logger.exception("viewer lookup for introspection failed")
            return UnauthenticatedError()
        return None


def _refusing_rule(refusal: GraphQLError) -> type[ValidationRule]:
    """A rule reporting `refusal` (message and extensions) at every introspection field."""

    class RefuseIntrospection(ValidationRule):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            if node.name.value in INTROSPECTION_FIELDS:
                self.report_error(
                    GraphQLError(refusal.message, node, extensions=refusal.extensions)
                )

    return RefuseIntrospection


def without_suggestions(error: GraphQLError) -> GraphQLError:
    """`error` without graphql-core's "Did you mean ...?" sentences."""
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )
