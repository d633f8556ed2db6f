"""JWT_PUBLIC_KEY is read when the settings are: a key that is no RSA public key PyJWT can
verify with (garbage, a truncated PEM, a private key, a certificate, a key of another type)
is refused at once in one line naming it, in every environment, instead of a server that
starts and then answers every RS256 request with a masked server error. A key that is
accepted verifies the tokens its private key signs."""

import datetime
import os
import subprocess
import uuid
from datetime import UTC, timedelta

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from engagement_api.auth import AuthenticationError, verify_token
from engagement_api.cli.main import setting_problems
from engagement_api.settings import Settings
from tests.conftest import free_port, server_command

PEM = serialization.Encoding.PEM
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo

SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = SIGNING_KEY.public_key().public_bytes(PEM, SPKI).decode()
SHORT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()


def _certificate() -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "id.example.test")])
    now = datetime.datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(SIGNING_KEY.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(SIGNING_KEY, hashes.SHA256())
    )
    return certificate.public_bytes(PEM).decode()


def _private(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, style: str) -> str:
    formats = {
        "pkcs8": serialization.PrivateFormat.PKCS8,
        "traditional": serialization.PrivateFormat.TraditionalOpenSSL,
    }
    return key.private_bytes(PEM, formats[style], serialization.NoEncryption()).decode()


GOOD_KEYS = {
    "spki": PUBLIC_PEM,
    "pkcs1": SIGNING_KEY.public_key().public_bytes(PEM, serialization.PublicFormat.PKCS1).decode(),
    "openssh": SIGNING_KEY.public_key()
    .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    .decode(),
}

