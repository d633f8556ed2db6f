"""The production profile (ENVIRONMENT=production): the server refuses to start with the
development secret or a short one, and GraphiQL, anonymous introspection and statement counts
are off unless each is turned on explicitly."""

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from engagement_api.auth import mint_token
from engagement_api.cli.main import setting_problems
from engagement_api.db.enums import Role
from engagement_api.settings import (
    DEVELOPMENT_JWT_SECRET,
    MIN_JWT_SECRET_CHARACTERS,
    MIN_JWT_SECRET_LENGTH,
    PROFILE_SWITCHES,
    Settings,
)
from tests.conftest import RunningServer, free_port, own_server, start_server, stop_server
from tests.factories import World

GOOD_SECRET = "production-secret-0123456789abcdef-0123456789"
VIEWER = "{ viewer { role } }"
INTROSPECTION = "{ __schema { queryType { name } } }"
REFUSAL_SECONDS = 60


def refused_start(database_url: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """`engagement-api serve` as an operator starts it; it must exit by itself."""
    env = {key: value for key, value in os.environ.items() if key != "JWT_SECRET"}
    env |= {"DATABASE_URL": database_url, **environment}
    return subprocess.run(
        [sys.executable, "-m", "engagement_api.cli.main", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=REFUSAL_SECONDS,
    )


@pytest.mark.parametrize(
    "secret",
    [
        None,
        DEVELOPMENT_JWT_SECRET,
        f"{DEVELOPMENT_JWT_SECRET} ",
        "short-secret",
        "a" * 40,
        " " * 40,
    ],
    ids=["unset", "development", "development-and-a-space", "short", "one-character", "blank"],
)
def test_production_refuses_to_start_with_a_weak_secret(
    database_url: str, secret: str | None
) -> None:
    environment = {"ENVIRONMENT": "production"} | ({"JWT_SECRET": secret} if secret else {})
    completed = refused_start(database_url, **environment)
    assert completed.returncode != 0
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert "JWT_SECRET" in lines[0]
    assert completed.stdout == ""


@given(
    environment=st.sampled_from(["development", "production"]),
    secret=st.one_of(
        st.just(DEVELOPMENT_JWT_SECRET),
        st.tuples(st.sampled_from(["", " ", "\t", "\n", "\r\n"]), st.sampled_from(["", " ", "\n"]))
        .filter(any)
        .map(lambda around: around[0] + DEVELOPMENT_JWT_SECRET + around[1]),
        st.text(min_size=1, max_size=80),
        st.text(st.sampled_from("abcdefghij "), min_size=30, max_size=80),
    ),
)
def test_secret_rule_matches_reference(environment: str, secret: str) -> None:
    if secret != secret.strip():  # in every environment, before the production rules
        with pytest.raises(ValidationError) as refused:
            Settings(environment=environment, jwt_secret=secret)  # type: ignore[arg-type]
        assert setting_problems(refused.value) == [
            "invalid setting JWT_SECRET: begins or ends with whitespace (a space, a tab or a"
            " line break): remove it"
        ]
        return
    refused_in_production = environment == "production" and (
        secret == DEVELOPMENT_JWT_SECRET
        or len(secret) < MIN_JWT_SECRET_LENGTH
        or len(set(secret)) < MIN_JWT_SECRET_CHARACTERS
    )
    error = Settings(environment=environment, jwt_secret=secret).startup_error()  # type: ignore[arg-type]
    assert (error is not None) == refused_in_production
    if error is not None:
        assert "JWT_SECRET" in error
        assert "\n" not in error


@given(
    environment=st.sampled_from(["development", "production"]),
    explicit=st.fixed_dictionaries({}, optional={name: st.booleans() for name in PROFILE_SWITCHES}),
)
def test_each_switch_follows_the_profile_unless_set(
    environment: str, explicit: dict[str, bool]
) -> None:
    settings = Settings(environment=environment, **explicit)  # type: ignore[arg-type]
    for name in PROFILE_SWITCHES:
        assert getattr(settings, name) is explicit.get(name, environment == "development")


@pytest.fixture(scope="module")
def production(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(
        database_url,
        tmp_path_factory,
        "production",
        ENVIRONMENT="production",
        JWT_SECRET=GOOD_SECRET,
    )


@pytest.fixture(scope="module")
def production_opted_in(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    log = tmp_path_factory.mktemp("production-opted-in") / "server.log"
    switches = {name.upper(): "true" for name in PROFILE_SWITCHES}
    running = start_server(
        database_url, str(log), ENVIRONMENT="production", JWT_SECRET=GOOD_SECRET, **switches
    )
    yield running
    stop_server(running)


def _graphiql_served(server: RunningServer) -> bool:
    page = httpx.get(server.graphql_url, headers={"accept": "text/html"})
    asset = httpx.get(f"{server.url}/graphiql/graphiql.js")
    assert (page.status_code == 200 and "graphiql" in page.text) is (asset.status_code == 200)
    return asset.status_code == 200


def test_production_serves_no_graphiql(production: RunningServer) -> None:
    assert _graphiql_served(production) is False
    assert httpx.get(production.graphql_url, headers={"accept": "text/html"}).status_code == 404
    assert httpx.get(f"{production.url}/graphiql/vendor/graphiql.min.js").status_code == 404


async def test_production_reports_no_statement_counts(
    world: World, production: RunningServer
) -> None:
    org = await world.organization("Production")
    staff = await world.user(org, Role.STAFF)
    token = mint_token(staff.id, Settings(jwt_secret=GOOD_SECRET))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient() as http:
        response = await http.post(production.graphql_url, json={"query": VIEWER}, headers=headers)
    body = response.json()
    assert body["data"] == {"viewer": {"role": "STAFF"}}
    assert "sqlStatements" not in body.get("extensions", {})


def test_production_refuses_anonymous_introspection(production: RunningServer) -> None:
    body = httpx.post(production.graphql_url, json={"query": INTROSPECTION}).json()
    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


def test_production_turns_each_convenience_on_when_set(production_opted_in: RunningServer) -> None:
    assert _graphiql_served(production_opted_in) is True
    body = httpx.post(production_opted_in.graphql_url, json={"query": INTROSPECTION}).json()
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    assert "sqlStatements" in body["extensions"]


def test_development_profile_is_what_the_suite_runs(server: RunningServer) -> None:
    assert _graphiql_served(server) is True
    body = httpx.post(server.graphql_url, json={"query": INTROSPECTION}).json()
    assert "sqlStatements" in body["extensions"]
