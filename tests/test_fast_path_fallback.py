"""The fast path's version guard (`engagement_api/fastpath/`): a server whose installed
libraries are not the verified versions says so once, in a warning naming the package and
both versions, and runs stock Strawberry / graphql-core execution, answering exactly what
the suite's server answers."""

import ast
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement_api import fastpath
from engagement_api.db.enums import Role
from engagement_api.fastpath.versions import VERIFIED
from engagement_api.schema.schema import EngagementSchema, build_schema
from engagement_api.settings import Settings
from tests.conftest import RunningServer, own_server
from tests.factories import Made, World

UNVERIFIED = "0.0.0.dev0"
"""A version no release has: the guard must find it different from the installed one."""
MISMATCHED = {**VERIFIED, "strawberry-graphql": UNVERIFIED}


@pytest.fixture(scope="module")
def fallback_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(
        database_url,
        tmp_path_factory,
        "fallback",
        FAST_PATH="true",
        FAST_PATH_VERIFIED_VERSIONS=json.dumps(MISMATCHED),
    )


def _records(server: RunningServer) -> list[dict[str, Any]]:
    records = []
    for line in server.logs().splitlines():
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            records.append(value)
    return records


def test_a_version_mismatch_is_one_warning_naming_the_package_and_versions(
    fallback_server: RunningServer,
) -> None:
    installed = fastpath.installed_version("strawberry-graphql")
    warnings = [
        record
        for record in _records(fallback_server)
        if record.get("level") == "warning" and record.get("logger") == "engagement_api.fastpath"
    ]
    assert len(warnings) == 1, warnings
    message = warnings[0]["message"]
    assert "stock execution" in message
    assert f"strawberry-graphql {installed} installed, {UNVERIFIED} verified" in message
    assert "graphql-core" not in message  # only what differs is named


