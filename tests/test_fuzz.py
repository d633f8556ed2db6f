"""Fuzzing the running server: schemathesis generates GraphQL operations from the
served schema (loaded by introspection from the server itself) and every one is sent as a
CLIENT and as a STAFF viewer. Whatever the input: no 5xx, every error has a known
`extensions.code`, nothing internal (SQL, traceback, driver names) reaches the client, and
no error is an unexpected one (a masked INTERNAL_SERVER_ERROR means a crash we must fix).

Bounded for the suite: `FUZZ_EXAMPLES` examples per operation (default 6), derandomized so
every run sends the same cases; raise it (and unset FUZZ_DERANDOMIZE) for a deeper run.
"""

import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from engagement_api.db.enums import Role
from engagement_api.schema.schema import build_schema
from tests.conftest import RunningServer
from tests.factories import World

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
DERANDOMIZE = os.environ.get("FUZZ_DERANDOMIZE", "1") != "0"

KNOWN_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "BAD_USER_INPUT",
    "SERVICE_UNAVAILABLE",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_DEEP",
    "QUERY_TOO_COMPLEX",
    "TOO_MANY_ALIASES",
    "TOO_MANY_DIRECTIVES",
    "TOO_MANY_TOKENS",
    "QUERY_TOO_LONG",
    "PERSISTED_QUERY_NOT_FOUND",
}
LEAKS = ("Traceback", "SELECT ", "INSERT ", "UPDATE ", "asyncpg", "sqlalchemy", "psycopg")


@pytest.fixture(scope="module")
def graphql_schema(server: RunningServer) -> Any:
    return schemathesis.graphql.from_url(server.graphql_url, timeout=30)


@pytest.fixture(scope="module")
async def viewer_tokens(owner_engine: Any) -> dict[str, str]:
    world = World(owner_engine)
    org = await world.organization("Fuzz")
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    engagement = await world.engagement(org, client)
    await world.message(await world.conversation(engagement), staff)
    return {"CLIENT": client.token, "STAFF": staff.token}


def problems(response: requests.Response) -> list[str]:
    """What is wrong with one response, by the rules above (empty when it is fine)."""
    found = [f"status {response.status_code}"] if response.status_code >= 500 else []
    found += [f"leaks {leak!r}" for leak in LEAKS if leak in response.text]
    try:
        body = response.json()
    except ValueError:
        return [*found, f"not JSON: {response.text[:200]!r}"]
    for error in body.get("errors") or [] if isinstance(body, dict) else []:
        code = (error.get("extensions") or {}).get("code")
        if code not in KNOWN_CODES:
            found.append(f"error {code!r}: {error.get('message')!r}")
    return found


def root_field_labels() -> list[str]:
    """`Query.<field>` and `Mutation.<field>` of the served schema (built in process only to
    name the test cases; the operations themselves come from the server's introspection)."""
    served = build_schema()._schema
    roots = [served.query_type, served.mutation_type]
    return [f"{root.name}.{name}" for root in roots if root is not None for name in root.fields]


@pytest.mark.parametrize("label", root_field_labels())
def test_no_generated_operation_gets_a_5xx_or_an_unmasked_or_unknown_error(
    graphql_schema: Any, viewer_tokens: dict[str, str], label: str
) -> None:
    operation = graphql_schema.find_operation_by_label(label)
    found: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def send(case: Any) -> None:
        for role, token in viewer_tokens.items():
            response = case.call(headers={"Authorization": f"Bearer {token}"}, timeout=30)
            found.extend(f"{role} {problem}: {case.body}" for problem in problems(response))

    send()
    assert found == []
