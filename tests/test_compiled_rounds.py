"""The operation compiler completes an operation in rounds: every level the same number of
awaits below the root calls its resolvers in the same round, whatever its depth, so a
DataLoader behind a field reads all those levels' keys in one batch, without a task per
level and whatever the event loop's timing.

Generated documents over a small schema (a tree of nodes: a child reached without an await,
a child reached through another DataLoader, and a leaf read through the recorded one) are
checked against a plain model: one batch for each number of awaits above the nodes whose
leaf is asked for, holding their ids; and against graphql-core's executor: the same data,
in no more batches than it reads (its batches depend on how many loop iterations each
level's tasks take, so a deep level can miss its round's batch).
"""

import os
from collections import defaultdict
from typing import Any

import strawberry
from aiodataloader import DataLoader
from hypothesis import given, settings
from hypothesis import strategies as st

from engagement_api.compiler.executor import CompiledExecutor

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "100"))


class Batches:
    """The request's DataLoaders: the leaf's records each batch it reads."""

    def __init__(self) -> None:
        self.read: list[list[int]] = []
        self.tags = DataLoader(self._tags)
        self.children = DataLoader(self._children)

    async def _tags(self, ids: list[int]) -> list[str]:
        self.read.append(list(ids))
        return [f"tag {node_id}" for node_id in ids]

    async def _children(self, ids: list[int]) -> list[int]:
        return [2 * node_id + 1 for node_id in ids]


@strawberry.type
class Node:
    """Node n's children are 2n (no await) and 2n + 1 (through a DataLoader): the awaits
    between the root (node 1) and a node are the 1 bits of its id but the first."""

    id: int

    @strawberry.field
    def near(self) -> "Node":
        return Node(id=2 * self.id)

    @strawberry.field
    async def far(self, info: strawberry.Info) -> "Node":
        return Node(id=await info.context.children.load(self.id))

    @strawberry.field
    async def tag(self, info: strawberry.Info) -> str:
        return await info.context.tags.load(self.id)  # type: ignore[no-any-return]


@strawberry.type
class Query:
    @strawberry.field
    def root(self) -> Node:
        return Node(id=1)


COMPILED = strawberry.Schema(query=Query, execution_context_class=CompiledExecutor)
REFERENCE = strawberry.Schema(query=Query)

Selection = list[tuple[str, Any]]
"""(field, its selection for `near`/`far`; None for a leaf), in document order."""


def selections(depth: int) -> st.SearchStrategy[Selection]:
    leaves = st.sampled_from([("tag", None), ("id", None)])
    if depth == 0:
        return st.lists(leaves, min_size=1, max_size=3)
    child = st.tuples(st.sampled_from(["near", "far"]), st.deferred(lambda: selections(depth - 1)))
    return st.lists(st.one_of(leaves, child), min_size=1, max_size=3)


def written(selection: Selection) -> str:
    parts = []
    for position, (name, below) in enumerate(selection):
        alias = f"f{position}: {name}"
        parts.append(alias if below is None else f"{alias} {{ {written(below)} }}")
    return " ".join(parts)


def tags_by_awaits(selection: Selection, node_id: int, found: dict[int, set[int]]) -> None:
    """The model: the ids whose tag the document asks for, by the awaits above them."""
    for name, below in selection:
        if name == "tag":
            found[node_id.bit_count() - 1].add(node_id)
        elif below is not None:
            tags_by_awaits(below, 2 * node_id + (name == "far"), found)


@settings(max_examples=EXAMPLES, deadline=None)
@given(selection=selections(4))
async def test_a_dataloader_reads_the_levels_of_one_round_at_once(selection: Selection) -> None:
    document = f"{{ root {{ {written(selection)} }} }}"
    batches = Batches()
    result = await COMPILED.execute(document, context_value=batches)
    assert result.errors is None
    expected: dict[int, set[int]] = defaultdict(set)
    tags_by_awaits(selection, 1, expected)
    read = [sorted(batch) for batch in batches.read]
    assert read == [sorted(expected[awaits]) for awaits in sorted(expected)]
    stock = Batches()
    reference = await REFERENCE.execute(document, context_value=stock)
    assert result.data == reference.data
    assert len(read) <= len(stock.read)
