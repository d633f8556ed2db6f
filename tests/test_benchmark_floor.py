"""The benchmark's floor answers what the server answers.

`bench.run` compares the server with hand-written single statements (`bench/floor_sql.py`);
the ratio means something only while each statement returns exactly the server's `data`
for its case. Here both run against a scale-2 benchmark seed, the server over HTTP.
"""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bench import workload
from engagement_api.cli import seed
from engagement_api.settings import Settings
from tests.conftest import RunningServer, own_server
from tests.databases import migrated_engine

JWT_SECRET = "floor-tests-secret-0123456789abcdef0123"
FLOOR_CASES = [
    "Q1 dashboard STAFF",
    "Q1 dashboard CLIENT",
    "Q2 thread newest",
    "Q2 thread older",
    "Q2 thread deep",
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seeded_url() -> AsyncIterator[str]:
    async with migrated_engine("floor") as (url, engine):
        await seed.seed_database(engine, 2)
        yield url


@pytest.fixture(scope="module")
def bench_server(
    seeded_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(seeded_url, tmp_path_factory, "floor", JWT_SECRET=JWT_SECRET)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cases(seeded_url: str) -> dict[str, workload.Case]:
    fixtures = await workload.load_fixtures(seeded_url)
    built = workload.build_cases(fixtures, Settings(jwt_secret=JWT_SECRET))
    return {case.name: case for case in built}


async def served_data(server: RunningServer, case: workload.Case) -> Any:
    headers = {"authorization": f"Bearer {case.token}"}
    async with httpx.AsyncClient(timeout=30) as http:
        body = (await http.post(server.graphql_url, json=case.body(), headers=headers)).json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def test_every_case_but_the_detail_page_has_a_floor(cases: dict[str, workload.Case]) -> None:
    with_floor = sorted(name for name, case in cases.items() if case.floor_sql is not None)
    assert with_floor == sorted(FLOOR_CASES)


@pytest.mark.parametrize("name", FLOOR_CASES)
async def test_floor_statement_returns_the_servers_data(
    name: str, cases: dict[str, workload.Case], seeded_url: str, bench_server: RunningServer
) -> None:
    case = cases[name]
    served = await served_data(bench_server, case)
    assert await workload.floor_data(seeded_url, case) == served


async def test_thread_pages_return_full_pages_of_distinct_messages(
    cases: dict[str, workload.Case], bench_server: RunningServer
) -> None:
    ids: list[set[str]] = []
    for name in ("Q2 thread newest", "Q2 thread older", "Q2 thread deep"):
        edges = (await served_data(bench_server, cases[name]))["conversation"]["messages"]["edges"]
        assert len(edges) == workload.PAGE
        ids.append({edge["node"]["id"] for edge in edges})
    newest, older, deep = ids
    assert len(newest | older | deep) == 3 * workload.PAGE


async def test_detail_case_answers_without_errors(
    cases: dict[str, workload.Case], bench_server: RunningServer
) -> None:
    engagement = (await served_data(bench_server, cases["Q3 engagement detail"]))["engagement"]
    assert engagement["projects"]["totalCount"] == len(engagement["projects"]["edges"]) > 0


async def test_the_write_case_leaves_the_read_cases_as_they_were(
    seeded_url: str, bench_server: RunningServer
) -> None:
    """`bench.instructions` posts into the thread, then `remove_posted` takes the messages
    away: every read case, and its floor, must see the seed again (the thread's activity
    times included, which the posts moved)."""
    fixtures = await workload.load_fixtures(seeded_url)
    settings = Settings(jwt_secret=JWT_SECRET)
    reads = workload.build_cases(fixtures, settings)
    before = [await served_data(bench_server, case) for case in reads]
    (post,) = workload.mutation_cases(fixtures, settings)
    for _ in range(2):
        posted = await served_data(bench_server, post)
        assert posted["postMessage"]["message"]["content"] == workload.POSTED_CONTENT
    assert await workload.remove_posted(seeded_url) == 2
    assert [await served_data(bench_server, case) for case in reads] == before
    for case in reads:
        if case.floor_sql is not None:
            assert await workload.floor_data(seeded_url, case) == await served_data(
                bench_server, case
            )