BAD_KEYS = {
    "garbage": "not-a-pem",
    "blank": "   ",
    "truncated": PUBLIC_PEM[: len(PUBLIC_PEM) // 2],
    "no-footer": PUBLIC_PEM.replace("-----END PUBLIC KEY-----", ""),
    "no-header": PUBLIC_PEM.replace("-----BEGIN PUBLIC KEY-----", ""),
    "body-only": "".join(PUBLIC_PEM.splitlines()[1:-1]),
    "escaped-newlines": PUBLIC_PEM.replace("\n", "\\n"),
    "corrupted": PUBLIC_PEM.replace(PUBLIC_PEM.splitlines()[1], "A" * 64),
    "private-pkcs8": _private(SIGNING_KEY, "pkcs8"),
    "private-traditional": _private(SIGNING_KEY, "traditional"),
    "private-ec": _private(EC_KEY, "pkcs8"),
    "certificate": _certificate(),
    "ec-public": EC_KEY.public_key().public_bytes(PEM, SPKI).decode(),
    "ed25519-public": ED_KEY.public_key().public_bytes(PEM, SPKI).decode(),
    "ec-openssh": EC_KEY.public_key()
    .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    .decode(),
}

ENVIRONMENTS = ["development", "production"]
SECRET = "jwt-public-key-tests-secret-0123456789abcdef"


def _refusal(**values: object) -> str:
    """The one line the command prints for these settings, which must be refused."""
    with pytest.raises(ValidationError) as refused:
        Settings.model_validate(values)
    problems = setting_problems(refused.value)
    assert len(problems) == 1, problems
    assert "\n" not in problems[0]
    return problems[0]


def _token(key: rsa.RSAPrivateKey) -> tuple[uuid.UUID, str]:
    subject = uuid.uuid4()
    now = datetime.datetime.now(UTC)
    claims = {"sub": str(subject), "iat": now, "exp": now + timedelta(minutes=5)}
    return subject, jwt.encode(claims, key, algorithm="RS256")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("key", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_a_key_that_cannot_verify_rs256_is_refused_in_every_environment(
    environment: str, key: str
) -> None:
    refusal = _refusal(environment=environment, jwt_algorithm="RS256", jwt_public_key=key)
    assert refusal.startswith("invalid setting JWT_PUBLIC_KEY: ")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_rs256_without_a_key_and_hs256_with_one_are_refused(environment: str) -> None:
    missing = _refusal(environment=environment, jwt_algorithm="RS256")
    assert missing.startswith("invalid setting JWT_PUBLIC_KEY: required with JWT_ALGORITHM=RS256")
    unused = _refusal(
        environment=environment, jwt_secret=SECRET, jwt_algorithm="HS256", jwt_public_key=PUBLIC_PEM
    )
    assert unused.startswith("invalid setting JWT_PUBLIC_KEY: ")
    assert "HS256" in unused


def test_the_refusals_say_what_the_key_is() -> None:
    def said(name: str) -> str:
        return _refusal(jwt_algorithm="RS256", jwt_public_key=BAD_KEYS[name])

    assert "private key" in said("private-pkcs8")
    assert "private key" in said("private-ec")
    assert "certificate" in said("certificate")
    assert "EC" in said("ec-public")
    assert "Ed25519" in said("ed25519-public")
    assert "line breaks" in said("escaped-newlines")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("key", GOOD_KEYS.values(), ids=GOOD_KEYS.keys())
def test_an_rsa_public_key_is_accepted_and_verifies_its_tokens(environment: str, key: str) -> None:
    settings = Settings.model_validate(
        {"environment": environment, "jwt_algorithm": "RS256", "jwt_public_key": key}
    )
    assert settings.startup_error() is None
    subject, token = _token(SIGNING_KEY)
    assert verify_token(token, settings) == subject


def test_production_refuses_a_short_rsa_key_that_development_takes() -> None:
    key = SHORT_KEY.public_key().public_bytes(PEM, SPKI).decode()
    development = Settings.model_validate(
        {"environment": "development", "jwt_algorithm": "RS256", "jwt_public_key": key}
    )
    assert development.startup_error() is None
    production = development.model_copy(update={"environment": "production"})
    assert production.startup_error() == (
        "JWT_PUBLIC_KEY is a 1024-bit RSA key: production needs at least 2048 bits."
    )


@given(
    key=st.one_of(
        st.integers(0, len(PUBLIC_PEM)).map(lambda end: PUBLIC_PEM[:end]),
        st.tuples(st.integers(0, len(PUBLIC_PEM) - 1), st.characters()).map(
            lambda at: PUBLIC_PEM[: at[0]] + at[1] + PUBLIC_PEM[at[0] + 1 :]
        ),
        st.text(max_size=200),
    )
)
def test_a_key_is_accepted_only_when_it_verifies_tokens(key: str) -> None:
    """Whatever the value (a cut or altered PEM, any text): refused in one line, or taken
    and then answering every token (valid or refused), never taken and failing requests
    with a server error. (An altered PEM may still be an RSA key, another one.)"""
    try:
        settings = Settings.model_validate({"jwt_algorithm": "RS256", "jwt_public_key": key})
    except ValidationError as refused:
        problems = setting_problems(refused)
    else:
        problems = []
    if problems:
        assert [problem.split(":")[0] for problem in problems] == ["invalid setting JWT_PUBLIC_KEY"]
        return
    subject, token = _token(SIGNING_KEY)
    try:
        assert verify_token(token, settings) == subject
    except AuthenticationError:
        assert key != PUBLIC_PEM


SERVE_REFUSALS = ["garbage", "truncated", "private-pkcs8", "ec-public", "certificate"]


@pytest.mark.parametrize("name", SERVE_REFUSALS)
def test_serve_refuses_a_bad_key_before_starting(database_url: str, name: str) -> None:
    environment = {name: value for name, value in os.environ.items() if name != "JWT_SECRET"} | {
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "production",
        "JWT_ALGORITHM": "RS256",
        "JWT_PUBLIC_KEY": BAD_KEYS[name],
    }
    done = subprocess.run(
        [*server_command(), "serve", "--port", str(free_port())],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("engagement-api: invalid setting JWT_PUBLIC_KEY: ")
    assert len(done.stderr.splitlines()) == 1, done.stderr
