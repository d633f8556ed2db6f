"""Limits checked on the HTTP request before any GraphQL work (domain rules §4)."""

from engagement_api.errors import QueryTooLongError


def check_query_length(query: str | None, max_length: int) -> None:
    """QUERY_TOO_LONG when the document sent has more than `max_length` characters."""
    if query is not None and len(query) > max_length:
        raise QueryTooLongError(
            f"The query document has {len(query)} characters; at most {max_length} allowed.",
            limit=max_length,
        )
