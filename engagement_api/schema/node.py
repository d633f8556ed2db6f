"""Relay: the Node interface, PageInfo, and the generic Connection and Edge types."""

from typing import Generic, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.interface(description="An object with an opaque, globally unique ID.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int = strawberry.field(
        description="Rows this viewer may see in the whole connection (all pages)."
    )
