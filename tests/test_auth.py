"""Bearer authentication (domain rules §6): every bad credential is UNAUTHENTICATED."""

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from engagement_api.auth import AuthenticationError, mint_token, verify_token
from engagement_api.db.enums import Role
from engagement_api.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import World

VIEWER = "{ viewer { user { email } role } }"


def _code(body: dict[str, object]) -> object:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    assert errors, body
    return errors[0]["extensions"]["code"]


async def test_valid_token_identifies_the_viewer(world: World, gql: GraphQLClient) -> None:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    data = await gql.data(VIEWER, token=staff.token)
    assert data["viewer"]["role"] == "STAFF"


async def test_missing_token_is_unauthenticated(gql: GraphQLClient) -> None:
    assert _code(await gql.execute(VIEWER)) == "UNAUTHENTICATED"


async def test_malformed_authorization_header_is_unauthenticated(gql: GraphQLClient) -> None:
    response = await gql.http.post(
        gql.url, json={"query": VIEWER}, headers={"Authorization": "Token abc"}
    )
    assert _code(response.json()) == "UNAUTHENTICATED"


async def test_garbage_token_is_unauthenticated(gql: GraphQLClient) -> None:
    assert _code(await gql.execute(VIEWER, token="not-a-jwt")) == "UNAUTHENTICATED"


async def test_expired_token_is_unauthenticated(world: World, gql: GraphQLClient) -> None:
    org = await world.organization()
    staff = await world.user(org)
    expired = mint_token(staff.id, Settings(), lifetime=timedelta(minutes=-5))
    assert _code(await gql.execute(VIEWER, token=expired)) == "UNAUTHENTICATED"


async def test_token_signed_with_another_secret_is_unauthenticated(
    world: World, gql: GraphQLClient
) -> None:
    org = await world.organization()
    staff = await world.user(org)
    forged = mint_token(staff.id, Settings(jwt_secret="another-secret-another-secret-123"))
    assert _code(await gql.execute(VIEWER, token=forged)) == "UNAUTHENTICATED"


async def test_token_without_expiry_is_unauthenticated(world: World, gql: GraphQLClient) -> None:
    org = await world.organization()
    staff = await world.user(org)
    token = jwt.encode({"sub": str(staff.id)}, Settings().jwt_secret, algorithm="HS256")
    assert _code(await gql.execute(VIEWER, token=token)) == "UNAUTHENTICATED"


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("shape", [str, lambda n: f" {n} ", lambda n: True])
async def test_a_time_claim_that_is_no_number_is_unauthenticated(
    world: World, gql: GraphQLClient, claim: str, shape: Any
) -> None:
    """RFC 7519's NumericDate is a JSON number; PyJWT alone takes a string of digits."""
    org = await world.organization()
    staff = await world.user(org)
    now = int(time.time())
    claims: dict[str, Any] = {"sub": str(staff.id), "exp": now + 600, "iat": now, "nbf": now}
    claims[claim] = shape(claims[claim])
    token = jwt.encode(claims, Settings().jwt_secret, algorithm="HS256")
    assert _code(await gql.execute(VIEWER, token=token)) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "claims",
    [{"aud": "an-identity-providers-api"}, {"aud": ["one", "two"]}, {"iss": "https://idp.test"}],
    ids=["audience", "audiences", "issuer"],
)
async def test_issuer_and_audience_claims_are_not_checked_unless_configured(
    world: World, gql: GraphQLClient, claims: dict[str, Any]
) -> None:
    """Domain rules §6: issuer and audience are checked when configured; a token from an
    identity provider carries both."""
    org = await world.organization()
    staff = await world.user(org)
    now = int(time.time())
    claims = {"sub": str(staff.id), "exp": now + 600, "iat": now, **claims}
    token = jwt.encode(claims, Settings().jwt_secret, algorithm="HS256")
    data = await gql.data("{ viewer { user { id } } }", token=token)
    assert data == {"viewer": {"user": {"id": staff.gid}}}


async def test_token_of_unknown_user_is_unauthenticated(gql: GraphQLClient) -> None:
    token = mint_token(uuid.uuid4(), Settings())
    assert _code(await gql.execute(VIEWER, token=token)) == "UNAUTHENTICATED"


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("algorithm", ["none", "HS512"])
async def test_token_with_unexpected_algorithm_is_unauthenticated(
    world: World, gql: GraphQLClient, algorithm: str
) -> None:
    org = await world.organization()
    staff = await world.user(org)
    claims = {"sub": str(staff.id), "exp": datetime.now(UTC) + timedelta(hours=1)}
    key = Settings().jwt_secret if algorithm != "none" else None
    # PyJWT's annotation leaves out None, the only key its "none" algorithm accepts.
    token = jwt.encode(claims, key, algorithm=algorithm)  # type: ignore[arg-type]
    assert _code(await gql.execute(VIEWER, token=token)) == "UNAUTHENTICATED"


def test_a_token_verified_before_is_refused_once_it_expires() -> None:
    settings = Settings(jwt_secret="s" * 40, jwt_leeway_seconds=0)
    user_id = uuid.uuid4()
    # Whole seconds: a lifetime of 1 could end before the first check on a busy machine.
    token = mint_token(user_id, settings, lifetime=timedelta(seconds=3))
    assert verify_token(token, settings) == user_id
    expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expiry - time.time()) + 0.05)
    with pytest.raises(AuthenticationError, match="expired"):
        verify_token(token, settings)


def test_a_token_verified_under_one_secret_is_refused_under_another() -> None:
    settings = Settings(jwt_secret="a" * 40)
    token = mint_token(uuid.uuid4(), settings)
    verify_token(token, settings)
    with pytest.raises(AuthenticationError, match="invalid"):
        verify_token(token, Settings(jwt_secret="b" * 40))