def test_a_mismatch_builds_the_stock_schema_and_the_verified_set_the_fast_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What `create_app` builds for each decision (the server above shows the decision)."""
    unseen = f"0.0.{uuid.uuid4().int % 10**9}.dev0"  # a verified set this process never saw
    verified_elsewhere = {**VERIFIED, "graphql-core": unseen}
    mismatched = Settings(fast_path=True, fast_path_verified_versions=verified_elsewhere)
    with caplog.at_level(logging.WARNING, logger="engagement_api.fastpath"):
        decisions = [fastpath.enabled(mismatched), fastpath.enabled(mismatched)]
    assert decisions == [False, False]
    assert [record.getMessage() for record in caplog.records] == [
        "fast path off, running stock execution: graphql-core "
        f"{fastpath.installed_version('graphql-core')} installed, {unseen} verified"
    ]
    stock = build_schema(fast_path=fastpath.enabled(mismatched))
    assert type(stock) is EngagementSchema
    assert not isinstance(stock, fastpath.FastPathSchema)
    verified = Settings(fast_path=True, fast_path_verified_versions=VERIFIED)
    assert fastpath.enabled(verified)
    fast = build_schema(fast_path=fastpath.enabled(verified))
    assert type(fast) is not EngagementSchema
    assert isinstance(fast, EngagementSchema)
    assert isinstance(fast, fastpath.FastPathSchema)
    assert not fastpath.enabled(Settings(fast_path=False))


@given(
    wrong=st.dictionaries(
        st.sampled_from(sorted(VERIFIED)), st.from_regex(r"9\d{0,3}\.\d{1,3}", fullmatch=True)
    )
)
def test_the_mismatches_are_the_packages_whose_version_differs(wrong: dict[str, str]) -> None:
    verified = {**VERIFIED, **wrong}
    expected = [
        (package, fastpath.installed_version(package), version)
        for package, version in sorted(verified.items())
        if fastpath.installed_version(package) != version
    ]
    assert fastpath.mismatches(verified) == expected
    assert {package for package, _, _ in expected} == set(wrong)


class Viewers:
    def __init__(self, staff: Made, client: Made, conversation: Made, engagement: Made):
        self.staff, self.client = staff, client
        self.conversation, self.engagement = conversation, engagement


@pytest.fixture(scope="module")
async def viewers(owner_engine: Any) -> Viewers:
    world = World(owner_engine)
    staff = await world.dashboard_of(6)
    org = await world.organization("Fallback thread")
    thread_staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    engagement = await world.engagement(org, client)
    conversation = await world.conversation(engagement)
    for n in range(9):
        await world.message(conversation, thread_staff if n % 2 else client, is_internal=n % 3 == 0)
    return Viewers(staff, client, conversation, engagement)


DASHBOARD = """query($first: Int!, $messages: Int) {
  engagements(first: $first) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id name status client { name }
    projects(first: 5) { totalCount edges { node { id name phase status } } }
    conversations(first: 3) { edges { node { id subject
      messages(last: $messages) { totalCount edges { node { id content isInternal
        sender { id name } } } } } } }
    orders(first: 3) { edges { node { id amountCents status } } } } } } }"""
THREAD = """query($id: ID!, $last: Int, $before: String) { conversation(id: $id) { subject
  messages(last: $last, before: $before) { pageInfo { hasPreviousPage startCursor }
    edges { cursor node { id content isInternal sender { name } } } } } }"""
NODE = """query($id: ID!) { node(id: $id) { id ... on Conversation { subject
  messages(last: 3) { edges { node { content sender { name } } } } } } }"""


@st.composite
def requests(draw: st.DrawFn, viewers: Viewers) -> tuple[str, dict[str, Any], str]:
    viewer = draw(st.sampled_from(["staff", "client", "nobody"]))
    token = {"staff": viewers.staff.token, "client": viewers.client.token}.get(viewer, "")
    kind = draw(st.sampled_from(["dashboard", "thread", "node"]))
    small = st.one_of(st.none(), st.integers(-1, 12))
    if kind == "dashboard":
        variables: dict[str, Any] = {"first": draw(st.integers(-1, 8)), "messages": draw(small)}
        return DASHBOARD, variables, token
    some_id = st.one_of(
        st.sampled_from([viewers.conversation.gid, viewers.engagement.gid]), st.text(max_size=12)
    )
    if kind == "thread":
        variables = {
            "id": draw(some_id),
            "last": draw(small),
            "before": draw(st.one_of(st.none(), st.text(max_size=12))),
        }
        return THREAD, variables, token
    return NODE, {"id": draw(some_id)}, token


def _answer(server: RunningServer, query: str, variables: dict[str, Any], token: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        server.graphql_url,
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    )
    return response.status_code, response.json()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_stock_fallback_answers_what_the_suites_server_answers(
    data: st.DataObject,
    viewers: Viewers,
    server: RunningServer,
    fallback_server: RunningServer,
) -> None:
    query, variables, token = data.draw(requests(viewers))
    reference = _answer(server, query, variables, token)
    assert _answer(fallback_server, query, variables, token) == reference


PRIVATE_MODULES = """
import sys
from engagement_api.http.app import create_app
create_app()
print(sorted(name for name in sys.modules if name.startswith("engagement_api.fastpath.")))
"""


@pytest.mark.parametrize("verified", [MISMATCHED, VERIFIED], ids=["mismatch", "verified"])
def test_the_modules_that_reach_into_libraries_load_only_on_the_verified_versions(
    database_url: str, verified: dict[str, str]
) -> None:
    """A library whose internals changed may fail to import them: the stock path must not
    import them at all."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "FAST_PATH": "true",
        "FAST_PATH_VERIFIED_VERSIONS": json.dumps(verified),
    }
    loaded = (
        subprocess.run(
            [sys.executable, "-c", PRIVATE_MODULES],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    reaching = {"hook_runner", "plain_fields", "schema"}
    names = {name.removeprefix("engagement_api.fastpath.") for name in ast.literal_eval(loaded)}
    if verified is VERIFIED:
        assert reaching <= names
    else:
        assert not names & reaching
