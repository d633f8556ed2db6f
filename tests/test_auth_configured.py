"""Token checks a deployment configures (domain rules §6): issuer and audience when set,
and RS256 with a public key. Each server here runs with one configuration, over HTTP; a
token passes only when it was signed as that configuration says and names what it asks."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient, RunningServer, own_server
from tests.factories import World

VIEWER = "{ viewer { role } }"
SECRET = "configured-auth-tests-secret-0123456789abcdef"
ISSUER, AUDIENCE = "https://id.example.test", "engagement-api"


def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


SIGNING_KEY = _private_key()
PUBLIC_PEM = (
    SIGNING_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def _claims(subject: uuid.UUID, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"sub": str(subject), "iat": now, "exp": now + timedelta(minutes=10), **extra}


@pytest.fixture(scope="module")
def issuer_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(
        database_url,
        tmp_path_factory,
        "issuer",
        JWT_SECRET=SECRET,
        JWT_ISSUER=ISSUER,
        JWT_AUDIENCE=AUDIENCE,
    )


@pytest.fixture(scope="module")
def rs256_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from own_server(
        database_url,
        tmp_path_factory,
        "rs256",
        JWT_SECRET=SECRET,
        JWT_ALGORITHM="RS256",
        JWT_PUBLIC_KEY=PUBLIC_PEM,
    )


async def _answer(server: RunningServer, token: str) -> Any:
    async with httpx.AsyncClient(timeout=30) as http:
        body = await GraphQLClient(http, server.graphql_url).execute(VIEWER, token=token)
    if "errors" in body:
        return body["errors"][0]["extensions"]["code"]
    return body["data"]["viewer"]["role"]


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"iss": ISSUER, "aud": AUDIENCE}, "STAFF"),
        ({"iss": ISSUER, "aud": [AUDIENCE, "another-api"]}, "STAFF"),
        ({"aud": AUDIENCE}, "UNAUTHENTICATED"),
        ({"iss": ISSUER}, "UNAUTHENTICATED"),
        ({"iss": "https://elsewhere.test", "aud": AUDIENCE}, "UNAUTHENTICATED"),
        ({"iss": ISSUER, "aud": "another-api"}, "UNAUTHENTICATED"),
    ],
    ids=["both", "audience-list", "no-issuer", "no-audience", "wrong-issuer", "wrong-audience"],
)
async def test_configured_issuer_and_audience_are_required(
    world: World, issuer_server: RunningServer, claims: dict[str, str], expected: str
) -> None:
    staff = await world.user(await world.organization(), Role.STAFF)
    token = jwt.encode(_claims(staff.id, **claims), SECRET, algorithm="HS256")
    assert await _answer(issuer_server, token) == expected


async def test_rs256_accepts_the_key_pairs_tokens_and_no_other(
    world: World, rs256_server: RunningServer
) -> None:
    staff = await world.user(await world.organization(), Role.STAFF)
    signed = jwt.encode(_claims(staff.id), SIGNING_KEY, algorithm="RS256")
    assert await _answer(rs256_server, signed) == "STAFF"
    other_key = jwt.encode(_claims(staff.id), _private_key(), algorithm="RS256")
    assert await _answer(rs256_server, other_key) == "UNAUTHENTICATED"
    with_secret = jwt.encode(_claims(staff.id), SECRET, algorithm="HS256")
    assert await _answer(rs256_server, with_secret) == "UNAUTHENTICATED"
