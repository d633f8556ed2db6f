"""What is kept per document for the checks before validation answers as if computed for
each request. The query cost is computed once per document, operation and values of the variables it
depends on, and reused: every response reports what a fresh computation gives for its own
variables (given, null, absent with the default, or absent without one), through the real
server, however the requests with one document follow each other."""

import gc
import tracemalloc
from typing import Any

import httpx
from graphql import OperationDefinitionNode, parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement_api.resolvers.connections import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from engagement_api.schema.extensions.query_cost import CostEstimator, QueryCost
from engagement_api.schema.extensions.validation_cache import DocumentCache
from engagement_api.schema.fragments import fragments_of
from engagement_api.schema.schema import build_schema, schema
from engagement_api.settings import Settings
from tests.conftest import RunningServer
from tests.test_query_limits import nested_document

LIMITS = Settings()

DOCUMENTS = [
    """query Costed($a: Int = 7, $b: Int, $ids: [ID!]! = []) {
      engagements(first: $a) { edges { node {
        conversations(first: $b) { edges { node { id } } } } } }
      nodes(ids: $ids) { id } }""",
    """query Spread($a: Int, $x: ID!) { ...Parts nodes(ids: [$x, $x, "z"]) { id } }
    fragment Parts on Query { engagements(first: $a) { totalCount } }""",
]
variables = st.fixed_dictionaries(
    {},
    optional={
        "a": st.one_of(st.none(), st.integers(-2, 120)),
        "b": st.one_of(st.none(), st.integers(-2, 120)),
        "ids": st.lists(st.sampled_from(["a", "b"]), max_size=6),
        "x": st.just("x"),
        "unused": st.integers(0, 5),
    },
)


def fresh_cost(document: str, values: dict[str, Any]) -> int:
    estimator = CostEstimator(
        schema._schema,
        {},
        values,
        default_page_size=DEFAULT_PAGE_SIZE,
        max_page_size=MAX_PAGE_SIZE,
    )
    parsed = parse(document)
    estimator.fragments = fragments_of(parsed)
    operation = parsed.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return estimator.operation(operation)[0]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(requests=st.lists(st.tuples(st.sampled_from(DOCUMENTS), variables), min_size=1, max_size=4))
def test_each_response_reports_the_cost_of_its_own_variables(
    requests: list[tuple[str, dict[str, Any]]], server: RunningServer
) -> None:
    with httpx.Client(timeout=30) as client:
        for document, values in requests:
            if "$x" in document and "x" not in values:
                values = {**values, "x": "x"}
            response = client.post(
                server.graphql_url, json={"query": document, "variables": values}
            )
            reported = response.json()["extensions"]["cost"]["requested"]
            assert reported == fresh_cost(document, values), (document, values)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(depths=st.lists(st.sampled_from([LIMITS.max_query_depth, LIMITS.max_query_depth + 1])))
def test_a_document_is_refused_for_its_shape_each_time_it_is_sent(
    depths: list[int], server: RunningServer
) -> None:
    """The shape check is kept for a document within the limits only: one over them is
    refused every time, however often it comes."""
    with httpx.Client(timeout=30) as client:
        for depth in depths:
            body = {"query": nested_document(depth)}
            answer = client.post(server.graphql_url, json=body).json()
            codes = [error["extensions"]["code"] for error in answer.get("errors", [])]
            assert ("QUERY_TOO_DEEP" in codes) == (depth > LIMITS.max_query_depth), codes


async def test_what_is_kept_per_document_stays_bounded_whatever_the_variables() -> None:
    """The costs of one document are kept by the values of its variables, which the
    client chooses: a hundred requests, each with its own list of ids, keep next to
    nothing (they kept every list: 50 MB)."""
    costed = build_schema(
        [
            lambda: QueryCost(
                limit=LIMITS.max_query_cost,
                default_page_size=DEFAULT_PAGE_SIZE,
                max_page_size=MAX_PAGE_SIZE,
                max_response_bytes=LIMITS.max_response_bytes,
                max_event_characters=LIMITS.max_event_characters,
            ),
            DocumentCache,
        ]
    )
    document = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename } }"
    await costed.execute(document, variable_values={"ids": []})
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(100):
            ids = [f"{n}-{i}" for i in range(2_000)]
            result = await costed.execute(document, variable_values={"ids": ids})
            assert result.extensions == {"cost": {"requested": 2_000, "limit": 250_000}}
            del result, ids
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 100_000
