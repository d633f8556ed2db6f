"""The query-safety extensions (domain rules §4), configured from the settings.

Each limit is its own single-purpose extension; see docs/security.md for the chosen values.
"""

from collections.abc import Callable
from functools import partial

from strawberry.extensions import SchemaExtension

from engagement_api.resolvers.connections import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from engagement_api.schema.extensions.anonymous_validation_budget import (
    AnonymousValidationBudget,
)
from engagement_api.schema.extensions.error_codes import StableErrorCodes
from engagement_api.schema.extensions.introspection_policy import IntrospectionPolicy
from engagement_api.schema.extensions.max_directives import DirectiveLimit
from engagement_api.schema.extensions.max_tokens import TokenLimit
from engagement_api.schema.extensions.operation_selection import OperationSelection
from engagement_api.schema.extensions.query_cost import QueryCost
from engagement_api.schema.extensions.query_shape import QueryShape
from engagement_api.settings import Settings


def query_safety_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories of the per-request extensions that bound what one operation may ask."""
    return [
        StableErrorCodes,
        OperationSelection,
        partial(TokenLimit, settings.max_tokens),
        partial(
            QueryShape,
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_fields=settings.max_expanded_fields,
        ),
        partial(DirectiveLimit, settings.max_directives),
        partial(
            QueryCost,
            limit=settings.max_query_cost,
            default_page_size=DEFAULT_PAGE_SIZE,
            max_page_size=MAX_PAGE_SIZE,
            max_response_bytes=settings.max_response_bytes,
            max_event_characters=settings.max_event_characters,
        ),
        partial(
            IntrospectionPolicy,
            enabled=settings.introspection,
            open_to_anonymous=settings.anonymous_introspection,
        ),
        AnonymousValidationBudget,
    ]
